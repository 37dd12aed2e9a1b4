package audio

import "math"

// Tempo is the estimated beat rate.
type Tempo struct {
	Bpm float64 `json:"bpm"`
	// Confidence is the pulse clarity: the mean normalised autocorrelation
	// of the onset envelope at 1, 2, 3 and 4 beat periods, clamped to 0..1.
	Confidence float64 `json:"confidence"`
}

const (
	tempoMinBpm = 60.0
	tempoMaxBpm = 200.0
	// tempoPriorCentreBpm and tempoPriorOctaves shape the log-Gaussian
	// tempo prior (Ellis 2007, "Beat tracking by dynamic programming",
	// JNMR 36(1)), which breaks near-ties between metrical levels.
	tempoPriorCentreBpm = 120.0
	tempoPriorOctaves   = 1.0
)

// estimateTempo from an onset envelope sampled at fps frames per second.
//
// Autocorrelation comb (Davies & Plumbley 2007, context-dependent beat
// tracking): score(T) = prior(T) * mean_{m=1..4} r(m*P(T)), with r the
// normalised autocorrelation of the envelope, P the beat period in frames
// and r read between lags by linear interpolation. Summing over multiples
// of the period rewards the period whose every multiple lines up, which a
// subdivision (hi-hats) does not.
//
// Octave check: with the best period P, let on = mean r(mP), m=1..4 and
// off = mean r((m-1/2)P). If off >= 0.75 on and double the tempo is in
// range, the half-period pulses are as strong as the beats, so the faster
// tempo is the beat (a 174 BPM click is not 87); if the tempo is the faster
// of two candidates and r at its odd multiples is below half of r at its
// even multiples, it was a subdivision and the tempo is halved.
func estimateTempo(env []float64, fps float64) (*Tempo, string) {
	maxLag := int(math.Ceil(8 * 60 / tempoMinBpm * fps))
	if len(env) < int(2*4*60/tempoMinBpm*fps) {
		return nil, "too short for tempo: needs at least 8 beats at 60 BPM"
	}
	// Emphasise onsets against the slowly varying level: subtract a 0.5 s
	// moving average and half-wave rectify.
	win := max(1, int(0.5*fps))
	hp := make([]float64, len(env))
	avg := movingAverage(env, win)
	mean := 0.0
	for i := range env {
		hp[i] = max(0, env[i]-avg[i])
		mean += hp[i]
	}
	mean /= float64(len(hp))
	for i := range hp {
		hp[i] -= mean
	}
	maxLag = min(maxLag, len(hp)/2)
	acf := make([]float64, maxLag+2)
	for lag := 0; lag <= maxLag+1; lag++ {
		s := 0.0
		for i := lag; i < len(hp); i++ {
			s += hp[i] * hp[i-lag]
		}
		// Unbiased: divided by the number of products, because the biased
		// estimate shrinks with lag and so pulls the period short (a
		// steady 120 BPM read 120.2).
		acf[lag] = s / float64(len(hp)-lag)
	}
	if acf[0] <= 0 {
		return nil, "no onsets: the onset envelope is flat"
	}
	for lag := len(acf) - 1; lag >= 0; lag-- {
		acf[lag] /= acf[0]
	}
	r := func(lag float64) float64 {
		if lag < 0 || lag >= float64(maxLag) {
			return 0
		}
		i := int(lag)
		f := lag - float64(i)
		return acf[i]*(1-f) + acf[i+1]*f
	}
	period := func(bpm float64) float64 { return 60 / bpm * fps }
	on := func(bpm float64, beats int) float64 {
		p, s := period(bpm), 0.0
		for m := 1; m <= beats; m++ {
			s += r(float64(m) * p)
		}
		return s / float64(beats)
	}
	off := func(bpm float64) float64 {
		p, s := period(bpm), 0.0
		for m := 1; m <= 4; m++ {
			s += r((float64(m) - 0.5) * p)
		}
		return s / 4
	}
	prior := func(bpm float64) float64 {
		o := math.Log2(bpm/tempoPriorCentreBpm) / tempoPriorOctaves
		return math.Exp(-0.5 * o * o)
	}
	best, bestScore := 0.0, math.Inf(-1)
	for bpm := tempoMinBpm; bpm <= tempoMaxBpm; bpm += 0.05 {
		if s := prior(bpm) * on(bpm, 4); s > bestScore {
			best, bestScore = bpm, s
		}
	}
	if bestScore <= 0 {
		return nil, "no periodicity in the onset envelope between 60 and 200 BPM"
	}
	switch {
	case 2*best <= tempoMaxBpm+1 && off(best) >= 0.75*on(best, 4):
		best = 2 * best
	case best/2 >= tempoMinBpm-1 && off(best/2) < 0.5*on(best/2, 4) && on(best/2, 4) > 0:
		// best is the subdivision of a slower beat only if the slower
		// candidate's own half-period pulses are weak, which is off(best/2).
		best /= 2
	}
	// Refine: the envelope is sampled at ~86 Hz, so an ACF peak sits
	// between integer lags; read each multiple's peak by parabolic
	// interpolation and fit the period through them by least squares
	// (p_m = m P), so the error shrinks with the number of beats seen.
	p0 := period(best)
	num, den := 0.0, 0.0
	for m := 1; float64(m)*p0 < float64(maxLag)-2 && m <= 32; m++ {
		c := float64(m) * p0
		w := max(2, int(0.04*c))
		lo, hi := max(1, int(c)-w), min(maxLag, int(c)+w+1)
		pk := lo
		for l := lo; l <= hi; l++ {
			if acf[l] > acf[pk] {
				pk = l
			}
		}
		if pk == lo || pk == hi || acf[pk] <= 0 {
			continue // no peak inside the window: skip this multiple
		}
		pos := float64(pk)
		if d := acf[pk-1] - 2*acf[pk] + acf[pk+1]; d < 0 {
			pos += 0.5 * (acf[pk-1] - acf[pk+1]) / d
		}
		num += float64(m) * pos
		den += float64(m * m)
	}
	ref := best
	if den > 0 {
		ref = 60 * fps / (num / den)
	}
	conf := math.Max(0, math.Min(1, on(ref, 4)))
	return &Tempo{Bpm: math.Round(ref*10) / 10, Confidence: conf}, ""
}

// movingAverage centred on each sample over win samples.
func movingAverage(x []float64, win int) []float64 {
	out := make([]float64, len(x))
	prefix := make([]float64, len(x)+1)
	for i, v := range x {
		prefix[i+1] = prefix[i] + v
	}
	for i := range x {
		lo, hi := max(0, i-win/2), min(len(x), i+win/2+1)
		out[i] = (prefix[hi] - prefix[lo]) / float64(hi-lo)
	}
	return out
}
