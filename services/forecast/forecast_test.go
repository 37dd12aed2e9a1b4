package forecast

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func seasonalMonthly(n int, seed uint64) []Point {
	rng := rand.New(rand.NewPCG(seed, 1))
	return monthlyPoints(process{level: 300, trendPerPeriod: 2, season: sinSeason(12, 0.2, true), multiplicative: true, noiseSD: 8}.draw(n, rng))
}

func everyETS() []Model {
	var ms []Model
	for _, e := range []ErrorType{ErrorAdditive, ErrorMultiplicative} {
		for _, tr := range []TrendType{TrendNone, TrendAdditive, TrendDamped} {
			for _, s := range []SeasonType{SeasonNone, SeasonAdditive, SeasonMultiplicative} {
				ms = append(ms, ETS(e, tr, s))
			}
		}
	}
	return ms
}

func checkWellFormed(t *testing.T, res *Result, horizon int) {
	t.Helper()
	require.Len(t, res.Points, horizon)
	for _, p := range res.Points {
		for _, v := range []float64{p.Value, p.Lower80, p.Upper80, p.Lower95, p.Upper95} {
			require.False(t, math.IsNaN(v) || math.IsInf(v, 0), "finite forecast values")
		}
		assert.LessOrEqual(t, p.Lower95, p.Lower80+1e-9)
		assert.LessOrEqual(t, p.Lower80, p.Value+1e-9)
		assert.LessOrEqual(t, p.Value, p.Upper80+1e-9)
		assert.LessOrEqual(t, p.Upper80, p.Upper95+1e-9)
	}
	require.Len(t, res.Scenarios, 3)
	for _, s := range res.Scenarios {
		assert.NotEmpty(t, s.Meaning)
		assert.Len(t, s.Values, horizon)
	}
	_, err := json.Marshal(res)
	require.NoError(t, err, "JSON-encodable: no NaN or Inf anywhere")
}

func TestEveryModelAloneGivesAWellFormedForecast(t *testing.T) {
	pts := seasonalMonthly(60, 3)
	for _, m := range append(everyETS(), Theta, SeasonalNaive) {
		t.Run(m.String(), func(t *testing.T) {
			res, err := Compute(pts, Options{HorizonPeriods: 18, Models: []Model{m}})
			require.NoError(t, err)
			assert.Equal(t, m.String(), res.Model)
			assert.Equal(t, "the only model allowed", res.Selection)
			checkWellFormed(t, res, 18)
			assert.Equal(t, date(2028, 1, 1), res.Points[0].Date)
			assert.Equal(t, date(2029, 6, 1), res.Points[17].Date)
			if m.Method == MethodETS {
				require.NotNil(t, res.AICc)
				require.NotNil(t, res.Params.Alpha)
				assert.Equal(t, m.Trend != TrendNone, res.Params.Beta != nil)
				assert.Equal(t, m.Trend == TrendDamped, res.Params.Phi != nil)
				assert.Equal(t, m.Season != SeasonNone, res.Params.Gamma != nil)
				if m.Error == ErrorAdditive && m.Season != SeasonMultiplicative {
					assert.Contains(t, res.IntervalMethod, "analytic")
				} else {
					assert.Contains(t, res.IntervalMethod, "simulated: 1000 sample paths")
				}
			}
		})
	}
}

func TestParametersStayInTheAdmissibleRegion(t *testing.T) {
	pts := seasonalMonthly(72, 9)
	for _, m := range everyETS() {
		res, err := Compute(pts, Options{HorizonPeriods: 3, Models: []Model{m}})
		require.NoError(t, err, m.String())
		p := res.Params
		a := *p.Alpha
		assert.True(t, a > 0 && a < 1, "0<α<1 for %s", m)
		if p.Beta != nil {
			assert.True(t, *p.Beta > 0 && *p.Beta < a, "0<β<α for %s", m)
		}
		if p.Gamma != nil {
			assert.True(t, *p.Gamma > 0 && *p.Gamma < 1-a, "0<γ<1-α for %s", m)
		}
		if p.Phi != nil {
			assert.True(t, *p.Phi >= 0.8 && *p.Phi <= 0.98, "0.8≤φ≤0.98 for %s", m)
		}
	}
}

