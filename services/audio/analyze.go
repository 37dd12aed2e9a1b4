package audio

import (
	"errors"
	"io"
	"math"
)

// AnalyzeOptions control Analyze.
type AnalyzeOptions struct {
	// Vocals turns on the YIN pitch analysis (about 10% more time).
	Vocals bool
	// BlockFrames is the read size; 0 means 4096 frames.
	BlockFrames int
}

// DbFloor is the level reported for digital silence (a zero signal has no
// finite dB value and JSON has no -Inf).
const DbFloor = -150.0

// Levels (dBFS) below which a frame is silent, and the clip threshold.
const (
	silenceDbfs      = -60.0
	clipLevel        = 0.999
	minClipRun       = 3
	minGapSeconds    = 0.1
	defaultBlockSize = 4096
)

// Report holds every figure of one analysis. Pointer fields are nil when
// the signal gives no answer (with a reason where one is useful).
type Report struct {
	Format          Format  `json:"format"`
	DurationSeconds float64 `json:"durationSeconds"`
	SampleRateHz    int     `json:"sampleRateHz"`
	Channels        int     `json:"channels"`
	BitDepth        int     `json:"bitDepth"` // 0 for lossy sources

	// ITU-R BS.1770-4 and EBU Tech 3342; nil when no block passes the
	// -70 LUFS absolute gate (or the track is shorter than one block).
	IntegratedLufs   *float64 `json:"integratedLufs"`
	LoudnessRangeLu  *float64 `json:"loudnessRangeLu"`
	ShortTermMaxLufs *float64 `json:"shortTermMaxLufs"`
	MomentaryMaxLufs *float64 `json:"momentaryMaxLufs"`

	SamplePeakDbfs float64 `json:"samplePeakDbfs"`
	TruePeakDbtp   float64 `json:"truePeakDbtp"`
	// RmsDbfs over all channels, with a full-scale sine at -3.01 dBFS
	// (AES17 would read it 0 dB; this is the plain RMS).
	RmsDbfs       float64   `json:"rmsDbfs"`
	CrestFactorDb float64   `json:"crestFactorDb"` // sample peak minus RMS
	DcOffsetDbfs  []float64 `json:"dcOffsetDbfs"`  // per channel, 20 log10 |mean|

	// Stereo figures use channels 1 and 2; nil for mono.
	StereoCorrelation *float64 `json:"stereoCorrelation"` // Pearson r of L and R
	StereoWidth       *float64 `json:"stereoWidth"`       // E[S^2]/E[M^2], S=(L-R)/2, M=(L+R)/2

	Clipping Clipping `json:"clipping"`

	// Silence is any frame whose every channel is below -60 dBFS.
	LeadingSilenceSeconds  float64     `json:"leadingSilenceSeconds"`
	TrailingSilenceSeconds float64     `json:"trailingSilenceSeconds"`
	LongestGap             *SilenceGap `json:"longestGap"` // inside the track, >= 0.1 s

	Tempo       *Tempo    `json:"tempo"`
	TempoReason string    `json:"tempoReason,omitempty"`
	Key         *Key      `json:"key"`
	KeyReason   string    `json:"keyReason,omitempty"`
	Sections    []Section `json:"sections"`

	// Energy = clamp((integratedLufs + 30) / 24, 0, 1): linear in
	// integrated loudness from 0 at -30 LUFS to 1 at -6 LUFS (0 when the
	// loudness is undefined).
	Energy float64 `json:"energy"`
	// Danceability = tempoSuitability * pulseClarity, where
	// tempoSuitability = exp(-0.5 * (log2(bpm / 120) / 0.6)^2) (1 at
	// 120 BPM, 0.61 at 80 or 180 BPM) and pulseClarity = tempo.confidence
	// (mean normalised onset autocorrelation at 1-4 beat periods). 0 when
	// no tempo is found.
	Danceability float64 `json:"danceability"`

	Vocals       *Vocals `json:"vocals"`
	VocalsReason string  `json:"vocalsReason,omitempty"`
}

// Clipping counts runs of at least 3 consecutive samples in one channel at
// |x| >= 0.999 of full scale.
type Clipping struct {
	Runs         int      `json:"runs"`
	Samples      int64    `json:"samples"`
	FirstSeconds *float64 `json:"firstSeconds"`
}

// SilenceGap is a silent stretch between non-silent audio.
type SilenceGap struct {
	StartSeconds    float64 `json:"startSeconds"`
	DurationSeconds float64 `json:"durationSeconds"`
}

func dbFloor(amplitude float64) float64 {
	if amplitude <= 0 {
		return DbFloor
	}
	return math.Max(DbFloor, 20*math.Log10(amplitude))
}

