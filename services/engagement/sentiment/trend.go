package sentiment

import (
	"errors"
	"math"
	"sort"
	"time"

	"gonum.org/v1/gonum/stat/distuv"
)

// Alpha is the significance level of Trend.
const Alpha = 0.05

// Point is one scored text in time.
type Point struct {
	At       time.Time `json:"at"`
	Compound float64   `json:"compound"`
}

// HalfStats describes the points of one half of the range.
type HalfStats struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	N    int       `json:"n"`
	Mean float64   `json:"mean"`
	SD   float64   `json:"sd"` // sample standard deviation (n-1)
}

// Day is the mean compound of the points of one UTC calendar day.
type Day struct {
	Date time.Time `json:"date"`
	N    int       `json:"n"`
	Mean float64   `json:"mean"`
}

// TrendResult compares the first and second half of a time range.
type TrendResult struct {
	First  HalfStats `json:"first"`
	Second HalfStats `json:"second"`
	// Change is Second.Mean - First.Mean.
	Change float64 `json:"change"`
	// Test names the significance test: always "welch-t".
	Test string  `json:"test"`
	T    float64 `json:"t"`
	DF   float64 `json:"df"`
	// P is the two-sided p-value of Welch's t-test.
	P float64 `json:"p"`
	// Significant is P < Alpha (0.05): the change is beyond noise.
	Significant bool `json:"significant"`
	// Direction is "up" or "down" when Significant, otherwise "flat".
	Direction string `json:"direction"`
	// Daily holds the mean per UTC day that has points, in order; for charts.
	Daily []Day `json:"daily"`
	// Outside counts points outside [from, to), which are ignored.
	Outside int `json:"outside"`
}

// Errors of Trend.
var (
	ErrBadRange      = errors.New("sentiment: trend range must have from before to")
	ErrTooFewPoints  = errors.New("sentiment: trend needs at least 2 points in each half of the range")
	errNonFinitePair = errors.New("sentiment: trend points must have finite compound scores")
)

// Trend splits [from, to) at its midpoint and tests whether mean sentiment
// changed between the halves with Welch's unequal-variances t-test (Welch,
// "The generalization of 'Student's' problem when several different
// population variances are involved", Biometrika 1947):
//
//	t  = (m2 - m1) / sqrt(s1²/n1 + s2²/n2)
//	df = (s1²/n1 + s2²/n2)² / ((s1²/n1)²/(n1-1) + (s2²/n2)²/(n2-1))   (Welch–Satterthwaite)
//	p  = 2 · P(T_df <= -|t|)
//
// Welch's test is chosen over Student's because feedback volume and spread
// often differ between periods. When both halves have zero variance the
// statistic is undefined: T is reported as 0, and p is 1 if the means are
// equal and 0 otherwise.
func Trend(points []Point, from, to time.Time) (TrendResult, error) {
	if !from.Before(to) {
		return TrendResult{}, ErrBadRange
	}
	mid := from.Add(to.Sub(from) / 2)
	var a, b []float64
	outside := 0
	daily := map[int64]*Day{}
	for _, p := range points {
		if math.IsNaN(p.Compound) || math.IsInf(p.Compound, 0) {
			return TrendResult{}, errNonFinitePair
		}
		if p.At.Before(from) || !p.At.Before(to) {
			outside++
			continue
		}
		if p.At.Before(mid) {
			a = append(a, p.Compound)
		} else {
			b = append(b, p.Compound)
		}
		d := p.At.UTC().Truncate(24 * time.Hour)
		k := d.Unix()
		if daily[k] == nil {
			daily[k] = &Day{Date: d}
		}
		daily[k].N++
		daily[k].Mean += p.Compound
	}
	if len(a) < 2 || len(b) < 2 {
		return TrendResult{}, ErrTooFewPoints
	}
	r := TrendResult{
		First:   halfStats(a, from, mid),
		Second:  halfStats(b, mid, to),
		Test:    "welch-t",
		Outside: outside,
	}
	r.Change = r.Second.Mean - r.First.Mean
	r.T, r.DF, r.P = welch(r.First, r.Second)
	r.Significant = r.P < Alpha
	r.Direction = "flat"
	if r.Significant {
		r.Direction = "up"
		if r.Change < 0 {
			r.Direction = "down"
		}
	}
	for _, d := range daily {
		d.Mean /= float64(d.N)
		r.Daily = append(r.Daily, *d)
	}
	sort.Slice(r.Daily, func(i, j int) bool { return r.Daily[i].Date.Before(r.Daily[j].Date) })
	return r, nil
}

func halfStats(xs []float64, from, to time.Time) HalfStats {
	mean := 0.0
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	ss := 0.0
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	return HalfStats{From: from, To: to, N: len(xs), Mean: mean, SD: math.Sqrt(ss / float64(len(xs)-1))}
}

// welch returns Welch's t, its Welch–Satterthwaite degrees of freedom and
// the two-sided p-value. Both halves must have n >= 2.
func welch(x, y HalfStats) (t, df, p float64) {
	vx := x.SD * x.SD / float64(x.N)
	vy := y.SD * y.SD / float64(y.N)
	se := math.Sqrt(vx + vy)
	diff := y.Mean - x.Mean
	if se == 0 {
		if diff == 0 {
			return 0, float64(x.N + y.N - 2), 1
		}
		return 0, float64(x.N + y.N - 2), 0
	}
	t = diff / se
	df = (vx + vy) * (vx + vy) / (vx*vx/float64(x.N-1) + vy*vy/float64(y.N-1))
	p = 2 * distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.CDF(-math.Abs(t))
	return t, df, math.Min(p, 1)
}
