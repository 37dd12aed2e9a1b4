package audio

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/require"
)

// wavEncoding selects how writeWAV stores samples.
type wavEncoding struct {
	name       string
	bits       int
	float      bool
	extensible bool
}

var (
	pcm16 = wavEncoding{name: "pcm16", bits: 16}
	f32   = wavEncoding{name: "float32", bits: 32, float: true}
)

// writeWAV encodes interleaved samples as a RIFF/WAVE file.
func writeWAV(x []float64, channels, rate int, enc wavEncoding) []byte {
	bps := enc.bits / 8
	var data bytes.Buffer
	data.Grow(len(x) * bps)
	b := make([]byte, 8)
	for _, v := range x {
		switch {
		case enc.float && enc.bits == 32:
			binary.LittleEndian.PutUint32(b, math.Float32bits(float32(v)))
		case enc.float && enc.bits == 64:
			binary.LittleEndian.PutUint64(b, math.Float64bits(v))
		case enc.bits == 8:
			b[0] = byte(clampInt(math.Round(v*128)+128, 0, 255))
		default:
			full := math.Exp2(float64(enc.bits - 1))
			q := int64(clampInt(math.Round(v*full), -full, full-1))
			for i := range bps {
				b[i] = byte(q >> (8 * i))
			}
		}
		data.Write(b[:bps])
	}
	tag := uint16(wavTagPCM)
	if enc.float {
		tag = wavTagFloat
	}
	var fmtChunk bytes.Buffer
	w := func(v any) { _ = binary.Write(&fmtChunk, binary.LittleEndian, v) }
	outerTag := tag
	if enc.extensible {
		outerTag = wavTagExtensible
	}
	w(outerTag)
	w(uint16(channels))
	w(uint32(rate))
	w(uint32(rate * channels * bps))
	w(uint16(channels * bps))
	w(uint16(enc.bits))
	if enc.extensible {
		w(uint16(22))
		w(uint16(enc.bits))
		w(uint32(3)) // front left | front right
		w(tag)       // subformat GUID: tag + the KSDATAFORMAT suffix
		fmtChunk.Write([]byte{0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71})
	}
	var out bytes.Buffer
	ww := func(v any) { _ = binary.Write(&out, binary.LittleEndian, v) }
	out.WriteString("RIFF")
	ww(uint32(4 + 8 + fmtChunk.Len() + 8 + 4 + 8 + data.Len()))
	out.WriteString("WAVE")
	out.WriteString("fmt ")
	ww(uint32(fmtChunk.Len()))
	out.Write(fmtChunk.Bytes())
	// A chunk before data, as many editors write, to exercise skipping.
	out.WriteString("JUNK")
	ww(uint32(4))
	out.Write([]byte{0, 0, 0, 0})
	out.WriteString("data")
	ww(uint32(data.Len()))
	out.Write(data.Bytes())
	return out.Bytes()
}

func clampInt(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }

// sine returns interleaved frames of a sine of the given peak amplitude,
// with a per-channel phase in radians.
func sine(hz, amp float64, rate int, seconds float64, phases ...float64) []float64 {
	ch := len(phases)
	n := int(seconds * float64(rate))
	x := make([]float64, n*ch)
	for i := range n {
		for c, p := range phases {
			x[i*ch+c] = amp * math.Sin(2*math.Pi*hz*float64(i)/float64(rate)+p)
		}
	}
	return x
}

func analyzeSamples(t testing.TB, x []float64, ch, rate int, opts AnalyzeOptions) *Report {
	t.Helper()
	return analyzeBytes(t, writeWAV(x, ch, rate, f32), opts)
}

func analyzeBytes(t testing.TB, b []byte, opts AnalyzeOptions) *Report {
	t.Helper()
	s, err := Open(bytes.NewReader(b), Options{DisableFFmpeg: true})
	require.NoError(t, err)
	defer s.Close()
	r, err := Analyze(s, opts)
	require.NoError(t, err)
	return r
}

// needFFmpeg skips without ffmpeg, unless JARVIS_TEST_REQUIRE_SERVICES=1.
func needFFmpeg(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("ffmpeg")
	if err != nil {
		if os.Getenv("JARVIS_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatalf("ffmpeg is required (JARVIS_TEST_REQUIRE_SERVICES=1) but not on PATH")
		}
		t.Skip("ffmpeg not on PATH: install it (apt-get install ffmpeg) to compare with its ebur128 meter")
	}
	return p
}

// ---- music-like test signals ----

