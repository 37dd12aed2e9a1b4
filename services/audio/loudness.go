package audio

import (
	"math"
	"slices"
)

// biquad is a direct-form-I second-order section (a0 normalised to 1).
type biquad struct {
	b0, b1, b2, a1, a2 float64
}

// kWeighting returns the two BS.1770-4 pre-filter stages for any sample
// rate: the high-shelf "head" filter and the RLB high-pass. The analogue
// prototypes (shelf f0 1681.97 Hz, gain 4.0 dB, Q 0.7072; high-pass f0
// 38.135 Hz, Q 0.5003) are those that give the standard's 48 kHz
// coefficients; the bilinear transform with pre-warping (K = tan(pi f0/fs))
// maps them to fs.
func kWeighting(sampleRate float64) (shelf, highpass biquad) {
	// ITU-R BS.1770-4 Annex 1, stage 1 (head-related high shelf).
	const (
		shelfF0   = 1681.974450955533
		shelfGain = 3.999843853973347 // dB
		shelfQ    = 0.7071752369554196
	)
	k := math.Tan(math.Pi * shelfF0 / sampleRate)
	vh := math.Pow(10, shelfGain/20)
	vb := math.Pow(vh, 0.4996667741545416)
	a0 := 1 + k/shelfQ + k*k
	shelf = biquad{
		b0: (vh + vb*k/shelfQ + k*k) / a0,
		b1: 2 * (k*k - vh) / a0,
		b2: (vh - vb*k/shelfQ + k*k) / a0,
		a1: 2 * (k*k - 1) / a0,
		a2: (1 - k/shelfQ + k*k) / a0,
	}
	// ITU-R BS.1770-4 Annex 1, stage 2 (RLB weighting high-pass).
	const (
		hpF0 = 38.13547087602444
		hpQ  = 0.5003270373238773
	)
	k = math.Tan(math.Pi * hpF0 / sampleRate)
	a0 = 1 + k/hpQ + k*k
	highpass = biquad{
		b0: 1, b1: -2, b2: 1,
		a1: 2 * (k*k - 1) / a0,
		a2: (1 - k/hpQ + k*k) / a0,
	}
	return shelf, highpass
}

// KWeighting gives the coefficients b0, b1, b2, a1, a2 (a0 = 1) of the two BS.1770-4
// pre-filter stages at sampleRate, for a meter kept elsewhere (the generator's mastering).
func KWeighting(sampleRate float64) (shelf, highpass [5]float64) {
	s, h := kWeighting(sampleRate)
	return [5]float64{s.b0, s.b1, s.b2, s.a1, s.a2}, [5]float64{h.b0, h.b1, h.b2, h.a1, h.a2}
}

// gainAt is |H(e^{jw})| of the biquad at frequency hz.
func (q biquad) gainAt(hz, sampleRate float64) float64 {
	w := 2 * math.Pi * hz / sampleRate
	z1 := complex(math.Cos(-w), math.Sin(-w))
	z2 := z1 * z1
	num := complex(q.b0, 0) + complex(q.b1, 0)*z1 + complex(q.b2, 0)*z2
	den := 1 + complex(q.a1, 0)*z1 + complex(q.a2, 0)*z2
	return abs(num / den)
}

func abs(c complex128) float64 { return math.Hypot(real(c), imag(c)) }

// channelWeight is G_i of BS.1770-4 Table 3 for the usual channel orders:
// 1.0 for L, R, C; 1.41 for the surrounds; 0 for the LFE of 5.1.
func channelWeight(channel, channels int) float64 {
	switch {
	case channels == 6 && channel == 3:
		return 0 // LFE in L R C LFE Ls Rs
	case channels == 6 && channel >= 4, channels == 5 && channel >= 3:
		return 1.41
	}
	return 1
}

// loudnessMeter accumulates K-weighted energy in 100 ms steps; the 400 ms
// momentary and 3 s short-term blocks are sums of consecutive steps.
type loudnessMeter struct {
	channels      int
	weights       []float64
	shelf, hp     biquad
	state         [][8]float64 // per channel: x1 x2 y1 y2 of both stages
	stepFrames    int
	inStep        int
	stepSum       float64   // weighted sum of squares in the current step
	stepEnergy    []float64 // weighted mean square of each completed step
	stepFramesF   float64
	momentaryMaxL float64
}

