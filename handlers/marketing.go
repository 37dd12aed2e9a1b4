package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aidawg/jarvis/gen/aidawg"
	"github.com/aidawg/jarvis/gen/jarvis"
	"github.com/aidawg/jarvis/services/modules"
)

func (s *Server) GetMarketingMetrics(ctx context.Context, req jarvis.GetMarketingMetricsRequestObject) (jarvis.GetMarketingMetricsResponseObject, error) {
	started := time.Now()
	p, err := recast[aidawg.GetMetricsParams](req.Body)
	if err != nil {
		return nil, err
	}
	res, by, err := modules.Call(ctx, s.deps.Router, modules.CmdGetMetrics, p)
	if err != nil {
		return failed(ctx, err)
	}
	metrics, err := recast[jarvis.MarketingMetrics](res.Metrics)
	if err != nil {
		return nil, err
	}
	return jarvis.GetMarketingMetrics200JSONResponse{Metrics: metrics, Meta: withDataset(meta(ctx, servedBy(by), started), res.Dataset)}, nil
}

func (s *Server) ManageCampaigns(ctx context.Context, req jarvis.ManageCampaignsRequestObject) (jarvis.ManageCampaignsResponseObject, error) {
	started := time.Now()
	p, err := recast[aidawg.ManageCampaignsParams](req.Body)
	if err != nil {
		return nil, err
	}
	res, by, err := modules.Call(ctx, s.deps.Router, modules.CmdManageCampaigns, p)
	if err != nil {
		return failed(ctx, err)
	}
	out, err := recast[jarvis.ManageCampaigns200JSONResponse](res)
	if err != nil {
		return nil, err
	}
	out.Meta = meta(ctx, servedBy(by), started)
	return out, nil
}

func (s *Server) AnalyzeGrowth(ctx context.Context, req jarvis.AnalyzeGrowthRequestObject) (jarvis.AnalyzeGrowthResponseObject, error) {
	started := time.Now()
	p, err := recast[aidawg.AnalyzeGrowthParams](req.Body)
	if err != nil {
		return nil, err
	}
	res, by, err := modules.Call(ctx, s.deps.Router, modules.CmdAnalyzeGrowth, p)
	if err != nil {
		return failed(ctx, err)
	}
	growth, err := recast[jarvis.GrowthAnalysis](res.Growth)
	if err != nil {
		return nil, err
	}
	return jarvis.AnalyzeGrowth200JSONResponse{Growth: growth, Meta: withDataset(meta(ctx, servedBy(by), started), res.Dataset)}, nil
}

// recast carries a value between the two contracts' types where their shapes are the same, as
// the marketing schemas of both contracts are: through the JSON they share.
func recast[T any](v any) (T, error) {
	var out T
	raw, err := json.Marshal(v)
	if err != nil {
		return out, fmt.Errorf("encode %T: %w", v, err)
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return out, fmt.Errorf("%T as %T: %w", v, out, err)
	}
	return out, nil
}

// withDataset says in the answer's meta where the figures came from.
func withDataset(m jarvis.ResponseMeta, d aidawg.Dataset) jarvis.ResponseMeta {
	if d != "" {
		ds := jarvis.ResponseMetaDataset(d)
		m.Dataset = &ds
	}
	return m
}
