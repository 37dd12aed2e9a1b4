package forecast

import (
	"math/rand/v2"
	"testing"
)

// benchmarkSeries is three years of daily streams with a weekly pattern.
func benchmarkSeries() []Point {
	rng := rand.New(rand.NewPCG(7, 7))
	p := process{level: 5000, trendPerPeriod: 3, season: sinSeason(7, 0.15, true), multiplicative: true, noiseSD: 150}
	return dailyPoints(p.draw(1095, rng))
}

func BenchmarkForecastDaily3Years(b *testing.B) {
	pts := benchmarkSeries()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compute(pts, Options{HorizonPeriods: 30}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestLikelihoodLoopDoesNotAllocate guards the cost the benchmark measures:
// the optimiser calls the objective hundreds of times per model.
func TestLikelihoodLoopDoesNotAllocate(t *testing.T) {
	s, err := newSeries(benchmarkSeries())
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range everyETS() {
		f := newETSFitter(m, s.values, 7)
		u := f.defaultStart()
		if allocs := testing.AllocsPerRun(20, func() { f.objective(u) }); allocs != 0 {
			t.Errorf("%s: %v allocations per likelihood evaluation", m, allocs)
		}
	}
}

func BenchmarkLikelihoodDaily3Years(b *testing.B) {
	s, _ := newSeries(benchmarkSeries())
	f := newETSFitter(ETS(ErrorMultiplicative, TrendDamped, SeasonMultiplicative), s.values, 7)
	u := f.defaultStart()
	for b.Loop() {
		f.objective(u)
	}
}
