package audio

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTempo(t *testing.T) {
	rate := 44100
	const seconds = 30.0
	for _, bpm := range []float64{80, 120, 128, 174} {
		t.Run("clicks", func(t *testing.T) {
			x := make([]float64, int(seconds*float64(rate))*2)
			for i := 0; float64(i)*60/bpm < seconds; i++ {
				addClick(x, 2, rate, float64(i)*60/bpm, 0.5)
			}
			r := analyzeSamples(t, x, 2, rate, AnalyzeOptions{})
			require.NotNil(t, r.Tempo, r.TempoReason)
			assert.InDelta(t, bpm, r.Tempo.Bpm, 1, "clicks at %v BPM", bpm)
			assert.Greater(t, r.Tempo.Confidence, 0.3)
		})
		t.Run("kick-snare-hat", func(t *testing.T) {
			x := make([]float64, int(seconds*float64(rate))*2)
			drumPattern(x, 2, rate, bpm, seconds, newRNG())
			r := analyzeSamples(t, x, 2, rate, AnalyzeOptions{})
			require.NotNil(t, r.Tempo, r.TempoReason)
			assert.InDelta(t, bpm, r.Tempo.Bpm, 1, "drums at %v BPM", bpm)
		})
	}
	t.Run("steady tone has no tempo confidence", func(t *testing.T) {
		r := analyzeSamples(t, sine(440, 0.3, rate, 20, 0, 0), 2, rate, AnalyzeOptions{})
		if r.Tempo != nil {
			assert.Less(t, r.Tempo.Confidence, 0.3)
		}
	})
}

// MIDI triads by scale degree.
func triad(root int, minor bool) [3]int {
	if minor {
		return [3]int{root, root + 3, root + 7}
	}
	return [3]int{root, root + 4, root + 7}
}

func TestKey(t *testing.T) {
	rate := 22050
	major := func(tonic int) [][3]int { // I-IV-V-I
		return [][3]int{triad(tonic, false), triad(tonic+5, false), triad(tonic+7, false), triad(tonic, false)}
	}
	minor := func(tonic int) [][3]int { // i-iv-V-i (harmonic minor V)
		return [][3]int{triad(tonic, true), triad(tonic+5, true), triad(tonic+7, false), triad(tonic, true)}
	}
	cases := []struct {
		name   string
		chords [][3]int
	}{
		{"C major", major(60)},
		{"G major", major(55)},
		{"F# major", major(54)},
		{"Eb minor", minor(63)},
		{"Bb major", major(58)},
		{"C# minor", minor(61)},
		{"A minor", minor(57)},
		{"E minor", minor(64)},
		{"F minor", minor(53)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x := make([]float64, int(16*float64(rate))*2)
			chordProgression(x, 2, rate, c.chords, 1, 16)
			r := analyzeSamples(t, x, 2, rate, AnalyzeOptions{})
			require.NotNil(t, r.Key, r.KeyReason)
			assert.Equal(t, c.name, r.Key.Name, "runner-up %s", r.Key.RunnerUp)
			assert.Greater(t, r.Key.Confidence, 0.6)
		})
	}
}

// singLike is a glide between two pitches with vibrato and harmonics
// falling at 6 dB/octave, the spectrum shape of a sung vowel.
func singLike(rate int, seconds, fromHz, toHz, vibratoCents float64) []float64 {
	n := int(seconds * float64(rate))
	x := make([]float64, n)
	phase := 0.0
	for i := range n {
		tt := float64(i) / float64(rate)
		f := fromHz * math.Pow(toHz/fromHz, tt/seconds)
		f *= math.Exp2(vibratoCents / 1200 * math.Sin(2*math.Pi*5.5*tt))
		phase += 2 * math.Pi * f / float64(rate)
		v := 0.0
		for h := 1; h <= 8; h++ {
			v += math.Sin(float64(h)*phase) / float64(h)
		}
		x[i] = 0.2 * v
	}
	return x
}

