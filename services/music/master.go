package music

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/aidawg/jarvis/services/audio"
)

// Mastering targets: streaming-platform loudness with a true-peak ceiling below -1 dBTP, so
// that lossy encoding does not clip. The limiter aims a little lower than the limit, since
// other meters oversample differently and 16-bit dither adds a fraction of an LSB.
const (
	targetLufs      = -14.0
	maxTruePeakDbtp = -1.0
	limiterCeiling  = -1.25 // dBTP, as read by the limiter's 4x detector
	lufsTolerance   = 0.1   // what the float passes aim for; the contract is ±0.5
)

// biquad is a direct-form-I second-order section run in float64.
type biquad struct {
	b0, b1, b2, a1, a2 float64
	x1, x2, y1, y2     float64
}

func (q *biquad) step(x float64) float64 {
	y := q.b0*x + q.b1*q.x1 + q.b2*q.x2 - q.a1*q.y1 - q.a2*q.y2
	q.x2, q.x1 = q.x1, x
	q.y2, q.y1 = q.y1, y
	return y
}

// kWeighting returns the two stages of the ITU-R BS.1770-4 K-weighting filter for any rate,
// with the coefficients the analyser's meter uses.
func kWeighting(rate float64) (shelf, hp biquad) {
	sc, hc := audio.KWeighting(rate)
	shelf = biquad{b0: sc[0], b1: sc[1], b2: sc[2], a1: sc[3], a2: sc[4]}
	hp = biquad{b0: hc[0], b1: hc[1], b2: hc[2], a1: hc[3], a2: hc[4]}
	return shelf, hp
}

// loudnessMeter measures integrated loudness of stereo audio as it streams by, keeping only
// one energy figure per 100 ms step (3,000 floats for five minutes).
type loudnessMeter struct {
	filters  [2][2]biquad // channel, stage
	stepLen  int
	inStep   int
	acc      float64
	steps    []float64
	channels int
}

func newLoudnessMeter(rate int) *loudnessMeter {
	m := &loudnessMeter{stepLen: rate / 10, channels: 2}
	for c := range m.filters {
		m.filters[c][0], m.filters[c][1] = kWeighting(float64(rate))
	}
	return m
}

func (m *loudnessMeter) add(l, r float64) {
	yl := m.filters[0][1].step(m.filters[0][0].step(l))
	yr := m.filters[1][1].step(m.filters[1][0].step(r))
	// Left and right both have channel weight 1 in BS.1770.
	m.acc += yl*yl + yr*yr
	if m.inStep++; m.inStep == m.stepLen {
		m.steps = append(m.steps, m.acc)
		m.acc, m.inStep = 0, 0
	}
}

// integrated is the gated loudness of ITU-R BS.1770-4 §2.8: 400 ms blocks overlapping by 75 %,
// an absolute gate at -70 LUFS, then a relative gate 10 LU below the loudness of the blocks
// that passed it. L = -0.691 + 10 log10(mean z). ok is false when no block passes.
func (m *loudnessMeter) integrated() (lufs float64, ok bool) {
	var blocks []float64
	for i := 0; i+4 <= len(m.steps); i++ {
		blocks = append(blocks, (m.steps[i]+m.steps[i+1]+m.steps[i+2]+m.steps[i+3])/float64(4*m.stepLen))
	}
	loud := func(z float64) float64 { return -0.691 + 10*math.Log10(z) }
	gated := func(threshold float64) (float64, int) {
		sum, n := 0.0, 0
		for _, z := range blocks {
			if z > 0 && loud(z) > threshold {
				sum += z
				n++
			}
		}
		return sum, n
	}
	sum, n := gated(-70)
	if n == 0 {
		return 0, false
	}
	sum, n = gated(loud(sum/float64(n)) - 10)
	if n == 0 {
		return 0, false
	}
	return loud(sum / float64(n)), true
}

