package music

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/aidawg/jarvis/gen/aidawg"
	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/audio"
	"github.com/aidawg/jarvis/services/modules"
)

// vocalPresenceRatio is the share of non-silent audio with sung-like pitch from which a track
// is said to have vocals.
const vocalPresenceRatio = 0.1

// noGenreMethod says why genres is always empty: no classifier is offered, and a label that no
// method produced would be made up.
const noGenreMethod = "No genre classifier is offered, so genres is empty."

// measure fetches and decodes the audio at url and measures it in one streaming pass.
func (m *Module) measure(ctx context.Context, url string, vocals bool) (*audio.Report, *modules.Failure) {
	if m.analyses != nil {
		release, err := m.analyses.Enter(ctx)
		if err != nil {
			return nil, &modules.Failure{Code: aidawg.SERVICEUNAVAILABLE, Err: err,
				RetryAfter: 5 * time.Second,
				Message:    "Every audio-analysis slot of this server stayed busy for as long as the call could wait. Try again in a minute."}
		}
		defer release()
	}
	body, err := m.source.Open(ctx, url)
	if err != nil {
		return nil, mediaFailure(err)
	}
	defer body.Close()
	s, err := audio.Open(body, audio.Options{MaxSeconds: float64(m.maxSeconds)})
	if err != nil {
		return nil, mediaFailure(err)
	}
	defer s.Close()
	rep, err := audio.Analyze(s, audio.AnalyzeOptions{Vocals: vocals})
	if err != nil {
		return nil, mediaFailure(err)
	}
	return rep, nil
}

// mediaFailure says what was wrong with the audio, for the caller who pointed at it.
func mediaFailure(err error) *modules.Failure {
	var (
		srcErr   *SourceError
		format   *audio.UnsupportedFormatError
		corrupt  *audio.CorruptError
		tooLong  *audio.TooLongError
		accepted []string
	)
	switch {
	case errors.As(err, &srcErr):
		return modules.InvalidParams(srcErr.Message, services.FieldError{Field: "/audioUrl", Message: "could not be read"})
	case errors.As(err, &format):
		for _, f := range format.Accepted {
			accepted = append(accepted, string(f))
		}
		return unsupported(format.Detected, strings.Join(accepted, ", "))
	case errors.As(err, &corrupt) && (corrupt.Format == "" || corrupt.Format == "unknown"):
		// Bytes of no known format that the fallback decoder could not read either.
		for _, f := range audio.NativeFormats {
			accepted = append(accepted, string(f))
		}
		return unsupported(corrupt.Format, strings.Join(accepted, ", "))
	case errors.As(err, &tooLong):
		msg := fmt.Sprintf("The audio is longer than %.0f seconds, the most this server analyses. Send a shorter excerpt.", tooLong.MaxSeconds)
		return modules.InvalidParams(msg, services.FieldError{Field: "/audioUrl", Message: "is too long"})
	case errors.As(err, &corrupt):
		kind := "corrupt"
		if corrupt.Truncated {
			kind = "truncated"
		}
		msg := fmt.Sprintf("The %s file is %s: %s. Export it again and send the whole file.", formatName(corrupt.Format), kind, corrupt.Detail)
		return modules.InvalidParams(msg, services.FieldError{Field: "/audioUrl", Message: "is " + kind})
	}
	return modules.ExecutionFailed("The audio could not be analysed.", err)
}

func unsupported(detected audio.Format, accepted string) *modules.Failure {
	if detected == "" || detected == "unknown" {
		return modules.UnsupportedMedia("The file is in no audio format Jarvis recognises. Send "+accepted+".",
			services.FieldError{Field: "/audioUrl", Message: "is not audio in a known format"})
	}
	return modules.UnsupportedMedia(fmt.Sprintf("The file is %s, which this server cannot decode. Send %s.", detected, accepted),
		services.FieldError{Field: "/audioUrl", Message: "is " + string(detected)})
}

func formatName(f audio.Format) string {
	if f == "" || f == "unknown" {
		return "audio"
	}
	return strings.ToUpper(string(f))
}

