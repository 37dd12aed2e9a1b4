package audio

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestClippingRuns(t *testing.T) {
	rate := 48000
	cases := []struct {
		name     string
		edit     func(x []float64)
		runs     int
		samples  int64
		firstSec float64
	}{
		{"clean", func([]float64) {}, 0, 0, -1},
		{"two samples is not a run", func(x []float64) { x[2000] = 1; x[2002] = 1 }, 0, 0, -1},
		{"run of 3 in left", func(x []float64) {
			for i := range 3 {
				x[(rate+i)*2] = 0.9995
			}
		}, 1, 3, 1},
		{"runs in both channels, negative full scale", func(x []float64) {
			for i := range 5 {
				x[(2*rate+i)*2+1] = -1
				x[(3*rate+i)*2] = 1
			}
		}, 2, 10, 2},
		{"hard-clipped sine", nil, -1, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x := sine(100, 0.5, rate, 4, 0, 0)
			if c.edit == nil {
				// 6 dB of overdrive into the ceiling: every crest clips.
				for i := range x {
					x[i] = math.Max(-1, math.Min(1, 4*x[i]))
				}
			} else {
				c.edit(x)
			}
			r := analyzeSamples(t, x, 2, rate, AnalyzeOptions{})
			if c.runs < 0 {
				// 100 Hz for 4 s: 400 positive and 400 negative crests a channel.
				assert.Equal(t, 1600, r.Clipping.Runs)
				return
			}
			assert.Equal(t, c.runs, r.Clipping.Runs)
			assert.Equal(t, c.samples, r.Clipping.Samples)
			if c.firstSec < 0 {
				assert.Nil(t, r.Clipping.FirstSeconds)
			} else {
				require.NotNil(t, r.Clipping.FirstSeconds)
				assert.InDelta(t, c.firstSec, *r.Clipping.FirstSeconds, 1e-9)
			}
		})
	}
}

func TestDCOffsetPerChannel(t *testing.T) {
	rate := 48000
	x := sine(1000, 0.3, rate, 2, 0, 0) // whole cycles: mean exactly 0
	for i := 0; i < len(x); i += 2 {
		x[i] += 0.01 // -40 dBFS on the left only
	}
	r := analyzeSamples(t, x, 2, rate, AnalyzeOptions{})
	require.Len(t, r.DcOffsetDbfs, 2)
	assert.InDelta(t, -40.0, r.DcOffsetDbfs[0], 0.01)
	assert.Less(t, r.DcOffsetDbfs[1], -100.0)
}

func TestLevelsOfASine(t *testing.T) {
	x := sine(1000, 0.5, 48000, 2, 0, 0)
	r := analyzeSamples(t, x, 2, 48000, AnalyzeOptions{})
	assert.InDelta(t, 20*math.Log10(0.5), r.SamplePeakDbfs, 0.01)
	assert.InDelta(t, 20*math.Log10(0.5/math.Sqrt2), r.RmsDbfs, 0.01)
	assert.InDelta(t, 3.01, r.CrestFactorDb, 0.01) // a sine's crest is √2
}

func TestSilenceLeadingTrailingAndGap(t *testing.T) {
	rate := 48000
	tone := func(s float64) []float64 { return sine(440, 0.3, rate, s, 0, 0) }
	quiet := func(s float64) []float64 {
		// -70 dBFS noise-free hum: below the -60 dBFS silence threshold.
		return sine(50, math.Pow(10, -70.0/20), rate, s, 0, 0)
	}
	var x []float64
	x = append(x, make([]float64, int(1.5*float64(rate))*2)...) // 1.5 s lead
	x = append(x, tone(3)...)
	x = append(x, quiet(2)...) // 2 s gap at 4.5 s
	x = append(x, tone(3)...)
	x = append(x, make([]float64, int(0.8*float64(rate))*2)...) // short gap: 0.8 s
	x = append(x, tone(1)...)
	x = append(x, make([]float64, int(0.5*float64(rate))*2)...) // 0.5 s tail
	r := analyzeSamples(t, x, 2, rate, AnalyzeOptions{})
	// A sine at phase 0 starts below the threshold for a few samples
	// (0.3 sin(x) < 0.001 for x < 0.0033 rad): allow 2 samples at 48 kHz.
	const tol = 3.0 / 48000
	assert.InDelta(t, 1.5, r.LeadingSilenceSeconds, tol)
	assert.InDelta(t, 0.5, r.TrailingSilenceSeconds, tol)
	require.NotNil(t, r.LongestGap)
	assert.InDelta(t, 4.5, r.LongestGap.StartSeconds, tol)
	assert.InDelta(t, 2.0, r.LongestGap.DurationSeconds, 2*tol)

	noGap := analyzeSamples(t, tone(3), 2, rate, AnalyzeOptions{})
	assert.Nil(t, noGap.LongestGap, "zero crossings of a tone are not gaps")
	assert.InDelta(t, 0, noGap.LeadingSilenceSeconds, tol)
}

func TestStereoCorrelationAndWidth(t *testing.T) {
	rate := 48000
	noise := func(seed uint64) []float64 {
		rng := newRNG()
		for range seed {
			rng.Float64()
		}
		x := make([]float64, rate*4)
		for i := range x {
			x[i] = 0.3 * (rng.Float64()*2 - 1)
		}
		return x
	}
	interleave := func(l, r []float64) []float64 {
		x := make([]float64, 2*len(l))
		for i := range l {
			x[2*i], x[2*i+1] = l[i], r[i]
		}
		return x
	}
	a := noise(0)
	b := noise(1) // the same generator one draw later: uncorrelated samples
	neg := make([]float64, len(a))
	half := make([]float64, len(a))
	for i := range a {
		neg[i] = -a[i]
		half[i] = 0.5 * a[i]
	}
	cases := []struct {
		name        string
		x           []float64
		corr, width float64
	}{
		{"dual mono", interleave(a, a), 1, 0},
		{"one channel at half level: still fully correlated", interleave(a, half), 1, (0.25 * 0.25) / (0.75 * 0.75)},
		{"polarity inverted", interleave(a, neg), -1, math.Inf(1)},
		{"independent", interleave(a, b), 0, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := analyzeSamples(t, c.x, 2, rate, AnalyzeOptions{})
			require.NotNil(t, r.StereoCorrelation)
			assert.InDelta(t, c.corr, *r.StereoCorrelation, 0.02)
			if math.IsInf(c.width, 1) {
				assert.Nil(t, r.StereoWidth, "no mid energy: width undefined")
			} else {
				require.NotNil(t, r.StereoWidth)
				assert.InDelta(t, c.width, *r.StereoWidth, 0.03)
			}
		})
	}
	mono := analyzeSamples(t, a, 1, rate, AnalyzeOptions{})
	assert.Nil(t, mono.StereoCorrelation)
	assert.Nil(t, mono.StereoWidth)
}
