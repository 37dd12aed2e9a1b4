package forecast

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// accuracyCase is a family of series drawn from one process.
type accuracyCase struct {
	name           string
	proc           process
	m              int
	trainPeriods   int
	horizonPeriods int
	monthly        bool
}

var accuracyCases = []accuracyCase{
	{"monthly, trend + additive season", process{level: 200, trendPerPeriod: 1.5, season: sinSeason(12, 25, false), noiseSD: 6}, 12, 120, 12, true},
	{"monthly, trend + multiplicative season", process{level: 300, trendPerPeriod: 2, season: sinSeason(12, 0.2, true), multiplicative: true, noiseSD: 8}, 12, 144, 12, true},
	{"daily, trend + weekly season", process{level: 1000, trendPerPeriod: 0.8, season: sinSeason(7, 120, false), noiseSD: 30}, 7, 365, 28, false},
	{"daily, trend only", process{level: 500, trendPerPeriod: 0.5, noiseSD: 20}, 7, 365, 28, false},
}

// mase scales the mean absolute error by the in-sample seasonal naive MAE
// (Hyndman & Koehler 2006).
func mase(train, actual, fc []float64, m int) float64 {
	scale := 0.0
	for t := m; t < len(train); t++ {
		scale += math.Abs(train[t] - train[t-m])
	}
	scale /= float64(len(train) - m)
	mae := 0.0
	for i := range actual {
		mae += math.Abs(actual[i] - fc[i])
	}
	return mae / float64(len(actual)) / scale
}

// TestAccuracyAgainstNaiveAndOracle compares, out of sample, the chosen
// model's MASE with seasonal naive's and with the generating process's own
// mean (the oracle), averaged over series drawn with fixed seeds.
func TestAccuracyAgainstNaiveAndOracle(t *testing.T) {
	seriesPerCase := 12
	if testing.Short() {
		seriesPerCase = 4
	}
	var setChosen, setOracle float64
	for ci, tc := range accuracyCases {
		t.Run(tc.name, func(t *testing.T) {
			var chosen, naive, oracle float64
			models := map[string]int{}
			for k := range seriesPerCase {
				rng := rand.New(rand.NewPCG(uint64(100*ci+k), 42))
				all := tc.proc.draw(tc.trainPeriods+tc.horizonPeriods, rng)
				train, test := all[:tc.trainPeriods], all[tc.trainPeriods:]
				pts := dailyPoints(train)
				if tc.monthly {
					pts = monthlyPoints(train)
				}
				res, err := Compute(pts, Options{HorizonPeriods: tc.horizonPeriods})
				require.NoError(t, err)
				models[res.Model]++
				fc := make([]float64, len(test))
				for i, p := range res.Points {
					fc[i] = p.Value
				}
				sn, _ := fitSNaive(train, tc.m)
				snFc, _, _, _, _ := sn.forecast(tc.horizonPeriods)
				or := make([]float64, len(test))
				for i := range or {
					or[i] = tc.proc.mean(tc.trainPeriods + i)
				}
				chosen += mase(train, test, fc, tc.m)
				naive += mase(train, test, snFc, tc.m)
				oracle += mase(train, test, or, tc.m)
			}
			n := float64(seriesPerCase)
			chosen, naive, oracle = chosen/n, naive/n, oracle/n
			t.Logf("mean MASE over %d series: chosen %.3f, seasonal naive %.3f, oracle %.3f (chosen/oracle %.3f); models %v",
				seriesPerCase, chosen, naive, oracle, chosen/oracle, models)
			assert.Less(t, chosen, naive, "beats seasonal naive")
			setChosen += chosen
			setOracle += oracle
		})
	}
	t.Logf("over the set: chosen/oracle mean MASE %.3f", setChosen/setOracle)
	assert.LessOrEqual(t, setChosen, 1.10*setOracle, "within 10% of the oracle over the set")
}

// TestIntervalCoverage checks that the 80% and 95% intervals cover future
// values drawn from the generating process about as often as they say.
func TestIntervalCoverage(t *testing.T) {
	cases := []struct {
		name    string
		draw    func(rng *rand.Rand, n int) []float64
		n, h    int
		monthly bool
		models  []Model
	}{
		{"deterministic trend + season (all models)", func(rng *rand.Rand, n int) []float64 {
			return accuracyCases[0].proc.draw(n, rng)
		}, 120, 12, true, nil},
		{"local level, ETS(A,N,N) process", func(rng *rand.Rand, n int) []float64 {
			return etsPath(rng, n, 100, 0, 0.4, 0, 5, false)
		}, 200, 14, false, nil},
		{"local trend, multiplicative errors (simulated intervals)", func(rng *rand.Rand, n int) []float64 {
			return etsPath(rng, n, 5000, 5, 0.3, 0.005, 0.02, true)
		}, 200, 14, false, []Model{ETS(ErrorMultiplicative, TrendAdditive, SeasonNone)}},
	}
	seriesPerCase := 150
	if testing.Short() {
		seriesPerCase = 80
	}
	for ci, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var in80, in95, total int
			for k := range seriesPerCase {
				rng := rand.New(rand.NewPCG(uint64(1000*ci+k), 7))
				all := tc.draw(rng, tc.n+tc.h)
				pts := dailyPoints(all[:tc.n])
				if tc.monthly {
					pts = monthlyPoints(all[:tc.n])
				}
				res, err := Compute(pts, Options{HorizonPeriods: tc.h, Models: tc.models, Seed: uint64(k + 1)})
				require.NoError(t, err)
				for i, p := range res.Points {
					a := all[tc.n+i]
					total++
					if a >= p.Lower80 && a <= p.Upper80 {
						in80++
					}
					if a >= p.Lower95 && a <= p.Upper95 {
						in95++
					}
				}
			}
			c80 := 100 * float64(in80) / float64(total)
			c95 := 100 * float64(in95) / float64(total)
			t.Logf("coverage over %d future values: 80%% interval %.1f%%, 95%% interval %.1f%%", total, c80, c95)
			assert.InDelta(t, 80, c80, 5, "80% coverage")
			assert.InDelta(t, 95, c95, 5, "95% coverage")
		})
	}
}

// etsPath draws from ETS(A,A,N) (or ETS(M,A,N) when mult): level ℓ0, trend
// b0, smoothing α, β, innovation sd (relative when mult).
func etsPath(rng *rand.Rand, n int, l, b, alpha, beta, sd float64, mult bool) []float64 {
	y := make([]float64, n)
	for t := range y {
		mu := l + b
		e := sd * rng.NormFloat64()
		if mult {
			e *= mu
		}
		y[t] = mu + e
		l = mu + alpha*e
		b += beta * e
	}
	return y
}

func ExampleCompute() {
	rng := rand.New(rand.NewPCG(1, 2))
	y := process{level: 300, trendPerPeriod: 2, season: sinSeason(12, 0.2, true), multiplicative: true, noiseSD: 8}.draw(72, rng)
	res, err := Compute(monthlyPoints(y), Options{HorizonPeriods: 3})
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Frequency, res.SeasonalPeriod, res.Seasonality.Detected, len(res.Points), res.Points[0].Date.Format("2006-01-02"))
	// Output: monthly 12 true 3 2029-01-01
}