func TestYINOnSungSweep(t *testing.T) {
	rate := 44100
	// A3 (220 Hz) up to E5 (659.26 Hz) over 8 s.
	x := singLike(rate, 8, 220, 659.26, 0)
	r := analyzeSamples(t, x, 1, rate, AnalyzeOptions{Vocals: true})
	require.NotNil(t, r.Vocals, r.VocalsReason)
	v := r.Vocals
	// The 5th/95th percentiles of a log sweep lie 5% in from each end:
	// 220 * 3^0.05 and 220 * 3^0.95 (the sweep spans a ratio of 3).
	assert.InEpsilon(t, 220*math.Pow(3, 0.05), v.LowestHz, 0.02)
	assert.InEpsilon(t, 220*math.Pow(3, 0.95), v.HighestHz, 0.02)
	assert.Equal(t, noteName(220*math.Pow(3, 0.05)), v.LowestNote)
	assert.Equal(t, noteName(220*math.Pow(3, 0.95)), v.HighestNote)
	assert.Greater(t, v.PresenceRatio, 0.9)

	// A steady note reads as the note, with near-zero instability; 30
	// cents of vibrato shows up as roughly 30 * 2/pi ≈ 19 cents MAD.
	steady := analyzeSamples(t, singLike(rate, 4, 220, 220, 0), 1, rate, AnalyzeOptions{Vocals: true})
	require.NotNil(t, steady.Vocals)
	assert.Equal(t, "A3", steady.Vocals.LowestNote)
	assert.Equal(t, "A3", steady.Vocals.HighestNote)
	assert.Less(t, steady.Vocals.PitchStabilityCents, 2.0)
	vib := analyzeSamples(t, singLike(rate, 4, 220, 220, 30), 1, rate, AnalyzeOptions{Vocals: true})
	require.NotNil(t, vib.Vocals)
	assert.InDelta(t, 30*0.7, vib.Vocals.PitchStabilityCents, 8)

	noise := make([]float64, rate*3)
	rng := newRNG()
	for i := range noise {
		noise[i] = 0.3 * (rng.Float64()*2 - 1)
	}
	nr := analyzeSamples(t, noise, 1, rate, AnalyzeOptions{Vocals: true})
	assert.Nil(t, nr.Vocals)
	assert.NotEmpty(t, nr.VocalsReason)
}

func TestNoteName(t *testing.T) {
	for hz, want := range map[float64]string{440: "A4", 220: "A3", 261.63: "C4", 27.5: "A0", 4186: "C8", 233.08: "A#3"} {
		assert.Equal(t, want, noteName(hz))
	}
}

func TestSectionsFindAChange(t *testing.T) {
	rate := 22050
	x := make([]float64, int(40*float64(rate))*2)
	// 20 s of C major chords, then 20 s of louder Ab-minor chords with drums.
	chordProgression(x[:len(x)/2], 2, rate, [][3]int{triad(60, false), triad(65, false)}, 2, 20)
	second := x[len(x)/2:]
	chordProgression(second, 2, rate, [][3]int{triad(56, true), triad(61, true)}, 2, 20)
	drumPattern(second, 2, rate, 100, 20, newRNG())
	r := analyzeSamples(t, x, 2, rate, AnalyzeOptions{})
	require.GreaterOrEqual(t, len(r.Sections), 2)
	found := false
	for _, s := range r.Sections[1:] {
		if math.Abs(s.StartSeconds-20) < 1.0 {
			found = true
		}
	}
	assert.True(t, found, "a boundary within 1 s of 20 s: %+v", r.Sections)
	assert.Equal(t, 0.0, r.Sections[0].StartSeconds)
	assert.InDelta(t, 40, r.Sections[len(r.Sections)-1].EndSeconds, 1e-6)
}

func TestEnergyAndDanceabilityFormulas(t *testing.T) {
	x := musicLike(44100, 30)
	r := analyzeSamples(t, x, 2, 44100, AnalyzeOptions{})
	require.NotNil(t, r.IntegratedLufs)
	require.NotNil(t, r.Tempo)
	assert.InDelta(t, math.Max(0, math.Min(1, (*r.IntegratedLufs+30)/24)), r.Energy, 1e-12)
	o := math.Log2(r.Tempo.Bpm/120) / 0.6
	assert.InDelta(t, math.Exp(-0.5*o*o)*r.Tempo.Confidence, r.Danceability, 1e-12)
	assert.Greater(t, r.Danceability, 0.5, "a clean 120 BPM groove")
}
