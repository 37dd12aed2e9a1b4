package audio

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// BS.1770-4 Table 1 and Table 2 give the 48 kHz coefficients; the
// bilinear transform of the analogue prototypes must reproduce them.
func TestKWeightingMatchesBS1770At48k(t *testing.T) {
	shelf, hp := kWeighting(48000)
	const tol = 1e-8
	assert.InDelta(t, 1.53512485958697, shelf.b0, tol)
	assert.InDelta(t, -2.69169618940638, shelf.b1, tol)
	assert.InDelta(t, 1.19839281085285, shelf.b2, tol)
	assert.InDelta(t, -1.69065929318241, shelf.a1, tol)
	assert.InDelta(t, 0.73248077421585, shelf.a2, tol)
	assert.InDelta(t, 1.0, hp.b0, tol)
	assert.InDelta(t, -2.0, hp.b1, tol)
	assert.InDelta(t, 1.0, hp.b2, tol)
	assert.InDelta(t, -1.99004745483398, hp.a1, tol)
	assert.InDelta(t, 0.99007225036621, hp.a2, tol)
}

// kGainDb is the K-weighting gain at hz: what BS.1770's -0.691 offsets.
func kGainDb(hz, rate float64) float64 {
	s, h := kWeighting(rate)
	return 20 * math.Log10(s.gainAt(hz, rate)*h.gainAt(hz, rate))
}

// The arithmetic of BS.1770-4 for a steady sine of peak amplitude A in n
// channels of weight 1: each channel's mean square is A^2/2 times the
// K-filter power gain g at the tone's frequency, so
//
//	L = -0.691 + 10 log10(n * g * A^2 / 2).
//
// At 1 kHz, 10 log10(g) = +0.691 dB (that is why the offset is there), so
// a 0 dBFS sine in one channel reads 10 log10(1/2) = -3.01 LKFS, the
// standard's own compliance figure, and a -20 dBFS (A = 0.1) sine in both
// channels of a stereo file reads 10 log10(2 * 0.01 / 2) = -20.00 LUFS:
// the second channel's +3.01 dB cancels the sine's -3.01 dB RMS.
func TestSineLoudnessClosedForm(t *testing.T) {
	cases := []struct {
		name     string
		hz, amp  float64
		channels int
		rate     int
		want     float64
	}{
		{"1kHz 0dBFS mono, the standard's -3.01", 1000, 1, 1, 48000, -3.01},
		{"1kHz -20dBFS stereo", 1000, 0.1, 2, 48000, -20.0},
		{"1kHz -20dBFS stereo 44.1k", 1000, 0.1, 2, 44100, -20.0},
		{"1kHz -20dBFS stereo 96k", 1000, 0.1, 2, 96000, -20.0},
		{"100Hz -10dBFS stereo", 100, math.Pow(10, -0.5), 2, 48000, math.NaN()},
		{"5kHz -30dBFS stereo", 5000, math.Pow(10, -1.5), 2, 48000, math.NaN()},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			phases := make([]float64, c.channels)
			x := sine(c.hz, c.amp, c.rate, 10, phases...)
			r := analyzeSamples(t, x, c.channels, c.rate, AnalyzeOptions{})
			require.NotNil(t, r.IntegratedLufs)
			exact := -0.691 + 10*math.Log10(float64(c.channels)*c.amp*c.amp/2) + kGainDb(c.hz, float64(c.rate))
			assert.InDelta(t, exact, *r.IntegratedLufs, 0.02, "closed form %.3f", exact)
			if !math.IsNaN(c.want) {
				assert.InDelta(t, c.want, *r.IntegratedLufs, 0.1)
			}
			// A steady tone has no loudness range and one level everywhere.
			assert.InDelta(t, 0, *r.LoudnessRangeLu, 0.05)
			assert.InDelta(t, *r.IntegratedLufs, *r.MomentaryMaxLufs, 0.05)
			assert.InDelta(t, *r.IntegratedLufs, *r.ShortTermMaxLufs, 0.05)
		})
	}
}

