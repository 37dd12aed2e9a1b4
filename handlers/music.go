package handlers

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aidawg/jarvis/gen/aidawg"
	"github.com/aidawg/jarvis/gen/jarvis"
	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/jobs"
	"github.com/aidawg/jarvis/services/modules"
	"github.com/aidawg/jarvis/services/music"
)

// AudioLinks checks, before any AI Dawg backend is asked to fetch it, that a link to audio is
// one Jarvis may have fetched: its own download links, or public http and https ones.
type AudioLinks interface {
	Check(rawURL string) error
}

func (s *Server) GenerateMusic(ctx context.Context, req jarvis.GenerateMusicRequestObject) (jarvis.GenerateMusicResponseObject, error) {
	started := time.Now()
	b := req.Body
	params := music.GenerateParams{Prompt: b.Prompt, Key: b.Key}
	if b.Duration != nil {
		params.Duration = *b.Duration
	}
	if b.Genre != nil {
		params.Genre = *b.Genre
	}
	if b.Mood != nil {
		params.Mood = *b.Mood
	}
	if b.Tempo != nil {
		params.Tempo = *b.Tempo
	}
	if b.Seed != nil {
		seed := int64(*b.Seed)
		params.Seed = &seed
	}
	j, err := s.runLong(ctx, jobs.TypeMusicGeneration, params, b.CallbackUrl)
	if err != nil {
		return failed(ctx, err)
	}
	services.NoteJob(ctx, j.ID)
	if !j.Status.Finished() {
		acc, err := s.accepted(j, "The track")
		if err != nil {
			return nil, err
		}
		return jarvis.GenerateMusic202JSONResponse{JobAcceptedJSONResponse: jarvis.JobAcceptedJSONResponse(acc)}, nil
	}
	result, by, err := s.jobResult(j, s.artifactLinks(j.Artifacts))
	if err != nil {
		return nil, err
	}
	if result == nil || result.Track == nil {
		return nil, fmt.Errorf("job %s completed without a track", j.ID)
	}
	if result.Track.Audio != nil {
		services.NoteFollow(ctx, "audioUrl", result.Track.Audio.Url)
	}
	return jarvis.GenerateMusic200JSONResponse{Track: *result.Track, Meta: meta(ctx, servedBy(by), started)}, nil
}

// meta says how an answer was made.
func meta(ctx context.Context, servedBy jarvis.ResponseMetaServedBy, started time.Time) jarvis.ResponseMeta {
	ms := int(time.Since(started).Milliseconds())
	return jarvis.ResponseMeta{RequestId: services.RequestID(ctx), ServedBy: servedBy, DurationMs: &ms,
		DefaultsApplied: services.DefaultsApplied(ctx)}
}

func servedBy(b modules.ServedBy) jarvis.ResponseMetaServedBy {
	if b == modules.ServedByRemote {
		return jarvis.Remote
	}
	return jarvis.Embedded
}

func (s *Server) AnalyzeMusic(ctx context.Context, req jarvis.AnalyzeMusicRequestObject) (jarvis.AnalyzeMusicResponseObject, error) {
	started := time.Now()
	src, perr := s.audioSource(req.Body.AudioUrl, req.Body.OpenaiFileIdRefs)
	if perr != nil {
		return problemOf(ctx, perr), nil
	}
	p := aidawg.AnalyzeTrackParams{AudioUrl: src.url, AnalyzeVocals: req.Body.AnalyzeVocals}
	res, by, err := modules.Call(ctx, s.deps.Router, modules.CmdAnalyzeTrack, p)
	if err != nil {
		return failed(ctx, src.blame(err))
	}
	return jarvis.AnalyzeMusic200JSONResponse{Analysis: apiAnalysis(res.Analysis), Meta: meta(ctx, servedBy(by), started)}, nil
}

func (s *Server) ValidateMusic(ctx context.Context, req jarvis.ValidateMusicRequestObject) (jarvis.ValidateMusicResponseObject, error) {
	started := time.Now()
	src, perr := s.audioSource(req.Body.AudioUrl, req.Body.OpenaiFileIdRefs)
	if perr != nil {
		return problemOf(ctx, perr), nil
	}
	p := aidawg.ValidateQualityParams{AudioUrl: src.url}
	if req.Body.Standards != nil {
		std := aidawg.QualityStandard(*req.Body.Standards)
		p.Standards = &std
	}
	res, by, err := modules.Call(ctx, s.deps.Router, modules.CmdValidateQuality, p)
	if err != nil {
		return failed(ctx, src.blame(err))
	}
	return jarvis.ValidateMusic200JSONResponse{Report: apiQualityReport(res.Report), Meta: meta(ctx, servedBy(by), started)}, nil
}

// audioRef is the audio a request points at, and the request field that named it.
type audioRef struct {
	url   string
	field string
}

// blame names the request field the caller used in the problems about its audio, which AI
// Dawg's params always call /audioUrl.
func (a audioRef) blame(err error) error {
	se, ok := services.AsError(err)
	if !ok || a.field == "/audioUrl" || len(se.Fields) == 0 {
		return err
	}
	out := *se
	out.Fields = make([]services.FieldError, len(se.Fields))
	for i, f := range se.Fields {
		if f.Field == "/audioUrl" {
			f.Field = a.field
		}
		out.Fields[i] = f
	}
	return &out
}

