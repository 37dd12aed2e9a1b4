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
