package handlers

import (
	"context"

	"github.com/aidawg/jarvis/gen/jarvis"
)

func (s *Server) AnalyzeSentiment(ctx context.Context, _ jarvis.AnalyzeSentimentRequestObject) (jarvis.AnalyzeSentimentResponseObject, error) {
	return notImplemented(ctx, "analyzeSentiment"), nil
}

func (s *Server) DetectChurn(ctx context.Context, _ jarvis.DetectChurnRequestObject) (jarvis.DetectChurnResponseObject, error) {
	return notImplemented(ctx, "detectChurn"), nil
}

func (s *Server) CreateReEngagement(ctx context.Context, _ jarvis.CreateReEngagementRequestObject) (jarvis.CreateReEngagementResponseObject, error) {
	return notImplemented(ctx, "createReEngagement"), nil
}
