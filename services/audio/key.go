package audio

import "math"

// Key is the estimated tonal centre.
type Key struct {
	// Tonic is spelled as key signatures usually are: Eb major and Eb
	// minor, but F# major and C# minor.
	Tonic string `json:"tonic"`
	// PitchClass of the tonic, 0 = C … 11 = B.
	PitchClass int    `json:"pitchClass"`
	Mode       string `json:"mode"` // "major" or "minor"
	Name       string `json:"name"` // "F# major"
	// Confidence is the Pearson correlation of the track's chroma with the
	// winning key profile, clamped to 0..1.
	Confidence float64 `json:"confidence"`
	// RunnerUp is the second-best key, often the relative major/minor.
	RunnerUp string `json:"runnerUp"`
}

// Conventional key spellings by tonic pitch class.
var (
	majorKeyNames = [12]string{"C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"}
	minorKeyNames = [12]string{"C", "C#", "D", "Eb", "E", "F", "F#", "G", "G#", "A", "Bb", "B"}
)

// Krumhansl & Kessler (1982) probe-tone key profiles, tonic first
// (Krumhansl 1990, "Cognitive Foundations of Musical Pitch", table 2.1).
var (
	kkMajor = [12]float64{6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88}
	kkMinor = [12]float64{6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17}
)

// estimateKey correlates the summed chroma with the 24 rotated profiles
// (Krumhansl-Schmuckler algorithm) and picks the best Pearson r.
func estimateKey(frames [][12]float64) (*Key, string) {
	var total [12]float64
	for _, c := range frames {
		// Per-frame normalisation, then sum: each moment counts by its
		// harmony rather than its loudness; square roots tame the bass.
		s := 0.0
		for _, v := range c {
			s += math.Sqrt(v)
		}
		if s == 0 {
			continue
		}
		for i, v := range c {
			total[i] += math.Sqrt(v) / s
		}
	}
	sum := 0.0
	for _, v := range total {
		sum += v
	}
	if sum == 0 {
		return nil, "no tonal content between 55 Hz and 4 kHz"
	}
	type cand struct {
		tonic int
		minor bool
		r     float64
	}
	var best, second cand
	best.r, second.r = math.Inf(-1), math.Inf(-1)
	for tonic := range 12 {
		for _, minor := range []bool{false, true} {
			prof := kkMajor
			if minor {
				prof = kkMinor
			}
			var rot [12]float64
			for i := range 12 {
				rot[(i+tonic)%12] = prof[i]
			}
			c := cand{tonic, minor, pearson(total[:], rot[:])}
			if c.r > best.r {
				best, second = c, best
			} else if c.r > second.r {
				second = c
			}
		}
	}
	tonic := func(c cand) string {
		if c.minor {
			return minorKeyNames[c.tonic]
		}
		return majorKeyNames[c.tonic]
	}
	name := func(c cand) string {
		if c.minor {
			return tonic(c) + " minor"
		}
		return tonic(c) + " major"
	}
	mode := "major"
	if best.minor {
		mode = "minor"
	}
	return &Key{
		Tonic: tonic(best), PitchClass: best.tonic, Mode: mode, Name: name(best),
		Confidence: math.Max(0, math.Min(1, best.r)), RunnerUp: name(second),
	}, ""
}

func pearson(x, y []float64) float64 {
	n := float64(len(x))
	var sx, sy, sxx, syy, sxy float64
	for i := range x {
		sx += x[i]
		sy += y[i]
		sxx += x[i] * x[i]
		syy += y[i] * y[i]
		sxy += x[i] * y[i]
	}
	cov := sxy - sx*sy/n
	vx, vy := sxx-sx*sx/n, syy-sy*sy/n
	if vx <= 0 || vy <= 0 {
		return 0
	}
	return cov / math.Sqrt(vx*vy)
}
