package handlers

import (
	"context"

	"github.com/aidawg/jarvis/gen/jarvis"
	"github.com/aidawg/jarvis/services"
)

func (s *Server) GenerateMusic(ctx context.Context, _ jarvis.GenerateMusicRequestObject) (jarvis.GenerateMusicResponseObject, error) {
	return notImplemented(ctx, "generateMusic"), nil
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