func TestScaledToMinus23LUFS(t *testing.T) {
	x := musicLike(48000, 20)
	r := analyzeSamples(t, x, 2, 48000, AnalyzeOptions{})
	require.NotNil(t, r.IntegratedLufs)
	// Loudness is 20 log10 of gain exactly (gating included, since every
	// block moves by the same amount), so one scale reaches the target.
	gain := math.Pow(10, (-23-*r.IntegratedLufs)/20)
	for i := range x {
		x[i] *= gain
	}
	r = analyzeSamples(t, x, 2, 48000, AnalyzeOptions{})
	assert.InDelta(t, -23.0, *r.IntegratedLufs, 0.01)
}

func TestGatingIgnoresSilenceAndQuietParts(t *testing.T) {
	rate := 48000
	loud := sine(1000, 0.1, rate, 10, 0, 0)
	x := append(make([]float64, 2*rate*10), loud...) // 10 s digital silence first
	r := analyzeSamples(t, x, 2, rate, AnalyzeOptions{})
	// Silence is below the absolute gate: integrated equals the tone alone,
	// less what the three 400 ms blocks straddling the edge (1/4, 2/4, 3/4
	// of the tone's energy, all above both gates) take off the mean: with
	// 97 full blocks, 10 log10(98.5/100) = -0.066 dB.
	edge := 10 * math.Log10(98.5/100)
	assert.InDelta(t, -20.0+edge, *r.IntegratedLufs, 0.02)

	// A part 30 dB down is below the relative gate (-10 LU) and drops out.
	quiet := sine(1000, 0.1*math.Pow(10, -1.5), rate, 10, 0, 0)
	r = analyzeSamples(t, append(quiet, loud...), 2, rate, AnalyzeOptions{})
	assert.InDelta(t, -20.0+edge, *r.IntegratedLufs, 0.02)
	// EBU 3342: the -50 LUFS part is 30 LU down, below LRA's -20 LU gate,
	// so LRA is far from 30; only the 3 s windows across the step spread it.
	assert.Less(t, *r.LoudnessRangeLu, 10.0)

	silent := analyzeSamples(t, make([]float64, 2*rate*5), 2, rate, AnalyzeOptions{})
	assert.Nil(t, silent.IntegratedLufs)
	assert.Equal(t, DbFloor, silent.SamplePeakDbfs)
}

func TestSamplePeakExact(t *testing.T) {
	for _, db := range []float64{-0.5, -6, -12.34, -40} {
		amp := math.Pow(10, db/20)
		x := sine(997, 0.5, 48000, 2, 0, 0)
		x[12345] = amp // one isolated sample sets the peak
		for i := range x {
			if i != 12345 && math.Abs(x[i]) > amp {
				x[i] *= amp / 0.5 * 0.9
			}
		}
		r := analyzeSamples(t, x, 2, 48000, AnalyzeOptions{})
		assert.InDelta(t, db, r.SamplePeakDbfs, 0.01)
	}
}

// A sine at fs/4 with a 45° phase is sampled only at ±A/√2, so its sample
// peak is 3.01 dB below its true peak A.
func TestTruePeakAboveSamplePeakAtQuarterRate(t *testing.T) {
	rate := 48000
	amp := 0.5
	x := fade(sine(float64(rate)/4, amp, rate, 5, math.Pi/4, math.Pi/4), 2, rate, 0.05)
	r := analyzeSamples(t, x, 2, rate, AnalyzeOptions{})
	assert.InDelta(t, 20*math.Log10(amp/math.Sqrt2), r.SamplePeakDbfs, 0.01)
	assert.InDelta(t, 3.01, r.TruePeakDbtp-r.SamplePeakDbfs, 0.2)
	assert.InDelta(t, 20*math.Log10(amp), r.TruePeakDbtp, 0.05)
}