// addTone adds a harmonic tone (amplitudes 1, 1/2, 1/3… of nHarm partials)
// with a short attack and exponential decay.
func addTone(x []float64, ch, rate int, start, dur, hz, amp float64, nHarm int) {
	s0 := int(start * float64(rate))
	n := int(dur * float64(rate))
	for i := range n {
		idx := s0 + i
		if idx*ch >= len(x) {
			break
		}
		t := float64(i) / float64(rate)
		env := math.Min(1, t/0.01) * math.Exp(-1.5*t) * math.Min(1, (dur-t)/0.02)
		v := 0.0
		for h := 1; h <= nHarm; h++ {
			if hz*float64(h) > float64(rate)/2.2 {
				break
			}
			v += math.Sin(2*math.Pi*hz*float64(h)*t) / float64(h)
		}
		for c := range ch {
			x[idx*ch+c] += amp * env * v
		}
	}
}

func midiHz(m int) float64 { return 440 * math.Exp2(float64(m-69)/12) }

// addClick adds a 2 ms decaying 3 kHz burst at time t.
func addClick(x []float64, ch, rate int, t, amp float64) {
	s0 := int(math.Round(t * float64(rate)))
	for i := range int(0.002 * float64(rate)) {
		idx := s0 + i
		if idx*ch >= len(x) {
			return
		}
		v := amp * math.Sin(2*math.Pi*3000*float64(i)/float64(rate)) * math.Exp(-float64(i)/(0.0005*float64(rate)))
		for c := range ch {
			x[idx*ch+c] += v
		}
	}
}

func addKick(x []float64, ch, rate int, t, amp float64) {
	s0 := int(math.Round(t * float64(rate)))
	phase := 0.0
	for i := range int(0.25 * float64(rate)) {
		idx := s0 + i
		if idx*ch >= len(x) {
			return
		}
		tt := float64(i) / float64(rate)
		phase += 2 * math.Pi * (50 + 100*math.Exp(-tt/0.03)) / float64(rate)
		v := amp * math.Sin(phase) * math.Exp(-tt/0.08)
		for c := range ch {
			x[idx*ch+c] += v
		}
	}
}

func addNoiseHit(x []float64, ch, rate int, t, amp, decay float64, rng *rand.Rand) {
	s0 := int(math.Round(t * float64(rate)))
	for i := range int(6 * decay * float64(rate)) {
		idx := s0 + i
		if idx*ch >= len(x) {
			return
		}
		v := amp * (rng.Float64()*2 - 1) * math.Exp(-float64(i)/(decay*float64(rate)))
		for c := range ch {
			x[idx*ch+c] += v
		}
	}
}

// drumPattern: kick on beats 1 and 3, snare on 2 and 4, hats on eighths.
func drumPattern(x []float64, ch, rate int, bpm, seconds float64, rng *rand.Rand) {
	beat := 60 / bpm
	for i := 0; float64(i)*beat/2 < seconds; i++ {
		t := float64(i) * beat / 2
		addNoiseHit(x, ch, rate, t, 0.08, 0.01, rng) // hat
		if i%2 == 0 {
			if (i/2)%2 == 0 {
				addKick(x, ch, rate, t, 0.5)
			} else {
				addNoiseHit(x, ch, rate, t, 0.3, 0.04, rng) // snare
			}
		}
	}
}

// chordProgression plays triads (MIDI notes) for secondsEach each, with
// a bass note an octave below the root.
func chordProgression(x []float64, ch, rate int, chords [][3]int, secondsEach, total float64) {
	for i := 0; float64(i)*secondsEach < total; i++ {
		c := chords[i%len(chords)]
		t := float64(i) * secondsEach
		for _, m := range c {
			addTone(x, ch, rate, t, secondsEach, midiHz(m), 0.06, 4)
		}
		addTone(x, ch, rate, t, secondsEach, midiHz(c[0]-12), 0.08, 3)
	}
}

// musicLike is chords plus drums: the benchmark and sanity signal.
func musicLike(rate int, seconds float64) []float64 {
	x := make([]float64, int(seconds*float64(rate))*2)
	rng := rand.New(rand.NewPCG(1, 2))
	chordProgression(x, 2, rate, [][3]int{{60, 64, 67}, {65, 69, 72}, {67, 71, 74}, {60, 64, 67}}, 2, seconds)
	drumPattern(x, 2, rate, 120, seconds, rng)
	return x
}

func newRNG() *rand.Rand { return rand.New(rand.NewPCG(7, 9)) }

// fade applies raised-cosine fades in and out, so a test tone has no
// step at its ends (a step rings, and that ringing is a real true peak).
func fade(x []float64, ch, rate int, seconds float64) []float64 {
	n := int(seconds * float64(rate))
	frames := len(x) / ch
	for i := 0; i < n && i < frames; i++ {
		g := 0.5 - 0.5*math.Cos(math.Pi*float64(i)/float64(n))
		for c := range ch {
			x[i*ch+c] *= g
			x[(frames-1-i)*ch+c] *= g
		}
	}
	return x
}
