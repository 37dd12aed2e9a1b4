package music

import (
	"math"
	"math/rand/v2"
)

// chord is a triad as semitones above the key's tonic.
type chord [3]int

// Progressions keep the tonic chord on bars 1 and 3 of every four, the strong bars, so that
// the harmony states the key; the minor ones use the harmonic-minor dominant, whose leading
// tone tells a minor key from its relative major.
var (
	majorProgressions = [][]chord{
		{{0, 4, 7}, {5, 9, 12}, {0, 4, 7}, {7, 11, 14}}, // I IV I V
		{{0, 4, 7}, {7, 11, 14}, {0, 4, 7}, {5, 9, 12}}, // I V I IV
		{{0, 4, 7}, {2, 5, 9}, {0, 4, 7}, {7, 11, 14}},  // I ii I V
	}
	minorProgressions = [][]chord{
		{{0, 3, 7}, {5, 8, 12}, {0, 3, 7}, {7, 11, 14}},  // i iv i V
		{{0, 3, 7}, {8, 12, 15}, {0, 3, 7}, {7, 11, 14}}, // i VI i V
	}
)

// pan gains by the constant-power (sine/cosine) pan law: p in [-1, 1], -3 dB per side at
// the centre, so a voice keeps its loudness wherever it is placed.
func pan(p float64) (l, r float64) {
	theta := (p + 1) * math.Pi / 4
	return math.Cos(theta), math.Sin(theta)
}

const sineTableSize = 4096

var sineTable = func() (t [sineTableSize + 1]float32) {
	for i := range t {
		t[i] = float32(math.Sin(2 * math.Pi * float64(i) / sineTableSize))
	}
	return t
}()

// sine of a phase in cycles (>= 0), from a table with linear interpolation: the error is
// about 3e-7 (-130 dB), far under 16-bit resolution, at a fraction of math.Sin's cost.
func sine(ph float64) float64 {
	ph -= float64(int64(ph))
	x := ph * sineTableSize
	i := int(x)
	a := float64(sineTable[i])
	return a + (float64(sineTable[i+1])-a)*(x-float64(i))
}

// noise is white noise in [-1, 1) as a pure function of the sample index, so drums sound the
// same in every pass (splitmix64 finaliser, Steele, Lea & Flood 2014).
func noise(n int, salt uint64) float64 {
	x := uint64(n)*0x9e3779b97f4a7c15 + salt
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return float64(int64(x)) / (1 << 63)
}

func midiHz(m float64) float64 { return 440 * math.Pow(2, (m-69)/12) }

// score is everything random about a track's arrangement, drawn once so that every rendering
// pass plays the same music.
type score struct {
	tonic    int
	minor    bool
	beat     float64 // samples per beat
	sections []Section
	total    float64 // seconds
	prog     []chord
	detune   float64 // cents between the two oscillators of a pad note
	hatLevel float64
	salt     uint64
}

func newScore(root int, minor bool, tempo int, sections []Section, rng *rand.Rand) *score {
	progs := majorProgressions
	if minor {
		progs = minorProgressions
	}
	return &score{
		tonic: root, minor: minor, beat: SampleRate * 60 / float64(tempo), sections: sections,
		total:    sections[len(sections)-1].EndSeconds,
		prog:     progs[rng.IntN(len(progs))],
		detune:   4 + rng.Float64()*6,
		hatLevel: 0.8 + rng.Float64()*0.4,
		salt:     rng.Uint64(),
	}
}

// Stereo placement: kick, bass and snare in the centre; the two pad voices and the hats off
// it, so the image is wide while the low end, which carries most energy, stays mono.
var (
	padAL, padAR = pan(-0.6)
	padBL, padBR = pan(0.65)
	hatL, hatR   = pan(0.5)
	snrL, snrR   = pan(0.05)
	ctrL, ctrR   = pan(0)
)

