package handlers

import (
	"context"
	"fmt"
	"time"

	"github.com/aidawg/jarvis/gen/jarvis"
	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/music"
)

func (s *Server) GenerateMusic(ctx context.Context, req jarvis.GenerateMusicRequestObject) (jarvis.GenerateMusicResponseObject, error) {
	if !s.Available("generateMusic") {
		return notImplemented(ctx, "generateMusic"), nil
	}
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
	j, perr, err := s.startLong(ctx, JobMusicGeneration, params, b.CallbackUrl)
	switch {
	case err != nil:
		return nil, err
	case perr != nil:
		return problem(ctx, perr), nil
	}
	services.NoteJob(ctx, j.ID)
	if !j.Status.Finished() {
		return jarvis.GenerateMusic202JSONResponse{JobAcceptedJSONResponse: jarvis.JobAcceptedJSONResponse(s.accepted(j, "The track"))}, nil
	}
	result := s.jobResult(j, s.artifactLinks(j.Artifacts))
	if result == nil || result.Track == nil {
		return nil, fmt.Errorf("job %s completed without a track", j.ID)
	}
	if result.Track.Audio != nil {
		services.NoteFollow(ctx, "audioUrl", result.Track.Audio.Url)
	}
	return jarvis.GenerateMusic200JSONResponse{Track: *result.Track, Meta: meta(ctx, "embedded", started)}, nil
}

// meta says how an answer was made.
func meta(ctx context.Context, servedBy jarvis.ResponseMetaServedBy, started time.Time) jarvis.ResponseMeta {
	ms := int(time.Since(started).Milliseconds())
	return jarvis.ResponseMeta{RequestId: services.RequestID(ctx), ServedBy: servedBy, DurationMs: &ms,
		DefaultsApplied: services.DefaultsApplied(ctx)}
}

func (s *Server) AnalyzeMusic(ctx context.Context, req jarvis.AnalyzeMusicRequestObject) (jarvis.AnalyzeMusicResponseObject, error) {
	if err := checkAudioSource(req.Body.AudioUrl, req.Body.OpenaiFileIdRefs); err != nil {
		return problem(ctx, err), nil
	}
	return notImplemented(ctx, "analyzeMusic"), nil
}

func (s *Server) ValidateMusic(ctx context.Context, req jarvis.ValidateMusicRequestObject) (jarvis.ValidateMusicResponseObject, error) {
	if err := checkAudioSource(req.Body.AudioUrl, req.Body.OpenaiFileIdRefs); err != nil {
		return problem(ctx, err), nil
	}
	return notImplemented(ctx, "validateMusic"), nil
}

// checkAudioSource enforces "exactly one of audioUrl or openaiFileIdRefs". The contract states
// it in prose rather than as oneOf, because oneOf makes the generated SDK types unions and
// assistants fill it poorly.
func checkAudioSource(audioURL *string, fileRefs []jarvis.OpenAIFileRef) *services.Error {
	hasURL, hasFile := audioURL != nil, len(fileRefs) > 0
	switch {
	case hasURL && hasFile:
		return &services.Error{
			Code:   services.CodeValidation,
			Detail: "Give either audioUrl or openaiFileIdRefs, not both.",
			Fields: []services.FieldError{
				{Field: "/audioUrl", Message: "must not be given together with openaiFileIdRefs"},
				{Field: "/openaiFileIdRefs", Message: "must not be given together with audioUrl"},
			},
		}
	case !hasURL && !hasFile:
		return &services.Error{
			Code:   services.CodeValidation,
			Detail: "Give the audio to work on: audioUrl (a public http or https link) or openaiFileIdRefs (a file the user uploaded).",
			Fields: []services.FieldError{{Field: "", Message: "one of audioUrl or openaiFileIdRefs is required"}},
		}
	}
	return nil
}
