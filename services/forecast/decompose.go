package forecast

import "math"

// classicalSeasonal returns seasonal indices by position (index i applies to
// observations i, i+m, i+2m, …) from a classical decomposition of y.
//
// Classical decomposition (Hyndman & Athanasopoulos, fpp3 §3.4): a centred
// moving average of order m (2×m when m is even) estimates the trend; the
// detrended values (y − T, or y / T when multiplicative) are averaged by
// season and normalised to sum 0 (or m). Needs len(y) ≥ 2m; returns nil if
// not, or if a multiplicative trend estimate is not positive.
func classicalSeasonal(y []float64, m int, multiplicative bool) []float64 {
	n := len(y)
	if m < 2 || n < 2*m {
		return nil
	}
	half := m / 2
	sum := make([]float64, m)
	cnt := make([]int, m)
	for t := half; t < n-half; t++ {
		var trend float64
		if m%2 == 0 {
			// 2×m-MA: weights 1/2m at both ends, 1/m inside.
			s := 0.5*y[t-half] + 0.5*y[t+half]
			for k := t - half + 1; k < t+half; k++ {
				s += y[k]
			}
			trend = s / float64(m)
		} else {
			s := 0.0
			for k := t - half; k <= t+half; k++ {
				s += y[k]
			}
			trend = s / float64(m)
		}
		var d float64
		if multiplicative {
			if trend <= 0 {
				return nil
			}
			d = y[t] / trend
		} else {
			d = y[t] - trend
		}
		sum[t%m] += d
		cnt[t%m]++
	}
	idx := make([]float64, m)
	total := 0.0
	for i := range idx {
		if cnt[i] == 0 {
			return nil
		}
		idx[i] = sum[i] / float64(cnt[i])
		total += idx[i]
	}
	mean := total / float64(m)
	for i := range idx {
		if multiplicative {
			if mean <= 0 {
				return nil
			}
			idx[i] /= mean
		} else {
			idx[i] -= mean
		}
	}
	return idx
}

// heuristicInit gives starting initial states for an ETS model.
//
// Hyndman et al. (2008), §2.6.1: seasonal states from a classical
// decomposition of the first few (up to four) cycles; ℓ0 and b0 from a
// linear regression on the first max(10, 2m) seasonally adjusted values
// (ℓ0 their mean when there is no trend).
func heuristicInit(spec Model, y []float64, m int) etsParams {
	var p etsParams
	mult := spec.Season == SeasonMultiplicative
	adj := y
	if spec.Season != SeasonNone {
		cycles := min(len(y)/m, 4)
		idx := classicalSeasonal(y[:cycles*m], m, mult)
		if idx == nil {
			idx = make([]float64, m)
			if mult {
				for i := range idx {
					idx[i] = 1
				}
			}
		}
		p.season0 = idx
		adj = make([]float64, len(y))
		for i, v := range y {
			if mult {
				adj[i] = v / idx[i%m]
			} else {
				adj[i] = v - idx[i%m]
			}
		}
	}
	k := min(len(adj), max(10, 2*m))
	if spec.Season == SeasonNone {
		k = min(len(adj), 10)
	}
	head := adj[:k]
	if spec.Trend == TrendNone {
		p.level0, _ = meanSD(head)
		return p
	}
	a, b := linearFit(head)
	// The regression is on t = 1..k, so the intercept is the level at t = 0.
	p.level0, p.trend0 = a, b
	return p
}

// linearFit regresses y on t = 1..n by least squares: y ≈ a + b t.
func linearFit(y []float64) (a, b float64) {
	n := float64(len(y))
	if len(y) == 0 {
		return 0, 0
	}
	if len(y) == 1 {
		return y[0], 0
	}
	tMean := (n + 1) / 2
	yMean, _ := meanSD(y)
	var sxy, sxx float64
	for i, v := range y {
		dt := float64(i+1) - tMean
		sxy += dt * (v - yMean)
		sxx += dt * dt
	}
	b = sxy / sxx
	return yMean - b*tMean, b
}

// Seasonality is the outcome of the seasonality test.
type Seasonality struct {
	Detected bool `json:"detected"`
	Period   int  `json:"period"`
	// Statistic is |r_m| / sqrt((1 + 2 Σ_{k<m} r_k²) / n); Threshold 1.645.
	Statistic float64 `json:"statistic"`
	Threshold float64 `json:"threshold"`
	Test      string  `json:"test"`
}

// seasonalityTestName states the test in the answer.
const seasonalityTestName = "autocorrelation at lag m beyond 1.645·sqrt((1+2Σ_{k<m} r_k²)/n) (90% two-sided, Bartlett's variance; Theta method M3 practice)"

// detectSeasonality tests for seasonality of period m.
//
// Assimakopoulos & Nikolopoulos (2000) as applied to M3 (and R's
// forecast::thetaf): seasonal when |r_m| > 1.645·sqrt((1 + 2 Σ_{k=1}^{m-1}
// r_k²)/n), r_k the sample autocorrelation at lag k (Bartlett's formula for
// its standard error). Needs n ≥ 2m; a constant series is not seasonal.
func detectSeasonality(y []float64, m int) Seasonality {
	s := Seasonality{Period: m, Threshold: 1.645, Test: seasonalityTestName}
	n := len(y)
	if m < 2 || n < 2*m {
		return s
	}
	mean, sd := meanSD(y)
	if sd == 0 || math.IsNaN(sd) {
		return s
	}
	denom := sd * sd * float64(n)
	acf := func(k int) float64 {
		c := 0.0
		for t := k; t < n; t++ {
			c += (y[t] - mean) * (y[t-k] - mean)
		}
		return c / denom
	}
	sum := 0.0
	for k := 1; k < m; k++ {
		r := acf(k)
		sum += r * r
	}
	s.Statistic = math.Abs(acf(m)) / math.Sqrt((1+2*sum)/float64(n))
	s.Detected = s.Statistic > s.Threshold
	return s
}