// Detector of the limiter: 4x oversampling as in ITU-R BS.1770-4 Annex 2, with a longer
// interpolator (16 taps per phase) than the Annex's 12 so that it under-reads less.
const (
	tpPhases = 4
	tpTaps   = 16
	ringSize = 1024 // power of two above the limiter's latency
)

var tpFilter = func() (h [tpPhases - 1][tpTaps]float64) {
	// Kaiser-windowed sinc; phase k interpolates at q + k/4 from x[q-7] … x[q+8], each phase
	// normalised to unit gain at DC.
	const beta = 6.0
	for k := 1; k < tpPhases; k++ {
		frac := float64(k) / tpPhases
		sum := 0.0
		for j := range tpTaps {
			x := float64(j-(tpTaps/2-1)) - frac
			u := x / (tpTaps / 2)
			w := 0.0
			if u > -1 && u < 1 {
				w = besselI0(beta*math.Sqrt(1-u*u)) / besselI0(beta)
			}
			s := 1.0
			if x != 0 {
				s = math.Sin(math.Pi*x) / (math.Pi * x)
			}
			h[k-1][j] = s * w
			sum += s * w
		}
		for j := range tpTaps {
			h[k-1][j] /= sum
		}
	}
	return h
}()

func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; k < 32; k++ {
		term *= (x / (2 * float64(k))) * (x / (2 * float64(k)))
		sum += term
	}
	return sum
}

// limiter is a stereo-linked look-ahead peak limiter. For every input sample it finds the gain
// that keeps the oversampled peak around it under the ceiling; a running minimum over the
// look-ahead window holds that gain early enough, a one-pole release lets it recover, and a
// moving average over the same window turns the hold into a smooth attack that still reaches
// the needed gain by the time the peak is output (each averaged value is at most that gain).
type limiter struct {
	ceiling float64
	ahead   int // look-ahead in samples; the latency is ahead + tpTaps/2
	release float64

	x       [2][ringSize]float64 // input
	peak    [ringSize]float64    // oversampled peak of the interval (q, q+1)
	held    [ringSize]float64    // gain after hold and release
	minQ    [ringSize]int        // monotonic queue of indices into need, for the running minimum
	need    [ringSize]float64
	qHead   int
	qTail   int
	sum     float64 // sum of held over the averaging window
	last    float64
	n       int // input samples pushed
	minGain float64
}

func newLimiter(rate int, ceilingDbtp float64) *limiter {
	lim := &limiter{
		ceiling: math.Pow(10, ceilingDbtp/20),
		ahead:   int(0.005 * float64(rate)),
		// 80 ms release time constant: slow enough not to distort the bass, fast enough to
		// recover between kicks at 174 BPM.
		release: 1 - math.Exp(-1/(0.08*float64(rate))),
		last:    1,
		minGain: 1,
	}
	// The averaging window starts full of unity gains from before the first sample.
	lim.sum = float64(lim.ahead + 1)
	return lim
}

func (lim *limiter) latency() int { return lim.ahead + tpTaps/2 }