// Haas widening of the pads: each voice is repeated on the opposite side after 11-17 ms and
// 7 dB down, inside the precedence-effect window, so it widens without a heard echo
// (Haas 1951). The delays differ so the two repeats do not comb together.
const (
	haasA     = 17 * SampleRate / 1000
	haasB     = 11 * SampleRate / 1000
	haasLevel = 0.5
	delayLen  = 1024
)

// voice renders a score from its start; it holds the oscillator phases and delay lines.
type voice struct {
	s        *score
	n        int
	bar      int
	padInc   [2][3][2]float64 // pad voice, note, oscillator: phase increment in cycles
	padPh    [2][3][2]float64
	bassBeat int
	bassInc  float64
	bassPh   float64
	kickHz   float64
	delayA   [delayLen]float64
	delayB   [delayLen]float64
	tone     [2]biquad
}

func (s *score) start() *voice {
	v := &voice{s: s, bar: -1, bassBeat: -1}
	// A gentle 15 kHz low-pass on the mix keeps the noise of the drums away from Nyquist,
	// where inter-sample peaks are largest and hardest for any meter to agree on.
	v.tone[0] = lowpass(15000, SampleRate)
	v.tone[1] = v.tone[0]
	// The kick is tuned to the tonic between 55 and 104 Hz, so its pitch agrees with the key.
	v.kickHz = midiHz(float64(33 + (s.tonic-9+12)%12))
	return v
}

func (s *score) energy(t float64) float64 {
	for _, sec := range s.sections {
		if t >= sec.StartSeconds && t < sec.EndSeconds {
			switch sec.Name {
			case "chorus":
				return 1
			case "verse":
				return 0.85
			}
			return 0.75
		}
	}
	return 0.75
}

func (v *voice) setBar(bar int) {
	s := v.s
	c := s.prog[bar%len(s.prog)]
	for j, tone := range c {
		if c[0] >= 7 {
			// Chords on the fifth and above sit below the tonic, for close voice leading.
			tone -= 12
		}
		m := float64(48 + s.tonic + tone) // voice A around octave 3
		for o := range 2 {
			cents := (float64(o) - 0.5) * s.detune
			v.padInc[0][j][o] = midiHz(m+cents/100) / SampleRate
			v.padInc[1][j][o] = midiHz(m+12-cents/100) / SampleRate
		}
	}
	v.bar = bar
}

// bassPattern plays the chord root on every beat, an octave up on beat 3 and the fifth on
// beat 4: the root lands with each kick, and every beat is an onset.
var bassPattern = [4]int{0, 0, 12, 7}

func (v *voice) setBassBeat(beat int) {
	s := v.s
	c := s.prog[(beat/4)%len(s.prog)]
	root := (s.tonic + c[0]) % 12
	m := float64(31 + (root-7+12)%12 + bassPattern[beat%4]) // G1 … F#2, then the pattern
	v.bassInc = midiHz(m) / SampleRate
	v.bassBeat = beat
}

