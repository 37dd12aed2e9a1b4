package handlers

import (
	"context"

	"github.com/aidawg/jarvis/gen/jarvis"
)

func (s *Server) RunHealthChecks(ctx context.Context, _ jarvis.RunHealthChecksRequestObject) (jarvis.RunHealthChecksResponseObject, error) {
	return notImplemented(ctx, "runHealthChecks"), nil
}

func (s *Server) RunValidation(ctx context.Context, _ jarvis.RunValidationRequestObject) (jarvis.RunValidationResponseObject, error) {
	return notImplemented(ctx, "runValidation"), nil
}
