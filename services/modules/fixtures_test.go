package modules_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/gen/aidawg"
	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/modules"
)

// engagement is a hand-written embedded module for the tests: a side-effect-free analysis
// and a command with side effects, each counting its calls.
type engagement struct {
	analyses atomic.Int64
	sends    atomic.Int64
}

func (*engagement) Name() string { return "engagement" }

func (m *engagement) Register(reg *modules.Registrar) {
	modules.Handle(reg, modules.CmdAnalyzeSentiment, m.analyze)
	modules.Handle(reg, modules.CmdSendEngagement, func(ctx context.Context, p aidawg.SendEngagementParams) (aidawg.SendEngagementResult, error) {
		m.sends.Add(1)
		return aidawg.SendEngagementResult{Campaign: aidawg.ReEngagementCampaign{
			Id: "rec_1", Name: "Win back", Channel: aidawg.ReEngagement, TargetSegment: p.TargetSegment, CampaignType: aidawg.Email,
			RiskThreshold: aidawg.Medium, Status: aidawg.ReEngagementCampaignStatusScheduled, SegmentListeners: 40, Reach: 12,
			Template: "We miss you.", SampleMessages: []aidawg.OutreachMessage{{ListenerId: "L1", Body: "We miss you."}},
			Delivery:  aidawg.ReEngagementDelivery{Status: aidawg.NotSent, BatchSize: 100, Reason: "No endpoint is configured."},
			CreatedAt: time.Date(2026, 11, 28, 18, 0, 0, 0, time.UTC),
		}}, nil
	})
	reg.Rule("segments-have-owners", func(context.Context) []modules.RuleIssue {
		return []modules.RuleIssue{{Severity: aidawg.SeverityWarning, Message: "Segment seg_x has no owner.", Field: "segments/seg_x"}}
	})
}

func (m *engagement) analyze(ctx context.Context, p aidawg.AnalyzeSentimentParams) (aidawg.AnalyzeSentimentResult, error) {
	m.analyses.Add(1)
	n := len(p.Texts)
	switch {
	case n > 0 && p.Texts[0] == "fail":
		return aidawg.AnalyzeSentimentResult{}, errors.New("the sentiment model is not loaded")
	case n > 0 && p.Texts[0] == "panic":
		panic("sentiment model crashed")
	case n > 0 && p.Texts[0] == "refuse":
		return aidawg.AnalyzeSentimentResult{}, modules.InvalidParams("The texts are all stop words.",
			services.FieldError{Field: "/texts/0", Message: "has no words to analyse"})
	}
	return aidawg.AnalyzeSentimentResult{Sentiment: aidawg.SentimentAnalysis{
		From: aidawg.Texts, SampleSize: n,
		Overall:      aidawg.SentimentScore{Score: 0.5, Label: aidawg.SentimentScoreLabelPositive, SampleSize: n},
		Distribution: aidawg.SentimentDistribution{Positive: 1, PositiveCount: n},
		BySource: []aidawg.SourceSentiment{{Source: "texts", Score: 0.5, Label: aidawg.SourceSentimentLabelPositive, SampleSize: n,
			Distribution: aidawg.SentimentDistribution{Positive: 1, PositiveCount: n}}},
	}}, nil
}

func newRuntime(t testing.TB, mods ...modules.Module) *modules.Runtime {
	t.Helper()
	c, err := modules.LoadContract()
	require.NoError(t, err)
	rt, err := modules.NewRuntime(c, zerolog.Nop(), mods...)
	require.NoError(t, err)
	return rt
}

// fastOptions keep every wait short, so that retry tests take milliseconds.
func fastOptions(url string) modules.RemoteOptions {
	o := modules.DefaultRemoteOptions()
	o.URL = url
	o.AttemptTimeout = 300 * time.Millisecond
	o.Budget = 5 * time.Second
	o.BackoffBase = time.Millisecond
	o.BackoffMax = 5 * time.Millisecond
	o.BreakerFailures = 1000
	o.BreakerCooldown = 200 * time.Millisecond
	o.MaxResponseBytes = 64 << 10
	return o
}

func newRouter(t testing.TB, embedded *modules.Runtime, opts modules.RemoteOptions, fallback bool) *modules.Router {
	t.Helper()
	var remote *modules.Remote
	if opts.URL != "" {
		var err error
		remote, err = modules.NewRemote(embedded.Contract(), opts)
		require.NoError(t, err)
	}
	return modules.NewRouter(embedded, remote, fallback, zerolog.Nop())
}

func serviceError(t *testing.T, err error) *services.Error {
	t.Helper()
	require.Error(t, err)
	se, ok := services.AsError(err)
	require.True(t, ok, "not a services.Error: %v", err)
	return se
}

var sentiment = aidawg.AnalyzeSentimentParams{Texts: []string{"The chorus is unreal."}}

var zerologNop = zerolog.Nop()
