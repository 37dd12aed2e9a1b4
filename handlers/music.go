package handlers

import (
	"context"
	"fmt"
	"time"

	"github.com/aidawg/jarvis/gen/jarvis"
	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/jobs"
	"github.com/aidawg/jarvis/services/music"
)

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
	result, err := s.jobResult(j, s.artifactLinks(j.Artifacts))
	if err != nil {
		return nil, err
	}
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

// AnalyzeMusic and ValidateMusic are not carried out yet: Handler answers them 501 before they
// run, as it does every operation NewServer does not mark available.
func (s *Server) AnalyzeMusic(ctx context.Context, _ jarvis.AnalyzeMusicRequestObject) (jarvis.AnalyzeMusicResponseObject, error) {
	return notImplemented(ctx, "analyzeMusic"), nil
}

func (s *Server) ValidateMusic(ctx context.Context, _ jarvis.ValidateMusicRequestObject) (jarvis.ValidateMusicResponseObject, error) {
	return notImplemented(ctx, "validateMusic"), nil
}
