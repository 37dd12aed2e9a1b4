package handlers

import (
	"context"
	"time"

	"github.com/aidawg/jarvis/gen/aidawg"
	"github.com/aidawg/jarvis/gen/jarvis"
	"github.com/aidawg/jarvis/services/modules"
)

func (s *Server) GetMarketingMetrics(ctx context.Context, req jarvis.GetMarketingMetricsRequestObject) (jarvis.GetMarketingMetricsResponseObject, error) {
	started := time.Now()
	p, err := mirror[aidawg.GetMetricsParams](req.Body)
	if err != nil {
		return nil, err
	}
	res, by, err := modules.Call(ctx, s.deps.Router, modules.CmdGetMetrics, p)
	if err != nil {
		return failed(ctx, err)
	}
	metrics, err := mirror[jarvis.MarketingMetrics](res.Metrics)
	if err != nil {
		return nil, err
	}
	return jarvis.GetMarketingMetrics200JSONResponse{Metrics: metrics, Meta: withDataset(meta(ctx, servedBy(by), started), res.Dataset)}, nil
}

func (s *Server) ManageCampaigns(ctx context.Context, req jarvis.ManageCampaignsRequestObject) (jarvis.ManageCampaignsResponseObject, error) {
	started := time.Now()
	p, err := mirror[aidawg.ManageCampaignsParams](req.Body)
	if err != nil {
		return nil, err
	}
	res, by, err := modules.Call(ctx, s.deps.Router, modules.CmdManageCampaigns, p)
	if err != nil {
		return failed(ctx, err)
	}
	out, err := mirror[jarvis.ManageCampaigns200JSONResponse](res)
	if err != nil {
		return nil, err
	}
	out.Meta = meta(ctx, servedBy(by), started)
	return out, nil
}

func (s *Server) AnalyzeGrowth(ctx context.Context, req jarvis.AnalyzeGrowthRequestObject) (jarvis.AnalyzeGrowthResponseObject, error) {
	started := time.Now()
	p, err := mirror[aidawg.AnalyzeGrowthParams](req.Body)
	if err != nil {
		return nil, err
	}
	res, by, err := modules.Call(ctx, s.deps.Router, modules.CmdAnalyzeGrowth, p)
	if err != nil {
		return failed(ctx, err)
	}
	growth, err := mirror[jarvis.GrowthAnalysis](res.Growth)
	if err != nil {
		return nil, err
	}
	return jarvis.AnalyzeGrowth200JSONResponse{Growth: growth, Meta: withDataset(meta(ctx, servedBy(by), started), res.Dataset)}, nil
}

// withDataset says in the answer's meta where the figures came from.
func withDataset(m jarvis.ResponseMeta, d aidawg.Dataset) jarvis.ResponseMeta {
	if d != "" {
		ds := jarvis.ResponseMetaDataset(d)
		m.Dataset = &ds
	}
	return m
}
