package handlers

import (
	"context"

	"github.com/aidawg/jarvis/gen/jarvis"
)

func (s *Server) ManageWorkflows(ctx context.Context, _ jarvis.ManageWorkflowsRequestObject) (jarvis.ManageWorkflowsResponseObject, error) {
	return notImplemented(ctx, "manageWorkflows"), nil
}

func (s *Server) GenerateForecast(ctx context.Context, _ jarvis.GenerateForecastRequestObject) (jarvis.GenerateForecastResponseObject, error) {
	return notImplemented(ctx, "generateForecast"), nil
}

func (s *Server) ManageScaling(ctx context.Context, _ jarvis.ManageScalingRequestObject) (jarvis.ManageScalingResponseObject, error) {
	return notImplemented(ctx, "manageScaling"), nil
}
