package handlers

import (
	"context"

	"github.com/aidawg/jarvis/gen/jarvis"
)

func (s *Server) GetMarketingMetrics(ctx context.Context, _ jarvis.GetMarketingMetricsRequestObject) (jarvis.GetMarketingMetricsResponseObject, error) {
	return notImplemented(ctx, "getMarketingMetrics"), nil
}

func (s *Server) ManageCampaigns(ctx context.Context, _ jarvis.ManageCampaignsRequestObject) (jarvis.ManageCampaignsResponseObject, error) {
	return notImplemented(ctx, "manageCampaigns"), nil
}

func (s *Server) AnalyzeGrowth(ctx context.Context, _ jarvis.AnalyzeGrowthRequestObject) (jarvis.AnalyzeGrowthResponseObject, error) {
	return notImplemented(ctx, "analyzeGrowth"), nil
}
