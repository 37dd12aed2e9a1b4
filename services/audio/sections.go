package audio

import "math"

// Section is a stretch between two detected boundaries.
type Section struct {
	StartSeconds float64 `json:"startSeconds"`
	EndSeconds   float64 `json:"endSeconds"`
}

const (
	noveltyHalfKernelSeconds = 3.0 // each side of the checkerboard
	minSectionSeconds        = 6.0
)

// findSections: Foote (2000), "Automatic audio segmentation using a
// measure of audio novelty". Feature frames are unit-length chroma vectors
// extended with a loudness term; the self-similarity is their cosine; the
// novelty at frame i is the correlation of the similarity matrix around
// (i, i) with a Gaussian-tapered checkerboard kernel. Boundaries are local
// maxima of novelty within ±kernel, above mean + 1 standard deviation of
// the curve, at least minSectionSeconds apart.
func findSections(chroma [][12]float64, levelDb []float64, hopSeconds, durationSeconds float64) []Section {
	n := len(chroma)
	k := int(noveltyHalfKernelSeconds / hopSeconds)
	whole := []Section{{0, durationSeconds}}
	if k < 2 || n < 4*k {
		return whole
	}
	// 13-dimensional features: chroma direction (12) and loudness (1),
	// where 10 dB of level difference weighs like orthogonal chroma.
	const dims = 13
	feat := make([][dims]float64, n)
	for i, c := range chroma {
		norm := 0.0
		for _, v := range c {
			norm += v
		}
		for j, v := range c {
			if norm > 0 {
				feat[i][j] = math.Sqrt(v / norm) // sqrt of shares: unit length
			}
		}
		feat[i][12] = math.Max(levelDb[i], -60) / 10
	}
	sim := func(a, b int) float64 {
		d := 0.0
		for j := range 12 {
			d += feat[a][j] * feat[b][j]
		}
		l := feat[a][12] - feat[b][12]
		return d - l*l/2
	}
	kern := make([]float64, 2*k)
	for i := range kern {
		x := (float64(i-k) + 0.5) / float64(k)
		kern[i] = math.Exp(-2 * x * x) // Gaussian taper, sigma = half kernel/2
	}
	nov := make([]float64, n)
	for i := k; i < n-k; i++ {
		s := 0.0
		for a := -k; a < k; a++ {
			for b := -k; b < k; b++ {
				sign := 1.0
				if (a < 0) != (b < 0) {
					sign = -1
				}
				s += sign * kern[a+k] * kern[b+k] * sim(i+a, i+b)
			}
		}
		nov[i] = math.Max(0, s)
	}
	mean, sd := meanStd(nov[k : n-k])
	thr := mean + sd
	minGap := int(minSectionSeconds / hopSeconds)
	var bounds []float64
	last := -minGap
	for i := k; i < n-k; i++ {
		if nov[i] <= thr || i-last < minGap {
			continue
		}
		isMax := true
		for j := max(0, i-k); j <= min(n-1, i+k); j++ {
			if nov[j] > nov[i] {
				isMax = false
				break
			}
		}
		if isMax {
			// Chroma frame i spans hops i..i+2, so its centre is hop i+1.
			t := float64(i+1) * hopSeconds
			if t > minSectionSeconds/2 && durationSeconds-t > minSectionSeconds/2 {
				bounds = append(bounds, t)
				last = i
			}
		}
	}
	out := make([]Section, 0, len(bounds)+1)
	start := 0.0
	for _, b := range bounds {
		out = append(out, Section{start, b})
		start = b
	}
	return append(out, Section{start, durationSeconds})
}

func meanStd(x []float64) (float64, float64) {
	if len(x) == 0 {
		return 0, 0
	}
	m := 0.0
	for _, v := range x {
		m += v
	}
	m /= float64(len(x))
	v := 0.0
	for _, e := range x {
		v += (e - m) * (e - m)
	}
	return m, math.Sqrt(v / float64(len(x)))
}
