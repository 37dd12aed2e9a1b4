package forecast

import (
	"math"
	"math/rand/v2"
	"time"
)

// process is a known generating process: level + trend·t + a seasonal
// pattern (additive or multiplicative) + Gaussian noise.
type process struct {
	level, trendPerPeriod float64
	season                []float64 // additive offsets or multiplicative factors; nil: none
	multiplicative        bool
	noiseSD               float64
}

// mean is the process's expected value at period t (0-based): the oracle
// forecast.
func (p process) mean(t int) float64 {
	v := p.level + p.trendPerPeriod*float64(t)
	if p.season != nil {
		if p.multiplicative {
			v *= p.season[t%len(p.season)]
		} else {
			v += p.season[t%len(p.season)]
		}
	}
	return v
}

func (p process) draw(n int, rng *rand.Rand) []float64 {
	y := make([]float64, n)
	for t := range y {
		y[t] = p.mean(t) + p.noiseSD*rng.NormFloat64()
	}
	return y
}

func sinSeason(m int, amp float64, mult bool) []float64 {
	s := make([]float64, m)
	for i := range s {
		v := amp * math.Sin(2*math.Pi*float64(i)/float64(m))
		if mult {
			v += 1
		}
		s[i] = v
	}
	return s
}

var day0 = time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)

func dailyPoints(y []float64) []Point {
	pts := make([]Point, len(y))
	for i, v := range y {
		pts[i] = Point{Date: day0.AddDate(0, 0, i), Value: v}
	}
	return pts
}

func monthlyPoints(y []float64) []Point {
	pts := make([]Point, len(y))
	for i, v := range y {
		pts[i] = Point{Date: day0.AddDate(0, i, 0), Value: v}
	}
	return pts
}