// audioSource enforces "exactly one of audioUrl or openaiFileIdRefs", which the contract states
// in prose rather than as oneOf (oneOf makes the SDK's types unions, and assistants fill it
// poorly), and that the link is one Jarvis may fetch.
func (s *Server) audioSource(audioURL *string, fileRefs []jarvis.OpenAIFileRef) (audioRef, *services.Error) {
	var ref audioRef
	switch hasURL, hasFile := audioURL != nil, len(fileRefs) > 0; {
	case hasURL && hasFile:
		return ref, &services.Error{
			Code:   services.CodeValidation,
			Detail: "Give either audioUrl or openaiFileIdRefs, not both.",
			Fields: []services.FieldError{
				{Field: "/audioUrl", Message: "must not be given together with openaiFileIdRefs"},
				{Field: "/openaiFileIdRefs", Message: "must not be given together with audioUrl"},
			},
		}
	case !hasURL && !hasFile:
		return ref, &services.Error{
			Code:   services.CodeValidation,
			Detail: "Give the audio to work on: audioUrl (a public http or https link) or openaiFileIdRefs (a file the user uploaded).",
			Fields: []services.FieldError{{Field: "", Message: "one of audioUrl or openaiFileIdRefs is required"}},
		}
	case hasURL:
		ref = audioRef{url: *audioURL, field: "/audioUrl"}
	default:
		ref = audioRef{url: fileRefs[0].DownloadLink, field: "/openaiFileIdRefs/0/download_link"}
	}
	if err := s.deps.Audio.Check(ref.url); err != nil {
		return ref, &services.Error{Code: services.CodeUnprocessable, Err: err,
			Detail: fmt.Sprintf("Jarvis may not fetch %s: %v. Give a public http or https link to the audio.", strings.TrimPrefix(ref.field, "/"), err),
			Fields: []services.FieldError{{Field: ref.field, Message: "is not a link Jarvis may fetch"}}}
	}
	return ref, nil
}

// apiAnalysis is AI Dawg's analysis as the contract's; the nested types have the same fields
// on both sides, so conversions check them at compile time.
func apiAnalysis(a aidawg.TrackAnalysis) jarvis.TrackAnalysis {
	out := jarvis.TrackAnalysis{
		Format: a.Format, DurationSeconds: a.DurationSeconds, SampleRateHz: a.SampleRateHz, Channels: a.Channels, BitDepth: a.BitDepth,
		IntegratedLufs: a.IntegratedLufs, LoudnessRangeLu: a.LoudnessRangeLu, ShortTermMaxLufs: a.ShortTermMaxLufs,
		MomentaryMaxLufs: a.MomentaryMaxLufs, SamplePeakDbfs: a.SamplePeakDbfs, TruePeakDbtp: a.TruePeakDbtp,
		RmsDbfs: a.RmsDbfs, CrestFactorDb: a.CrestFactorDb, DcOffsetDbfs: a.DcOffsetDbfs,
		StereoCorrelation: a.StereoCorrelation, StereoWidth: a.StereoWidth, Clipping: jarvis.Clipping(a.Clipping),
		LeadingSilenceSeconds: a.LeadingSilenceSeconds, TrailingSilenceSeconds: a.TrailingSilenceSeconds,
		Tempo: a.Tempo, TempoConfidence: a.TempoConfidence, Key: a.Key, KeyConfidence: a.KeyConfidence,
		Energy: a.Energy, Danceability: a.Danceability, Notes: a.Notes,
		Genres: make([]jarvis.GenreGuess, len(a.Genres)), Sections: make([]jarvis.Section, len(a.Sections)),
	}
	if out.DcOffsetDbfs == nil {
		out.DcOffsetDbfs = []float64{}
	}
	if out.Notes == nil {
		out.Notes = []string{}
	}
	if a.LongestGap != nil {
		g := jarvis.SilenceGap(*a.LongestGap)
		out.LongestGap = &g
	}
	for i, g := range a.Genres {
		out.Genres[i] = jarvis.GenreGuess(g)
	}
	for i, sec := range a.Sections {
		out.Sections[i] = jarvis.Section(sec)
	}
	if a.Vocals != nil {
		v := jarvis.VocalAnalysis(*a.Vocals)
		out.Vocals = &v
	}
	return out
}

func apiQualityReport(r aidawg.QualityReport) jarvis.QualityReport {
	out := jarvis.QualityReport{Valid: r.Valid, Standard: jarvis.QualityReportStandard(r.Standard), Score: r.Score,
		Checks: make([]jarvis.QualityCheck, len(r.Checks))}
	for i, c := range r.Checks {
		out.Checks[i] = jarvis.QualityCheck{Code: c.Code, Severity: jarvis.QualityCheckSeverity(c.Severity), Passed: c.Passed,
			Status: jarvis.QualityCheckStatus(c.Status), Measured: c.Measured, Unit: c.Unit, Target: c.Target, Message: c.Message, Fix: c.Fix}
	}
	return out
}