func TestFitDampedTrend(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	y := etsPath(rng, 200, 100, 1, 0.3, 0.05, 2, false)
	res, err := FitDampedTrend(dailyPoints(y), 30)
	require.NoError(t, err)
	assert.Equal(t, "ETS(A,Ad,N)", res.Model)
	require.NotNil(t, res.Params.Phi)
	assert.Nil(t, res.Params.Gamma)
	assert.Contains(t, res.IntervalMethod, "analytic")
	checkWellFormed(t, res, 30)
	// Intervals widen with the horizon.
	assert.Greater(t, res.Points[29].Upper95-res.Points[29].Lower95, res.Points[0].Upper95-res.Points[0].Lower95)
}

func TestSelectionReportsCandidatesAndBacktest(t *testing.T) {
	res, err := Compute(seasonalMonthly(96, 4), Options{HorizonPeriods: 12})
	require.NoError(t, err)
	checkWellFormed(t, res, 12)
	assert.True(t, res.Seasonality.Detected)
	assert.Equal(t, 12, res.Seasonality.Period)
	assert.Len(t, res.Candidates, 17)
	names := map[string]bool{}
	backtested := 0
	for _, c := range res.Candidates {
		names[c.Model] = true
		if c.Backtest != nil {
			backtested++
			require.NotNil(t, c.Backtest.MASE)
			require.NotNil(t, c.Backtest.MAPE)
			assert.Equal(t, 12, c.Backtest.HorizonPeriods)
			assert.Equal(t, 96-12-c.Backtest.Origins+1, c.Backtest.TrainingPoints)
		}
	}
	assert.True(t, names["ETS(M,Ad,M)"] && names["Theta"] && names["SNaive"])
	assert.Equal(t, 3, backtested, "the ETS winner, Theta and seasonal naive")
	require.NotNil(t, res.Backtest)
	require.NotNil(t, res.AICc)
}

func TestNonPositiveDataSkipsMultiplicativeModels(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	y := process{level: 0, trendPerPeriod: 0.1, season: sinSeason(7, 5, false), noiseSD: 1}.draw(120, rng)
	res, err := Compute(dailyPoints(y), Options{HorizonPeriods: 7})
	require.NoError(t, err)
	checkWellFormed(t, res, 7)
	for _, c := range res.Candidates {
		if m, _ := ParseModel(c.Model); m.multiplicative() {
			assert.Equal(t, "needs strictly positive data", c.Skipped, c.Model)
		}
	}

	_, err = Compute(dailyPoints(y), Options{HorizonPeriods: 7, Models: []Model{ETS(ErrorMultiplicative, TrendNone, SeasonNone)}})
	var e *NoModelError
	require.ErrorAs(t, err, &e)
}

func TestTooFewPointsSaysHowManyAreNeeded(t *testing.T) {
	tests := []struct {
		name   string
		n      int
		models []Model
		need   int
	}{
		{"all models", 5, nil, 7},                                                        // ETS(A,N,N): α, ℓ0, σ² + 4; Theta likewise
		{"damped trend", 8, []Model{DampedTrend}, 10},                                    // α, β, φ, ℓ0, b0, σ² + 4
		{"seasonal naive", 8, []Model{SeasonalNaive}, 9},                                 // a week and two more days
		{"seasonal ETS", 12, []Model{ETS(ErrorAdditive, TrendNone, SeasonAdditive)}, 14}, // two weeks
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			y := make([]float64, tc.n)
			for i := range y {
				y[i] = float64(10 + i%3)
			}
			_, err := Compute(dailyPoints(y), Options{HorizonPeriods: 3, Models: tc.models})
			var e *InsufficientDataError
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tc.need, e.Need)
			assert.Equal(t, tc.n, e.Have)
		})
	}
}

func TestConstantSeries(t *testing.T) {
	for _, c := range []float64{0, 42} {
		y := make([]float64, 60)
		for i := range y {
			y[i] = c
		}
		res, err := Compute(dailyPoints(y), Options{HorizonPeriods: 10})
		require.NoError(t, err)
		checkWellFormed(t, res, 10)
		assert.False(t, res.Seasonality.Detected)
		for _, p := range res.Points {
			assert.InDelta(t, c, p.Value, 1e-6)
			assert.InDelta(t, c, p.Upper95, 1e-3)
		}
		require.NotNil(t, res.Backtest)
		assert.Nil(t, res.Backtest.MASE, "no seasonal naive scale to divide by")
	}
}

