package audio

import (
	"math"
	"math/bits"
)

// realFFT computes magnitude spectra of real frames of a fixed power-of-two
// size n, through one complex FFT of size n/2 (the even/odd packing trick).
type realFFT struct {
	n      int
	half   int
	rev    []int
	tw     []complex128 // twiddles for the n/2 complex FFT
	post   []complex128 // e^{-2 pi i k / n} for the split step
	z      []complex128
	window []float64
}

func newRealFFT(n int) *realFFT {
	h := n / 2
	f := &realFFT{n: n, half: h, rev: make([]int, h), tw: make([]complex128, h/2), post: make([]complex128, h), z: make([]complex128, h)}
	shift := 64 - uint(bits.Len(uint(h))-1)
	for i := range h {
		f.rev[i] = int(bits.Reverse64(uint64(i)) >> shift)
	}
	for i := range h / 2 {
		a := -2 * math.Pi * float64(i) / float64(h)
		f.tw[i] = complex(math.Cos(a), math.Sin(a))
	}
	for k := range h {
		a := -2 * math.Pi * float64(k) / float64(n)
		f.post[k] = complex(math.Cos(a), math.Sin(a))
	}
	// Hann window: the usual choice for STFT features.
	f.window = make([]float64, n)
	for i := range n {
		f.window[i] = 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(n))
	}
	return f
}

// magnitudes writes |X[k]| for k = 0..n/2-1 of the Hann-windowed frame x.
func (f *realFFT) magnitudes(x []float64, mag []float64) {
	h := f.half
	for i := range h {
		f.z[f.rev[i]] = complex(x[2*i]*f.window[2*i], x[2*i+1]*f.window[2*i+1])
	}
	// Iterative radix-2 Cooley-Tukey.
	for size := 2; size <= h; size <<= 1 {
		step := h / size
		hs := size / 2
		for start := 0; start < h; start += size {
			for j := range hs {
				t := f.tw[j*step] * f.z[start+j+hs]
				u := f.z[start+j]
				f.z[start+j] = u + t
				f.z[start+j+hs] = u - t
			}
		}
	}
	for k := range h {
		zk := f.z[k]
		zc := f.z[(h-k)%h]
		zc = complex(real(zc), -imag(zc))
		even := (zk + zc) * 0.5
		odd := (zk - zc) * complex(0, -0.5)
		mag[k] = abs(even + f.post[k]*odd)
	}
}
