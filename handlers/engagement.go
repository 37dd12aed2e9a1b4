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

// The engagement commands' params and results mirror the contract's requests and answers
// field by field (openapi/aidawg.yaml says so), so each converts through its JSON.

func (s *Server) AnalyzeSentiment(ctx context.Context, req jarvis.AnalyzeSentimentRequestObject) (jarvis.AnalyzeSentimentResponseObject, error) {
	started := time.Now()
	p, err := mirror[aidawg.AnalyzeSentimentParams](req.Body)
	if err != nil {
		return nil, err
	}
	res, by, err := modules.Call(ctx, s.deps.Router, modules.CmdAnalyzeSentiment, p)
	if err != nil {
		return failed(ctx, err)
	}
	out, err := mirror[jarvis.SentimentAnalysis](res.Sentiment)
	if err != nil {
		return nil, err
	}
	return jarvis.AnalyzeSentiment200JSONResponse{Sentiment: out, Meta: withStoredDataset(meta(ctx, servedBy(by), started), res.Dataset)}, nil
}

func (s *Server) DetectChurn(ctx context.Context, req jarvis.DetectChurnRequestObject) (jarvis.DetectChurnResponseObject, error) {
	started := time.Now()
	p, err := mirror[aidawg.CheckChurnRiskParams](req.Body)
	if err != nil {
		return nil, err
	}
	res, by, err := modules.Call(ctx, s.deps.Router, modules.CmdCheckChurnRisk, p)
	if err != nil {
		return failed(ctx, err)
	}
	out, err := mirror[jarvis.ChurnAnalysis](res.Churn)
	if err != nil {
		return nil, err
	}
	return jarvis.DetectChurn200JSONResponse{Churn: out, Meta: withStoredDataset(meta(ctx, servedBy(by), started), res.Dataset)}, nil
}

func (s *Server) CreateReEngagement(ctx context.Context, req jarvis.CreateReEngagementRequestObject) (jarvis.CreateReEngagementResponseObject, error) {
	started := time.Now()
	p, err := mirror[aidawg.SendEngagementParams](req.Body)
	if err != nil {
		return nil, err
	}
	res, by, err := modules.Call(ctx, s.deps.Router, modules.CmdSendEngagement, p)
	if err != nil {
		return failed(ctx, err)
	}
	out, err := mirror[jarvis.ReEngagementCampaign](res.Campaign)
	if err != nil {
		return nil, err
	}
	return jarvis.CreateReEngagement200JSONResponse{Campaign: out, Meta: withStoredDataset(meta(ctx, servedBy(by), started), res.Dataset)}, nil
}

// mirror converts between a contract type and its AI Dawg twin through their JSON.
func mirror[T any](v any) (T, error) {
	var out T
	b, err := json.Marshal(v)
	if err != nil {
		return out, fmt.Errorf("encode %T: %w", v, err)
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return out, fmt.Errorf("decode %T as %T: %w", v, out, err)
	}
	return out, nil
}

// withStoredDataset says in the answer's meta where the stored data read came from, when the
// answer read any.
func withStoredDataset(m jarvis.ResponseMeta, d *aidawg.Dataset) jarvis.ResponseMeta {
	if d == nil {
		return m
	}
	return withDataset(m, *d)
}