// trackAnalysis renders a measurement as the contract's analysis.
func trackAnalysis(r *audio.Report) aidawg.TrackAnalysis {
	a := aidawg.TrackAnalysis{
		Format: string(r.Format), DurationSeconds: round(r.DurationSeconds, 3), SampleRateHz: r.SampleRateHz, Channels: r.Channels,
		IntegratedLufs: roundPtr(r.IntegratedLufs, 2), LoudnessRangeLu: roundPtr(r.LoudnessRangeLu, 2),
		ShortTermMaxLufs: roundPtr(r.ShortTermMaxLufs, 2), MomentaryMaxLufs: roundPtr(r.MomentaryMaxLufs, 2),
		SamplePeakDbfs: round(r.SamplePeakDbfs, 2), TruePeakDbtp: round(r.TruePeakDbtp, 2),
		RmsDbfs: round(r.RmsDbfs, 2), CrestFactorDb: round(r.CrestFactorDb, 2),
		DcOffsetDbfs:      make([]float64, len(r.DcOffsetDbfs)),
		StereoCorrelation: roundPtr(r.StereoCorrelation, 3), StereoWidth: roundPtr(r.StereoWidth, 3),
		Clipping:              aidawg.Clipping{Runs: r.Clipping.Runs, Samples: int(r.Clipping.Samples), FirstSeconds: roundPtr(r.Clipping.FirstSeconds, 3)},
		LeadingSilenceSeconds: round(r.LeadingSilenceSeconds, 3), TrailingSilenceSeconds: round(r.TrailingSilenceSeconds, 3),
		Energy: round(r.Energy, 3), Danceability: round(r.Danceability, 3),
		Genres: []aidawg.GenreGuess{}, Sections: make([]aidawg.Section, len(r.Sections)), Notes: []string{noGenreMethod},
	}
	if r.BitDepth > 0 {
		bits := r.BitDepth
		a.BitDepth = &bits
	}
	for i, dc := range r.DcOffsetDbfs {
		a.DcOffsetDbfs[i] = round(dc, 1)
	}
	if g := r.LongestGap; g != nil {
		a.LongestGap = &aidawg.SilenceGap{StartSeconds: round(g.StartSeconds, 3), DurationSeconds: round(g.DurationSeconds, 3)}
	}
	if t := r.Tempo; t != nil {
		bpm, conf := round(t.Bpm, 1), round(t.Confidence, 3)
		a.Tempo, a.TempoConfidence = &bpm, &conf
	} else if r.TempoReason != "" {
		a.Notes = append(a.Notes, "tempo: "+r.TempoReason)
	}
	if k := r.Key; k != nil {
		name, conf := k.Name, round(k.Confidence, 3)
		a.Key, a.KeyConfidence = &name, &conf
	} else if r.KeyReason != "" {
		a.Notes = append(a.Notes, "key: "+r.KeyReason)
	}
	if r.IntegratedLufs == nil {
		a.Notes = append(a.Notes, "loudness: no 400 ms block is above the -70 LUFS gate, so the track is silent to a loudness meter")
	}
	for i, s := range r.Sections {
		a.Sections[i] = aidawg.Section{Name: fmt.Sprintf("section %d", i+1), StartSeconds: round(s.StartSeconds, 2), EndSeconds: round(s.EndSeconds, 2)}
	}
	return a
}

// vocalAnalysis renders the pitch tracker's findings, or says why there are none.
func vocalAnalysis(r *audio.Report) aidawg.VocalAnalysis {
	v := r.Vocals
	if v == nil {
		note := r.VocalsReason
		if note == "" {
			note = "no sung-like pitch was found"
		}
		return aidawg.VocalAnalysis{Present: false, Notes: &note}
	}
	ratio := round(v.PresenceRatio, 3)
	out := aidawg.VocalAnalysis{Present: v.PresenceRatio >= vocalPresenceRatio, PresenceRatio: &ratio}
	if !out.Present {
		note := fmt.Sprintf("sung-like pitch in %.0f%% of the non-silent audio, below the %.0f%% that counts as vocals",
			100*v.PresenceRatio, 100*vocalPresenceRatio)
		out.Notes = &note
		return out
	}
	low, high := v.LowestNote, v.HighestNote
	lowHz, highHz, stab := round(v.LowestHz, 1), round(v.HighestHz, 1), round(v.PitchStabilityCents, 1)
	out.LowestNote, out.HighestNote, out.LowestHz, out.HighestHz, out.PitchStabilityCents = &low, &high, &lowHz, &highHz, &stab
	note := "The pitch tracker (YIN) hears sung-like pitch; a solo melody instrument reads the same."
	out.Notes = &note
	return out
}

func round(v float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(v*p) / p
}

func roundPtr(v *float64, places int) *float64 {
	if v == nil {
		return nil
	}
	r := round(*v, places)
	return &r
}