func TestOptionsAreValidated(t *testing.T) {
	pts := seasonalMonthly(40, 1)
	for _, h := range []int{0, -1, MaxHorizonPeriods + 1} {
		_, err := Compute(pts, Options{HorizonPeriods: h})
		var e *OptionsError
		require.ErrorAs(t, err, &e)
	}
	_, err := Compute(pts, Options{HorizonPeriods: 3, Models: []Model{{Method: MethodETS}}})
	var u *UnknownModelError
	require.ErrorAs(t, err, &u)
}

func TestParseModel(t *testing.T) {
	for _, m := range append(everyETS(), Theta, SeasonalNaive) {
		got, err := ParseModel(m.String())
		require.NoError(t, err)
		assert.Equal(t, m, got)
	}
	got, err := ParseModel("ets(a, ad, n)")
	require.NoError(t, err)
	assert.Equal(t, DampedTrend, got)
	_, err = ParseModel("ETS(A,M,N)")
	var u *UnknownModelError
	require.ErrorAs(t, err, &u)
}

func TestSameSeedSameAnswer(t *testing.T) {
	pts := seasonalMonthly(60, 2)
	opts := Options{HorizonPeriods: 6, Models: []Model{ETS(ErrorMultiplicative, TrendAdditive, SeasonMultiplicative)}}
	a, err := Compute(pts, opts)
	require.NoError(t, err)
	b, err := Compute(pts, opts)
	require.NoError(t, err)
	assert.Equal(t, a, b)
}

// TestSimulationAgreesWithAnalyticVariance checks the two interval methods
// against each other on a linear model, where both apply.
func TestSimulationAgreesWithAnalyticVariance(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	y := etsPath(rng, 300, 100, 0.5, 0.4, 0.1, 3, false)
	spec := ETS(ErrorAdditive, TrendDamped, SeasonNone)
	mod, ok := newETSFitter(spec, y, 7).fit(nil, 1000)
	require.True(t, ok)
	const H = 20
	v := make([]float64, H)
	mod.analyticVariance(v)
	paths := mod.simulate(H, 20000, rand.New(rand.NewPCG(1, 1)))
	for h, p := range paths {
		slices.Sort(p)
		_, sd := meanSD(p)
		assert.InEpsilon(t, math.Sqrt(v[h]), sd, 0.03, "h=%d", h+1)
	}
}

func TestWeeklySeasonalSeries(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 11))
	y := process{level: 1000, trendPerPeriod: 1, season: sinSeason(52, 150, false), noiseSD: 20}.draw(160, rng)
	pts := make([]Point, len(y))
	for i, v := range y {
		pts[i] = Point{Date: day0.AddDate(0, 0, 7*i), Value: v}
	}
	res, err := Compute(pts, Options{HorizonPeriods: 26})
	require.NoError(t, err)
	assert.Equal(t, "weekly", res.Frequency)
	assert.Equal(t, 52, res.SeasonalPeriod)
	checkWellFormed(t, res, 26)
	assert.Equal(t, day0.AddDate(0, 0, 7*160), res.Points[0].Date)
}

// TestNoPanicOnAwkwardInput feeds extreme and degenerate series.
func TestNoPanicOnAwkwardInput(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 13))
	gens := map[string]func(i int) float64{
		"huge":        func(i int) float64 { return 1e300 * (1 + 0.1*rng.Float64()) },
		"tiny":        func(i int) float64 { return 1e-300 * (1 + rng.Float64()) },
		"alternating": func(i int) float64 { return float64(i%2) * 1e6 },
		"spike":       func(i int) float64 { return map[bool]float64{true: 1e12, false: 1}[i == 20] },
		"negative":    func(i int) float64 { return -float64(i * i) },
		"mixed signs": func(i int) float64 { return rng.NormFloat64() * 1e3 },
		"exponential": func(i int) float64 { return math.Exp(float64(i) / 3) },
	}
	for name, g := range gens {
		for _, n := range []int{2, 7, 9, 15, 30, 100} {
			y := make([]float64, n)
			for i := range y {
				y[i] = g(i)
			}
			assert.NotPanics(t, func() {
				res, err := Compute(dailyPoints(y), Options{HorizonPeriods: 14})
				if err == nil {
					_, jerr := json.Marshal(res)
					assert.NoError(t, jerr, "%s n=%d", name, n)
				}
			}, "%s n=%d", name, n)
		}
	}
}
