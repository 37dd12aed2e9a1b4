package audio

import "math"

// Feature extraction runs on a mono downmix decimated by an integer factor
// to about 11 kHz: tempo, key, sections and pitch need nothing above 5 kHz,
// and a quarter of the samples is a quarter of the FFT work.
const (
	featureTargetHz = 11025
	onsetFrame      = 512  // ~46 ms at 11 kHz: the 2048/512 STFT of 44.1 kHz
	onsetHop        = 128  // ~11.6 ms: 86 envelope values a second
	chromaFrame     = 4096 // ~370 ms: 2.7 Hz bins resolve semitones from ~55 Hz
	chromaHop       = 2048
	yinWindow       = 320  // ~29 ms integration window
	yinHop          = 1024 // ~93 ms between pitch estimates
	yinMinHz        = 70.0
	yinMaxHz        = 1100.0
)

// decimator low-passes and keeps every factor-th sample (Hann-windowed
// sinc FIR, cutoff at 90% of the output Nyquist frequency).
type decimator struct {
	factor int
	taps   []float64
	ring   []float64 // 2*len(taps) so a window is always contiguous
	pos    int
	phase  int
}

func newDecimator(factor int) *decimator {
	n := 8*factor + 1
	d := &decimator{factor: factor, taps: make([]float64, n), ring: make([]float64, 2*n)}
	fc := 0.45 / float64(factor) // cycles per input sample
	sum := 0.0
	for i := range n {
		x := float64(i - n/2)
		w := 0.5 + 0.5*math.Cos(2*math.Pi*x/float64(n+1))
		d.taps[i] = 2 * fc * sinc(2*fc*x) * w
		sum += d.taps[i]
	}
	for i := range d.taps {
		d.taps[i] /= sum
	}
	return d
}

// push takes mono input samples and appends the decimated output to out.
func (d *decimator) push(in []float64, out []float64) []float64 {
	n := len(d.taps)
	if d.factor == 1 {
		return append(out, in...)
	}
	for _, x := range in {
		d.ring[d.pos] = x
		d.ring[d.pos+n] = x
		d.pos++
		if d.pos == n {
			d.pos = 0
		}
		d.phase++
		if d.phase < d.factor {
			continue
		}
		d.phase = 0
		win := d.ring[d.pos : d.pos+n] // oldest to newest
		y := 0.0
		for i, h := range d.taps {
			y += h * win[i]
		}
		out = append(out, y)
	}
	return out
}

// featureExtractor consumes the decimated signal and keeps per-frame
// features only: an onset-strength envelope, chroma vectors with their
// loudness, and YIN pitch estimates.
type featureExtractor struct {
	rateHz float64
	buf    []float64 // decimated samples not yet consumed by every analysis
	bufAt  int64     // absolute index of buf[0]

	onsetFFT  *realFFT
	onsetNext int64
	onsetMag  []float64
	onsetPrev []float64
	onsetEnv  []float64 // spectral flux per onset hop

	chromaFFT  *realFFT
	chromaNext int64
	chromaMag  []float64
	chromaBin  []int8 // pitch class of each bin, -1 outside 55 Hz..4 kHz
	chroma     [][12]float64
	chromaDb   []float64 // frame RMS in dBFS

	yin     *yinTracker
	yinNext int64
	pitches []pitchFrame
}

func newFeatureExtractor(rateHz float64, vocals bool) *featureExtractor {
	f := &featureExtractor{
		rateHz:    rateHz,
		onsetFFT:  newRealFFT(onsetFrame),
		onsetMag:  make([]float64, onsetFrame/2),
		onsetPrev: make([]float64, onsetFrame/2),
		chromaFFT: newRealFFT(chromaFrame),
		chromaMag: make([]float64, chromaFrame/2),
		chromaBin: make([]int8, chromaFrame/2),
	}
	for k := range f.chromaBin {
		hz := float64(k) * rateHz / chromaFrame
		f.chromaBin[k] = -1
		if hz >= 55 && hz <= 4000 {
			midi := 69 + 12*math.Log2(hz/440)
			f.chromaBin[k] = int8(((int(math.Round(midi)) % 12) + 12) % 12)
		}
	}
	if vocals {
		f.yin = newYIN(rateHz)
	} else {
		f.yinNext = math.MaxInt64
	}
	return f
}

func (f *featureExtractor) push(x []float64) {
	f.buf = append(f.buf, x...)
	end := f.bufAt + int64(len(f.buf))
	for f.onsetNext+onsetFrame <= end {
		f.onsetStep(f.buf[f.onsetNext-f.bufAt:][:onsetFrame])
		f.onsetNext += onsetHop
	}
	for f.chromaNext+chromaFrame <= end {
		f.chromaStep(f.buf[f.chromaNext-f.bufAt:][:chromaFrame])
		f.chromaNext += chromaHop
	}
	if f.yin != nil {
		for f.yinNext+int64(f.yin.need) <= end {
			f.pitches = append(f.pitches, f.yin.estimate(f.buf[f.yinNext-f.bufAt:][:f.yin.need]))
			f.yinNext += yinHop
		}
	}
	// Drop what no analysis will read again, so the buffer stays small.
	keep := min(f.onsetNext, f.chromaNext, f.yinNext)
	if drop := int(keep - f.bufAt); drop > len(f.buf)/2 && drop > 0 {
		n := copy(f.buf, f.buf[drop:])
		f.buf = f.buf[:n]
		f.bufAt = keep
	}
}

// onsetCompression is gamma in log(1 + gamma |X|). A full-scale tone reaches
// |X| ~ 128 in a 512-point Hann frame, so 0.1 compresses only the loudest
// bins: a kick or snare stays stronger than a hi-hat, as it sounds, where
// heavy compression (gamma 100) makes broadband hats dominate and turns
// 80 BPM with eighth-note hats into 160.
const onsetCompression = 0.1

// onsetStep: spectral flux (Bello et al. 2005, "A tutorial on onset
// detection in music signals"): the sum over bins of the half-wave
// rectified increase of log-compressed magnitude, log(1 + gamma |X|).
func (f *featureExtractor) onsetStep(frame []float64) {
	f.onsetFFT.magnitudes(frame, f.onsetMag)
	flux := 0.0
	for k, m := range f.onsetMag {
		l := math.Log1p(onsetCompression * m)
		if d := l - f.onsetPrev[k]; d > 0 {
			flux += d
		}
		f.onsetPrev[k] = l
	}
	f.onsetEnv = append(f.onsetEnv, flux)
}

// chromaStep folds spectral energy into 12 pitch classes (Fujishima 1999,
// pitch class profiles), with bins assigned to the nearest equal-tempered
// semitone at A4 = 440 Hz.
func (f *featureExtractor) chromaStep(frame []float64) {
	sumSq := 0.0
	for _, v := range frame {
		sumSq += v * v
	}
	f.chromaDb = append(f.chromaDb, dbFloor(math.Sqrt(sumSq/float64(len(frame)))))
	f.chromaFFT.magnitudes(frame, f.chromaMag)
	var c [12]float64
	for k, m := range f.chromaMag {
		if pc := f.chromaBin[k]; pc >= 0 {
			c[pc] += m * m
		}
	}
	f.chroma = append(f.chroma, c)
}
