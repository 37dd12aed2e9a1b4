package audio

import (
	"fmt"
	"math"
	"slices"
)

// yinThreshold is the absolute threshold of YIN step 4 (the paper finds
// 0.10-0.15 works across speech and singing).
const yinThreshold = 0.12

type pitchFrame struct {
	hz     float64 // 0 when unvoiced
	voiced bool
	loud   bool // frame RMS above -50 dBFS: considered at all
}

// yinTracker implements YIN (de Cheveigné & Kahane 2002, "YIN, a
// fundamental frequency estimator for speech and music", JASA 111(4)).
type yinTracker struct {
	rateHz         float64
	tauMin, tauMax int
	need           int
	diff, cmnd     []float64
}

func newYIN(rateHz float64) *yinTracker {
	y := &yinTracker{rateHz: rateHz, tauMin: int(rateHz / yinMaxHz), tauMax: int(math.Ceil(rateHz / yinMinHz))}
	y.tauMin = max(y.tauMin, 2)
	y.need = yinWindow + y.tauMax + 1
	y.diff = make([]float64, y.tauMax+2)
	y.cmnd = make([]float64, y.tauMax+2)
	return y
}

func (y *yinTracker) estimate(x []float64) pitchFrame {
	sumSq := 0.0
	for _, v := range x[:yinWindow] {
		sumSq += v * v
	}
	if math.Sqrt(sumSq/yinWindow) < math.Pow(10, -50.0/20) {
		return pitchFrame{}
	}
	// Step 2, difference function: d(tau) = sum_j (x_j - x_{j+tau})^2.
	for tau := 1; tau <= y.tauMax+1; tau++ {
		d := 0.0
		for j, v := range x[:yinWindow] {
			e := v - x[j+tau]
			d += e * e
		}
		y.diff[tau] = d
	}
	// Step 3, cumulative mean normalised difference:
	// d'(tau) = d(tau) / ((1/tau) sum_{j=1..tau} d(j)), d'(0) = 1.
	y.cmnd[0] = 1
	run := 0.0
	for tau := 1; tau <= y.tauMax+1; tau++ {
		run += y.diff[tau]
		if run == 0 {
			y.cmnd[tau] = 1
			continue
		}
		y.cmnd[tau] = y.diff[tau] * float64(tau) / run
	}
	// Step 4, absolute threshold: the first dip below it, followed to its
	// local minimum.
	tau := -1
	for t := y.tauMin; t <= y.tauMax; t++ {
		if y.cmnd[t] < yinThreshold {
			for t+1 <= y.tauMax && y.cmnd[t+1] < y.cmnd[t] {
				t++
			}
			tau = t
			break
		}
	}
	if tau < 0 {
		return pitchFrame{loud: true}
	}
	// Step 5, parabolic interpolation of d' around the minimum.
	est := float64(tau)
	if tau > 1 && tau < y.tauMax+1 {
		a, b, c := y.cmnd[tau-1], y.cmnd[tau], y.cmnd[tau+1]
		if den := a - 2*b + c; den > 0 {
			est += 0.5 * (a - c) / den
		}
	}
	return pitchFrame{hz: y.rateHz / est, voiced: true, loud: true}
}

// Vocals is the pitch analysis of the periodic content in the sung range.
type Vocals struct {
	// PresenceRatio is the share of non-silent frames (RMS above -50 dBFS)
	// that YIN finds periodic at 70-1100 Hz and that belong to a run of at
	// least 3 such frames (about 0.28 s). It does not separate a voice
	// from a monophonic lead instrument: it measures sung-like pitch.
	PresenceRatio float64 `json:"presenceRatio"`
	// LowestNote and HighestNote are the 5th and 95th percentiles of the
	// voiced F0 (so a stray octave error does not set the range).
	LowestNote  string  `json:"lowestNote"`
	HighestNote string  `json:"highestNote"`
	LowestHz    float64 `json:"lowestHz"`
	HighestHz   float64 `json:"highestHz"`
	// PitchStabilityCents is the median absolute deviation, in cents, of
	// each voiced frame from the median pitch of its run: low is steady.
	PitchStabilityCents float64 `json:"pitchStabilityCents"`
	VoicedSeconds       float64 `json:"voicedSeconds"`
}

const minVoicedRun = 3

func analyzeVocals(frames []pitchFrame, hopSeconds float64) (*Vocals, string) {
	loud := 0
	for _, p := range frames {
		if p.loud {
			loud++
		}
	}
	if loud == 0 {
		return nil, "no frames above -50 dBFS"
	}
	var hz, devCents []float64
	for i := 0; i < len(frames); {
		if !frames[i].voiced {
			i++
			continue
		}
		j := i
		for j < len(frames) && frames[j].voiced {
			j++
		}
		if j-i >= minVoicedRun {
			cents := make([]float64, 0, j-i)
			for _, p := range frames[i:j] {
				hz = append(hz, p.hz)
				cents = append(cents, 1200*math.Log2(p.hz/440))
			}
			med := median(cents)
			for _, c := range cents {
				devCents = append(devCents, math.Abs(c-med))
			}
		}
		i = j
	}
	if len(hz) == 0 {
		return nil, "no sustained periodic frames in the 70-1100 Hz range"
	}
	slices.Sort(hz)
	lo, hi := percentile(hz, 0.05), percentile(hz, 0.95)
	return &Vocals{
		PresenceRatio:       float64(len(hz)) / float64(loud),
		LowestNote:          noteName(lo),
		HighestNote:         noteName(hi),
		LowestHz:            lo,
		HighestHz:           hi,
		PitchStabilityCents: median(devCents),
		VoicedSeconds:       float64(len(hz)) * hopSeconds,
	}, ""
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return percentile(s, 0.5)
}

var noteNames = [12]string{"C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"}

// noteName is the nearest equal-tempered note at A4 = 440 Hz, e.g. "A3".
func noteName(hz float64) string {
	midi := int(math.Round(69 + 12*math.Log2(hz/440)))
	return fmt.Sprintf("%s%d", noteNames[((midi%12)+12)%12], midi/12-1)
}