// Analyze reads the stream to its end and measures it in one pass.
func Analyze(s Stream, opts AnalyzeOptions) (*Report, error) {
	info := s.Info()
	ch, rate := info.Channels, info.SampleRate
	if ch < 1 || rate < 1 {
		return nil, errors.New("audio: stream has no channels or sample rate")
	}
	block := opts.BlockFrames
	if block <= 0 {
		block = defaultBlockSize
	}
	factor := max(1, int(math.Round(float64(rate)/featureTargetHz)))
	featRate := float64(rate) / float64(factor)

	meter := newLoudnessMeter(rate, ch)
	tp := newTruePeakMeter(ch)
	dec := newDecimator(factor)
	feat := newFeatureExtractor(featRate, opts.Vocals)

	buf := make([]float64, block*ch)
	mono := make([]float64, block)
	var decimated, tpScratch []float64

	var (
		frames           int64
		peak, sumSq      float64
		sum              = make([]float64, ch)
		clipRun          = make([]int, ch)
		clip             Clipping
		sL, sR, sLL, sRR float64
		sLR, sMM, sSS    float64
		firstLoud        int64 = -1
		lastLoud         int64 = -1
		gapStart         int64 = -1
		bestGap          SilenceGap
		haveGap          bool
	)
	silence := math.Pow(10, silenceDbfs/20)
	endClipRun := func(c int, at int64) {
		if clipRun[c] >= minClipRun {
			clip.Runs++
			clip.Samples += int64(clipRun[c])
			if clip.FirstSeconds == nil {
				t := float64(at-int64(clipRun[c])) / float64(rate)
				clip.FirstSeconds = &t
			}
		}
		clipRun[c] = 0
	}
	for {
		n, err := s.ReadFrames(buf)
		if n > 0 {
			x := buf[:n*ch]
			meter.process(x, n)
			tpScratch = tp.process(x, n, tpScratch)
			inv := 1 / float64(ch)
			for f := range n {
				frame := x[f*ch : f*ch+ch]
				at := frames + int64(f)
				loud := false
				m := 0.0
				for c, v := range frame {
					a := math.Abs(v)
					peak = max(peak, a)
					sumSq += v * v
					sum[c] += v
					m += v
					if a >= silence {
						loud = true
					}
					if a >= clipLevel {
						clipRun[c]++
					} else if clipRun[c] > 0 {
						endClipRun(c, at)
					}
				}
				mono[f] = m * inv
				if ch >= 2 {
					l, r := frame[0], frame[1]
					sL += l
					sR += r
					sLL += l * l
					sRR += r * r
					sLR += l * r
					md, sd := (l+r)/2, (l-r)/2
					sMM += md * md
					sSS += sd * sd
				}
				if loud {
					if gapStart >= 0 && firstLoud >= 0 {
						g := SilenceGap{float64(gapStart) / float64(rate), float64(at-gapStart) / float64(rate)}
						if g.DurationSeconds >= minGapSeconds && g.DurationSeconds > bestGap.DurationSeconds {
							bestGap, haveGap = g, true
						}
					}
					gapStart = -1
					if firstLoud < 0 {
						firstLoud = at
					}
					lastLoud = at
				} else if gapStart < 0 {
					gapStart = at
				}
			}
			decimated = dec.push(mono[:n], decimated[:0])
			feat.push(decimated)
			frames += int64(n)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	for c := range ch {
		endClipRun(c, frames)
	}

	r := &Report{
		Format: info.Format, SampleRateHz: rate, Channels: ch, BitDepth: info.BitDepth,
		DurationSeconds: float64(frames) / float64(rate),
		Clipping:        clip,
	}
	// Flush the last partial 100 ms step? BS.1770 blocks are whole 400 ms
	// blocks, so the remainder is left out, as ffmpeg's ebur128 does.
	momentary := blockEnergies(meter.stepEnergy, 4)
	shortTerm := blockEnergies(meter.stepEnergy, 30)
	if v, ok := integrated(momentary); ok {
		r.IntegratedLufs = &v
	}
	if v, ok := loudnessRange(shortTerm); ok {
		r.LoudnessRangeLu = &v
	}
	if v, ok := maxLoudness(shortTerm); ok {
		r.ShortTermMaxLufs = &v
	}
	if v, ok := maxLoudness(momentary); ok {
		r.MomentaryMaxLufs = &v
	}

	r.SamplePeakDbfs = dbFloor(peak)
	r.TruePeakDbtp = dbFloor(max(peak, tp.peak))
	if frames > 0 {
		r.RmsDbfs = dbFloor(math.Sqrt(sumSq / float64(frames*int64(ch))))
		r.DcOffsetDbfs = make([]float64, ch)
		for c := range ch {
			r.DcOffsetDbfs[c] = dbFloor(math.Abs(sum[c] / float64(frames)))
		}
	} else {
		r.RmsDbfs = DbFloor
	}
	r.CrestFactorDb = r.SamplePeakDbfs - r.RmsDbfs
	if peak == 0 {
		r.CrestFactorDb = 0
	}
	if ch >= 2 && frames > 0 {
		nf := float64(frames)
		cov := sLR - sL*sR/nf
		vl, vr := sLL-sL*sL/nf, sRR-sR*sR/nf
		if vl > 0 && vr > 0 {
			c := cov / math.Sqrt(vl*vr)
			r.StereoCorrelation = &c
		}
		if sMM > 0 {
			w := sSS / sMM
			r.StereoWidth = &w
		}
	}
	if firstLoud < 0 {
		r.LeadingSilenceSeconds = r.DurationSeconds
	} else {
		r.LeadingSilenceSeconds = float64(firstLoud) / float64(rate)
		r.TrailingSilenceSeconds = float64(frames-1-lastLoud) / float64(rate)
	}
	if haveGap {
		r.LongestGap = &bestGap
	}

	fps := featRate / onsetHop
	r.Tempo, r.TempoReason = estimateTempo(feat.onsetEnv, fps)
	r.Key, r.KeyReason = estimateKey(feat.chroma)
	r.Sections = findSections(feat.chroma, feat.chromaDb, chromaHop/featRate, r.DurationSeconds)
	if r.IntegratedLufs != nil {
		r.Energy = math.Max(0, math.Min(1, (*r.IntegratedLufs+30)/24))
	}
	if r.Tempo != nil {
		o := math.Log2(r.Tempo.Bpm/120) / 0.6
		r.Danceability = math.Exp(-0.5*o*o) * r.Tempo.Confidence
	}
	if opts.Vocals {
		r.Vocals, r.VocalsReason = analyzeVocals(feat.pitches, yinHop/featRate)
	} else {
		r.VocalsReason = "vocal analysis not requested"
	}
	return r, nil
}