func newLoudnessMeter(sampleRate, channels int) *loudnessMeter {
	m := &loudnessMeter{channels: channels, stepFrames: sampleRate / 10, momentaryMaxL: math.Inf(-1)}
	m.shelf, m.hp = kWeighting(float64(sampleRate))
	m.state = make([][8]float64, channels)
	m.weights = make([]float64, channels)
	for c := range channels {
		m.weights[c] = channelWeight(c, channels)
	}
	m.stepFramesF = float64(m.stepFrames)
	return m
}

// process filters interleaved frames and accumulates energy.
func (m *loudnessMeter) process(x []float64, frames int) {
	ch := m.channels
	f := 0
	for f < frames {
		n := min(frames-f, m.stepFrames-m.inStep)
		for c := range ch {
			w := m.weights[c]
			if w == 0 {
				continue
			}
			s := &m.state[c]
			x1, x2, y1, y2, u1, u2, v1, v2 := s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]
			a, b := m.shelf, m.hp
			sum := 0.0
			for i := f; i < f+n; i++ {
				x0 := x[i*ch+c]
				y0 := a.b0*x0 + a.b1*x1 + a.b2*x2 - a.a1*y1 - a.a2*y2
				x2, x1, y2, y1 = x1, x0, y1, y0
				v0 := b.b0*y0 + b.b1*u1 + b.b2*u2 - b.a1*v1 - b.a2*v2
				u2, u1, v2, v1 = u1, y0, v1, v0
				sum += v0 * v0
			}
			*s = [8]float64{x1, x2, y1, y2, u1, u2, v1, v2}
			m.stepSum += w * sum
		}
		f += n
		m.inStep += n
		if m.inStep == m.stepFrames {
			m.stepEnergy = append(m.stepEnergy, m.stepSum/m.stepFramesF)
			m.stepSum, m.inStep = 0, 0
		}
	}
}

// blockLoudness is BS.1770-4 eq. 2: L = -0.691 + 10 log10(sum_i G_i z_i).
func blockLoudness(energy float64) float64 {
	if energy <= 0 {
		return math.Inf(-1)
	}
	return -0.691 + 10*math.Log10(energy)
}

// blockEnergies returns the mean-square energy of windows of `steps`
// 100 ms steps advanced by one step (so 400 ms blocks overlap by 75%).
func blockEnergies(steps []float64, window int) []float64 {
	if len(steps) < window {
		return nil
	}
	out := make([]float64, 0, len(steps)-window+1)
	sum := 0.0
	for i, e := range steps {
		sum += e
		if i >= window {
			sum -= steps[i-window]
		}
		if i >= window-1 {
			out = append(out, max(sum, 0)/float64(window))
		}
	}
	return out
}

const (
	absoluteGateLUFS = -70.0
	relativeGateLU   = -10.0 // BS.1770-4 integrated loudness
	lraRelativeLU    = -20.0 // EBU Tech 3342
)

// integrated is BS.1770-4 §5.1 gating: blocks above -70 LUFS, then above
// the mean of those minus 10 LU; the result is the loudness of the mean
// energy of what remains.
func integrated(blocks []float64) (lufs float64, ok bool) {
	mean := func(gate float64) (float64, int) {
		sum, n := 0.0, 0
		for _, e := range blocks {
			if l := blockLoudness(e); l > gate && l > absoluteGateLUFS {
				sum += e
				n++
			}
		}
		if n == 0 {
			return 0, 0
		}
		return sum / float64(n), n
	}
	absMean, n := mean(absoluteGateLUFS)
	if n == 0 {
		return 0, false
	}
	rel := blockLoudness(absMean) + relativeGateLU
	relMean, n := mean(rel)
	if n == 0 {
		return 0, false
	}
	return blockLoudness(relMean), true
}

// loudnessRange is EBU Tech 3342: short-term (3 s) loudness values above
// -70 LUFS and above their energy mean minus 20 LU; LRA is the spread
// between the 10th and 95th percentiles.
func loudnessRange(shortTerm []float64) (lu float64, ok bool) {
	var gated []float64
	sum := 0.0
	for _, e := range shortTerm {
		if blockLoudness(e) > absoluteGateLUFS {
			gated = append(gated, e)
			sum += e
		}
	}
	if len(gated) == 0 {
		return 0, false
	}
	rel := blockLoudness(sum/float64(len(gated))) + lraRelativeLU
	var ls []float64
	for _, e := range gated {
		if l := blockLoudness(e); l > rel {
			ls = append(ls, l)
		}
	}
	if len(ls) == 0 {
		return 0, false
	}
	slices.Sort(ls)
	return percentile(ls, 0.95) - percentile(ls, 0.10), true
}