// push takes one input frame and returns the frame that leaves the limiter, ok being false
// while the look-ahead is still filling.
func (lim *limiter) push(l, r float64) (ol, or float64, ok bool) {
	p := lim.n
	lim.x[0][p&(ringSize-1)] = l
	lim.x[1][p&(ringSize-1)] = r
	lim.n++

	// The interval (q, q+1) has its 16 neighbours once p = q + 8.
	q := p - tpTaps/2
	if q < 0 {
		return 0, 0, false
	}
	pk := 0.0
	for c := range 2 {
		xs := &lim.x[c]
		pk = max(pk, math.Abs(xs[q&(ringSize-1)]), math.Abs(xs[(q+1)&(ringSize-1)]))
		for k := range tpFilter {
			h := &tpFilter[k]
			v := 0.0
			for j := range tpTaps {
				v += h[j] * xs[(q-tpTaps/2+1+j)&(ringSize-1)]
			}
			pk = max(pk, math.Abs(v))
		}
	}
	lim.peak[q&(ringSize-1)] = pk
	// Sample q shapes the intervals on both its sides.
	around := pk
	if q > 0 {
		around = max(around, lim.peak[(q-1)&(ringSize-1)])
	}
	need := 1.0
	if around > lim.ceiling {
		need = lim.ceiling / around
	}
	lim.need[q&(ringSize-1)] = need

	// Running minimum of need over [q-ahead, q].
	for lim.qTail > lim.qHead && lim.need[lim.minQ[(lim.qTail-1)&(ringSize-1)]&(ringSize-1)] >= need {
		lim.qTail--
	}
	lim.minQ[lim.qTail&(ringSize-1)] = q
	lim.qTail++
	for lim.minQ[lim.qHead&(ringSize-1)] < q-lim.ahead {
		lim.qHead++
	}
	hold := lim.need[lim.minQ[lim.qHead&(ringSize-1)]&(ringSize-1)]
	g := min(hold, lim.last+(1-lim.last)*lim.release)
	lim.last = g
	lim.held[q&(ringSize-1)] = g

	// Average held over [m, m+ahead] with m = q - ahead; before the start, held is 1.
	lim.sum += g
	if old := q - lim.ahead - 1; old >= 0 {
		lim.sum -= lim.held[old&(ringSize-1)]
	} else {
		lim.sum -= 1
	}
	m := q - lim.ahead
	if m < 0 {
		return 0, 0, false
	}
	gain := lim.sum / float64(lim.ahead+1)
	lim.minGain = min(lim.minGain, gain)
	return lim.x[0][m&(ringSize-1)] * gain, lim.x[1][m&(ringSize-1)] * gain, true
}

// ditherer quantises to 16 bits with TPDF dither (the sum of two uniform variables, ±1 LSB
// peak), which makes the quantisation error independent of the signal (Lipshitz, Wannamaker
// & Vanderkooy 1992, "Quantization and dither: a theoretical survey").
type ditherer struct{ rng *rand.Rand }

func newDitherer(seed int64) *ditherer {
	return &ditherer{rng: rand.New(rand.NewPCG(uint64(seed), 0x6469746865720a))}
}

func (d *ditherer) quantise(v float64) int16 {
	u := d.rng.Uint64()
	const inv = 1.0 / (1 << 32)
	t := float64(u>>32)*inv + float64(u&0xffffffff)*inv - 1
	s := math.Floor(v*32767 + t + 0.5)
	return int16(max(-32768, min(32767, s)))
}

// wavHeaderBytes is the size of a canonical RIFF/WAVE PCM header.
const wavHeaderBytes = 44

// newWAV allocates a 16-bit PCM WAVE file of frames frames with its header written.
func newWAV(frames, channels, rate int) []byte {
	dataLen := frames * channels * 2
	b := make([]byte, wavHeaderBytes+dataLen)
	copy(b[0:], "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+dataLen))
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)
	binary.LittleEndian.PutUint16(b[20:], 1) // PCM
	binary.LittleEndian.PutUint16(b[22:], uint16(channels))
	binary.LittleEndian.PutUint32(b[24:], uint32(rate))
	binary.LittleEndian.PutUint32(b[28:], uint32(rate*channels*2))
	binary.LittleEndian.PutUint16(b[32:], uint16(channels*2))
	binary.LittleEndian.PutUint16(b[34:], 16)
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(dataLen))
	return b
}

// mastered is the final file with its loudness and true peak as the repository's meter reads
// them on the 16-bit data.
type mastered struct {
	wav      []byte
	lufs     float64
	truePeak float64
}

