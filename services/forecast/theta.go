package forecast

import "math"

// thetaModel is the Theta method fitted to a (seasonally adjusted) series.
//
// Assimakopoulos & Nikolopoulos (2000); Hyndman & Billah (2003) show its
// forecasts equal simple exponential smoothing with a drift of half the
// slope of a linear regression on time:
//
//	x̂_{t+h|t} = ℓ_t + b (h − 1 + 1/α − (1−α)^t / α),  b = slope / 2,
//
// with ℓ_t and α from SES (ETS(A,N,N)) fitted by maximum likelihood.
// Seasonality, when detected, is removed first by classical multiplicative
// decomposition and put back on the forecasts; a series that is not
// strictly positive is adjusted additively instead.
type thetaModel struct {
	m     int
	index []float64 // seasonal indices by position; nil when not adjusted
	mult  bool
	ses   *etsModel // SES on the adjusted series
	drift float64
	n     int
}

func thetaMinPoints(seasonal bool, m int) int {
	if seasonal {
		return max(2*m, 7)
	}
	return 7
}

func fitTheta(y []float64, m int, seasonal, positive bool, warm *thetaModel) (*thetaModel, bool) {
	if len(y) < thetaMinPoints(seasonal, m) {
		return nil, false
	}
	th := &thetaModel{m: m, n: len(y), mult: positive}
	adj := y
	if seasonal {
		th.index = classicalSeasonal(y, m, positive)
		if th.index != nil {
			adj = make([]float64, len(y))
			for i, v := range y {
				adj[i] = th.deseason(v, i)
			}
		}
	}
	f := newETSFitter(ETS(ErrorAdditive, TrendNone, SeasonNone), adj, 1)
	var start []float64
	if warm != nil {
		start = f.encode(&warm.ses.p)
	}
	ses, ok := f.fit(start, 300)
	if !ok {
		return nil, false
	}
	th.ses = ses
	_, slope := linearFit(adj)
	th.drift = slope / 2
	return th, true
}

func (th *thetaModel) deseason(v float64, i int) float64 {
	if th.index == nil {
		return v
	}
	if th.mult {
		return v / th.index[i%th.m]
	}
	return v - th.index[i%th.m]
}

func (th *thetaModel) reseason(v float64, i int) float64 {
	if th.index == nil {
		return v
	}
	if th.mult {
		return v * th.index[i%th.m]
	}
	return v + th.index[i%th.m]
}

// adjustedForecast writes x̂_{t+h|t} on the adjusted scale for t observed
// points and SES level level.
func (th *thetaModel) adjustedForecast(level float64, t int, out []float64) {
	a := th.ses.p.alpha
	tail := 1/a - math.Pow(1-a, float64(t))/a
	for h := range out {
		out[h] = level + th.drift*(float64(h)+tail)
	}
}

// forecast writes point forecasts and, when var80/95 are given, the ANN
// forecast variance (Hyndman et al. 2008, Table 6.1: σ²[1+(h−1)α²]) put
// back on the data's scale.
func (th *thetaModel) forecast(horizon int) (point, lo80, hi80, lo95, hi95 []float64) {
	point = make([]float64, horizon)
	lo80, hi80 = make([]float64, horizon), make([]float64, horizon)
	lo95, hi95 = make([]float64, horizon), make([]float64, horizon)
	adj := make([]float64, horizon)
	th.adjustedForecast(th.ses.final.level, th.n, adj)
	a := th.ses.p.alpha
	for h := range adj {
		sd := math.Sqrt(th.ses.sigma2 * (1 + float64(h)*a*a))
		i := th.n + h
		point[h] = th.reseason(adj[h], i)
		lo80[h], hi80[h] = th.reseason(adj[h]-z80*sd, i), th.reseason(adj[h]+z80*sd, i)
		lo95[h], hi95[h] = th.reseason(adj[h]-z95*sd, i), th.reseason(adj[h]+z95*sd, i)
	}
	return
}

// roll forecasts h steps from each origin n0, n0+1, … n0+k-1 of y, keeping
// the parameters fitted on y[:n0] and updating only the SES level.
func (th *thetaModel) roll(y []float64, k, h int) [][]float64 {
	out := make([][]float64, k)
	st := etsState{level: th.ses.final.level}
	one := make([]float64, 1)
	for i := range k {
		o := th.n + i
		f := make([]float64, h)
		th.adjustedForecast(st.level, o, f)
		for j := range f {
			f[j] = th.reseason(f[j], o+j)
		}
		out[i] = f
		one[0] = th.deseason(y[o], o)
		etsRun(th.ses.spec, &th.ses.p, one, &st)
	}
	return out
}

// snaiveModel is the seasonal naive method: ŷ_{t+h|t} = y_{t+h−m(k+1)},
// k = ⌊(h−1)/m⌋ (fpp3 §5.2), with forecast variance σ²(k+1) (fpp3 Table
// 5.2), σ² the mean squared seasonal difference.
type snaiveModel struct {
	m      int
	y      []float64
	sigma2 float64
}

func snaiveMinPoints(m int) int { return m + 2 }

func fitSNaive(y []float64, m int) (*snaiveModel, bool) {
	if len(y) < snaiveMinPoints(m) {
		return nil, false
	}
	ss := 0.0
	for t := m; t < len(y); t++ {
		d := y[t] - y[t-m]
		ss += d * d
	}
	return &snaiveModel{m: m, y: y, sigma2: ss / float64(len(y)-m)}, true
}

func (s *snaiveModel) pointsFrom(t, h int) []float64 {
	out := make([]float64, h)
	for j := range out {
		k := j / s.m
		out[j] = s.y[t+j-s.m*(k+1)]
	}
	return out
}

func (s *snaiveModel) forecast(horizon int) (point, lo80, hi80, lo95, hi95 []float64) {
	point = s.pointsFrom(len(s.y), horizon)
	lo80, hi80 = make([]float64, horizon), make([]float64, horizon)
	lo95, hi95 = make([]float64, horizon), make([]float64, horizon)
	for h := range point {
		sd := math.Sqrt(s.sigma2 * float64(h/s.m+1))
		lo80[h], hi80[h] = point[h]-z80*sd, point[h]+z80*sd
		lo95[h], hi95[h] = point[h]-z95*sd, point[h]+z95*sd
	}
	return
}

const (
	z80 = 1.2815515655446004 // standard normal 90% quantile
	z95 = 1.959963984540054  // standard normal 97.5% quantile
)