// percentile of sorted values with linear interpolation between ranks.
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 1 {
		return sorted[0]
	}
	pos := p * float64(len(sorted)-1)
	i := int(pos)
	if i >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	frac := pos - float64(i)
	return sorted[i]*(1-frac) + sorted[i+1]*frac
}

func maxLoudness(blocks []float64) (float64, bool) {
	best := 0.0
	for _, e := range blocks {
		best = max(best, e)
	}
	if best <= 0 {
		return 0, false
	}
	return blockLoudness(best), true
}

// ---- True peak ----

// truePeakOversample and truePeakTaps follow BS.1770-4 Annex 2: 4x
// oversampling with a 48-coefficient FIR, that is 12 taps per phase.
const (
	truePeakOversample = 4
	truePeakTaps       = 12
)

// truePeakMeter interpolates the three in-between phases of each sample
// with a polyphase windowed-sinc FIR (phase 0 is the sample itself, which
// the sample peak already covers).
type truePeakMeter struct {
	channels int
	phases   [truePeakOversample - 1][truePeakTaps]float64
	gainL1   float64 // largest sum |h| over phases: bounds any output
	hist     []float64
	peak     float64
}

func newTruePeakMeter(channels int) *truePeakMeter {
	t := &truePeakMeter{channels: channels}
	// Kaiser-windowed sinc (beta 5): tap j holds sample n-5+j and phase k
	// interpolates at n+k/4; each phase is normalised to unit DC gain.
	const beta = 5.0
	half := float64(truePeakTaps) / 2
	for k := 1; k < truePeakOversample; k++ {
		frac := float64(k) / truePeakOversample
		sum, l1 := 0.0, 0.0
		for j := range truePeakTaps {
			x := float64(j-(truePeakTaps/2-1)) - frac // tap offset in samples
			w := kaiser(x/half, beta)                 // window centred on the output instant
			h := sinc(x) * w
			t.phases[k-1][j] = h
			sum += h
		}
		for j := range truePeakTaps {
			t.phases[k-1][j] /= sum
			l1 += math.Abs(t.phases[k-1][j])
		}
		t.gainL1 = max(t.gainL1, l1)
	}
	t.hist = make([]float64, (truePeakTaps-1)*channels)
	return t
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// kaiser window at u in [-1, 1].
func kaiser(u, beta float64) float64 {
	if u <= -1 || u >= 1 {
		return 0
	}
	return bessI0(beta*math.Sqrt(1-u*u)) / bessI0(beta)
}

func bessI0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; k < 30; k++ {
		term *= (x / (2 * float64(k))) * (x / (2 * float64(k)))
		sum += term
	}
	return sum
}

// process scans interleaved frames; work is skipped for stretches whose
// largest sample times the filter's L1 gain cannot beat the peak so far,
// which changes no result (it is a bound, not an estimate).
func (t *truePeakMeter) process(x []float64, frames int, scratch []float64) []float64 {
	ch := t.channels
	histFrames := truePeakTaps - 1
	need := (histFrames + frames) * ch
	if cap(scratch) < need {
		scratch = make([]float64, need)
	}
	buf := scratch[:need]
	copy(buf, t.hist)
	copy(buf[histFrames*ch:], x[:frames*ch])
	const chunk = 64
	for c := range ch {
		for start := 0; start < frames; start += chunk {
			end := min(start+chunk, frames)
			// Outputs for input frames [start,end) use buf frames
			// [start, end+histFrames).
			localMax := 0.0
			for i := start; i < end+histFrames; i++ {
				localMax = max(localMax, math.Abs(buf[i*ch+c]))
			}
			if localMax*t.gainL1 <= t.peak {
				continue
			}
			for i := start; i < end; i++ {
				base := i*ch + c
				for p := range t.phases {
					h := &t.phases[p]
					y := 0.0
					for j := range truePeakTaps {
						y += h[j] * buf[base+j*ch]
					}
					t.peak = max(t.peak, math.Abs(y))
				}
			}
		}
	}
	copy(t.hist, buf[frames*ch:])
	return scratch
}