// render writes the next len(l) frames of the mix, before mastering.
func (v *voice) render(l, r []float32) {
	s := v.s
	beatSec := s.beat / SampleRate
	for i := range l {
		n := v.n + i
		t := float64(n) / SampleRate
		bp := float64(n) / s.beat
		beat := int(bp)
		inBeat := (bp - float64(beat)) * beatSec // seconds since the beat
		if bar := beat / 4; bar != v.bar {
			v.setBar(bar)
		}
		if beat != v.bassBeat {
			v.setBassBeat(beat)
		}
		e := s.energy(t)

		// Pads: two detuned oscillators a note, with a soft attack and release on each bar.
		inBar := (bp - float64(4*(beat/4))) * beatSec
		env := min(1, inBar/0.06) * min(1, (4*beatSec-inBar)/0.08)
		var a, b float64
		for j := range 3 {
			for o := range 2 {
				ph := v.padPh[0][j][o]
				a += sine(ph) + 0.35*sine(2*ph) + 0.12*sine(3*ph)
				v.padPh[0][j][o] = wrap(ph + v.padInc[0][j][o])
				ph = v.padPh[1][j][o]
				b += sine(ph)
				v.padPh[1][j][o] = wrap(ph + v.padInc[1][j][o])
			}
		}
		a *= 0.045 * env * e
		b *= 0.03 * env * e * e
		da := v.delayA[(n-haasA)&(delayLen-1)]
		db := v.delayB[(n-haasB)&(delayLen-1)]
		v.delayA[n&(delayLen-1)] = a
		v.delayB[n&(delayLen-1)] = b
		left := a*padAL + b*padBL + haasLevel*db
		right := a*padAR + b*padBR + haasLevel*da

		// Bass: plucked, with the upper harmonics that make it audible on small speakers.
		ph := v.bassPh
		bass := sine(ph) + 0.45*sine(2*ph) + 0.2*sine(3*ph)
		v.bassPh = wrap(ph + v.bassInc)
		benv := min(1, inBeat/0.004) * (0.55 + 0.45*math.Exp(-inBeat/0.12)) * min(1, (beatSec-inBeat)/0.03)
		bass *= 0.26 * benv
		mono := bass

		// Kick on beats 1 and 3: a sine swept down to the tuned pitch, with a click.
		if beat%2 == 0 {
			const sweep = 0.035
			f0 := 3 * v.kickHz
			phase := v.kickHz*inBeat + (f0-v.kickHz)*sweep*(1-math.Exp(-inBeat/sweep))
			// The click and the snare's low body make kick and snare beats alike in onset
			// strength, so beat trackers hear every beat and not only the half-time pulse.
			mono += 0.6*sine(phase)*math.Exp(-inBeat/0.15) + 0.5*noise(n, s.salt)*math.Exp(-inBeat/0.008)
		}
		left += mono * ctrL
		right += mono * ctrR

		// Snare on beats 2 and 4: a noise burst over a short 170 Hz body.
		if beat%2 == 1 {
			nz := noise(n, s.salt+1)
			body := sine(170 * inBeat)
			sn := (0.9*nz*math.Exp(-inBeat/0.06) + 0.8*body*math.Exp(-inBeat/0.05)) * min(1, inBeat/0.001)
			left += sn * snrL
			right += sn * snrR
		}

		// Hats on every eighth: differenced noise (a first-order high-pass), short decay.
		eighth := bp * 2
		inEighth := (eighth - math.Floor(eighth)) * beatSec / 2
		h := (noise(n, s.salt+2) - noise(n-1, s.salt+2)) * math.Exp(-inEighth/0.025)
		level := 0.1 * s.hatLevel * e
		if int(eighth)%2 == 1 {
			// Off-beats lighter: the same accent on every beat evens out kick and snare
			// beats, so trackers hear the beat rather than the bar half or the eighths.
			level *= 0.3
		}
		h *= level
		left += h * hatL
		right += h * hatR

		// Fade in over 0.2 s, so the beat is clear from the start, and out over 2 s.
		fade := max(0, min(1, t/0.2, (s.total-t)/2))
		l[i] = float32(v.tone[0].step(left * fade))
		r[i] = float32(v.tone[1].step(right * fade))
	}
	v.n += len(l)
}

func wrap(ph float64) float64 {
	if ph >= 1 {
		return ph - 1
	}
	return ph
}

// lowpass is a second-order Butterworth low-pass (Q = 1/sqrt 2) by the bilinear transform
// (R. Bristow-Johnson, "Cookbook formulae for audio EQ biquad filter coefficients").
func lowpass(hz, rate float64) biquad {
	w := 2 * math.Pi * hz / rate
	alpha := math.Sin(w) / math.Sqrt2 // sin(w) / 2Q
	a0 := 1 + alpha
	c := math.Cos(w)
	return biquad{
		b0: (1 - c) / 2 / a0, b1: (1 - c) / a0, b2: (1 - c) / 2 / a0,
		a1: -2 * c / a0, a2: (1 - alpha) / a0,
	}
}