// master renders sc again through gain, the limiter and dither into a 16-bit WAV, adjusting
// the gain until the integrated loudness is on target. Limiting takes loudness away as the
// gain rises, so the gain is found by secant steps on the measured loudness rather than by one
// subtraction. The 16-bit file is then measured with the audio package, and a pass is redone
// with a lower ceiling should its true peak read above the limit.
func master(ctx context.Context, sc *score, frames int, rawLufs float64, seed int64) (mastered, error) {
	out := newWAV(frames, Channels, SampleRate)
	gain := targetLufs - rawLufs
	ceiling := limiterCeiling
	var res mastered
	for round := 0; round < 3; round++ {
		var prevGain, prevLufs float64
		havePrev := false
		for pass := 0; pass < 4; pass++ {
			got, err := masterPass(ctx, sc, frames, gain, ceiling, seed, out)
			if err != nil {
				return mastered{}, err
			}
			if math.Abs(got-targetLufs) <= lufsTolerance {
				break
			}
			next := gain + (targetLufs - got)
			if havePrev && gain != prevGain {
				if slope := (got - prevLufs) / (gain - prevGain); slope > 0.2 && slope < 1.5 {
					next = gain + (targetLufs-got)/slope
				}
			}
			prevGain, prevLufs, havePrev = gain, got, true
			gain = next
		}
		lufs, tp, err := measure(out)
		if err != nil {
			return mastered{}, err
		}
		res = mastered{wav: out, lufs: lufs, truePeak: tp}
		if tp <= maxTruePeakDbtp-0.05 && math.Abs(lufs-targetLufs) <= 0.3 {
			break
		}
		if tp > maxTruePeakDbtp-0.05 {
			ceiling -= tp - (maxTruePeakDbtp - 0.2)
		}
	}
	return res, nil
}

// masterPass renders the whole score once through gain (dB), the limiter and dither into the
// sample data of out, and returns the integrated loudness of the limited float signal.
func masterPass(ctx context.Context, sc *score, frames int, gainDb, ceilingDbtp float64, seed int64, out []byte) (float64, error) {
	v := sc.start()
	lim := newLimiter(SampleRate, ceilingDbtp)
	meter := newLoudnessMeter(SampleRate)
	dither := newDitherer(seed)
	g := math.Pow(10, gainDb/20)
	data := out[wavHeaderBytes:]
	w := 0
	emit := func(l, r float64) {
		meter.add(l, r)
		binary.LittleEndian.PutUint16(data[w:], uint16(dither.quantise(l)))
		binary.LittleEndian.PutUint16(data[w+2:], uint16(dither.quantise(r)))
		w += 4
	}
	l, r := make([]float32, SampleRate), make([]float32, SampleRate)
	for done := 0; done < frames; done += len(l) {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		n := min(len(l), frames-done)
		v.render(l[:n], r[:n])
		for i := range n {
			if ol, or, ok := lim.push(g*float64(l[i]), g*float64(r[i])); ok {
				emit(ol, or)
			}
		}
	}
	for range lim.latency() {
		if ol, or, ok := lim.push(0, 0); ok {
			emit(ol, or)
		}
	}
	if w != len(data) {
		return 0, fmt.Errorf("music: mastered %d of %d bytes", w, len(data))
	}
	lufs, ok := meter.integrated()
	if !ok {
		return targetLufs, nil
	}
	return lufs, nil
}

// measure reads a finished WAV with the repository's BS.1770-4 meter.
func measure(wav []byte) (lufs, truePeak float64, err error) {
	s, err := audio.Open(bytes.NewReader(wav), audio.Options{DisableFFmpeg: true})
	if err != nil {
		return 0, 0, err
	}
	defer s.Close()
	rep, err := audio.Analyze(s, audio.AnalyzeOptions{})
	if err != nil {
		return 0, 0, err
	}
	if rep.IntegratedLufs != nil {
		lufs = *rep.IntegratedLufs
	} else {
		lufs = audio.DbFloor
	}
	return lufs, rep.TruePeakDbtp, nil
}
