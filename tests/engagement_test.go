package tests

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/gen/client"
	"github.com/aidawg/jarvis/services/keys"
	"github.com/aidawg/jarvis/services/tenantdata"
	"github.com/aidawg/jarvis/services/webhook"
)

// webhookEvent is a re-engagement batch as the receiver reads it.
type webhookEvent struct {
	id   string
	body struct {
		Type string `json:"type"`
		Data struct {
			CampaignID string `json:"campaignId"`
			Batch      int    `json:"batch"`
			Batches    int    `json:"batches"`
			Messages   []struct {
				ListenerID string `json:"listenerId"`
				Body       string `json:"body"`
			} `json:"messages"`
		} `json:"data"`
	}
}

// receiver is a loopback endpoint that verifies each delivery's Standard Webhooks signature,
// answering 500 to the first delivery so that its retry is seen.
type receiver struct {
	mu       sync.Mutex
	attempts []string // webhook-id of every attempt, failed ones included
	accepted []webhookEvent
	errs     []error
}

func newReceiver(t *testing.T, secret webhook.Secret) (*receiver, *httptest.Server) {
	rc := &receiver{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if err := secret.Verify(r.Header, body); err != nil {
			rc.errs = append(rc.errs, err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		rc.attempts = append(rc.attempts, r.Header.Get(webhook.HeaderID))
		if len(rc.attempts) == 1 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		ev := webhookEvent{id: r.Header.Get(webhook.HeaderID)}
		if err := json.Unmarshal(body, &ev.body); err != nil {
			rc.errs = append(rc.errs, err)
		}
		rc.accepted = append(rc.accepted, ev)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	return rc, srv
}

func (rc *receiver) waitFor(t *testing.T, events int) []webhookEvent {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		rc.mu.Lock()
		n, errs := len(rc.accepted), append([]error(nil), rc.errs...)
		rc.mu.Unlock()
		require.Empty(t, errs, "every delivery verifies")
		if n >= events {
			break
		}
		require.False(t, time.Now().After(deadline), "%d of %d events delivered", n, events)
		time.Sleep(20 * time.Millisecond)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]webhookEvent(nil), rc.accepted...)
}

func TestEngagementOverTenantData(t *testing.T) {
	t.Parallel()
	secret := webhook.NewSecret()
	rc, endpoint := newReceiver(t, secret)
	s := startServer(t, production(env{
		"JARVIS_WEBHOOK_SECRET":         secret.String(),
		"JARVIS_SSRF_ALLOW":             "127.0.0.0/8",
		"JARVIS_CALLBACK_BACKOFF":       "20ms",
		"JARVIS_ENGAGEMENT_WEBHOOK_URL": endpoint.URL + "/engagement",
	}))
	ctx := context.Background()
	scopes := []string{"actions:read", "actions:write", "jobs"}
	_, acme := createKey(t, s, keys.NewKey{Tenant: "acme", User: "manager", Scopes: scopes})
	_, other := createKey(t, s, keys.NewKey{Tenant: "other", User: "manager", Scopes: scopes})
	_, empty := createKey(t, s, keys.NewKey{Tenant: "empty", User: "manager", Scopes: scopes})
	data := tenantdata.NewStore(openDB(t, s))
	_, err := data.LoadDemo(ctx, "acme", tenantdata.DemoSeed, time.Now())
	require.NoError(t, err)
	// The other tenant's few listeners went quiet long ago: at risk, and never acme's.
	yesterday := time.Now().UTC().AddDate(0, 0, -1).Format(time.DateOnly)
	_, err = data.Import(ctx, "other", tenantdata.KindListeners, tenantdata.CSV, strings.NewReader(
		"id,plan,first_seen\nOTHER-1,free,2025-01-01\nOTHER-2,free,2025-01-01\nOTHER-3,free,2025-01-01\n"))
	require.NoError(t, err)
	_, err = data.Import(ctx, "other", tenantdata.KindListenerActivity, tenantdata.CSV, strings.NewReader(
		"listener_id,date,sessions,minutes,tracks\nOTHER-1,2025-02-01,1,10,3\nOTHER-2,2025-02-02,1,10,3\nOTHER-3,"+yesterday+",3,200,50\n"))
	require.NoError(t, err)

	var churnAll client.ChurnAnalysis
	t.Run("detectChurn is fitted on the demo's labels", func(t *testing.T) {
		resp, err := s.Client.DetectChurnWithResponse(ctx, client.ChurnRequest{}, as(acme))
		require.NoError(t, err)
		require.NotNil(t, resp.JSON200, "status %d: %s", resp.StatusCode(), resp.Body)
		require.NotNil(t, resp.JSON200.Meta.Dataset, "an answer from stored data says where it came from")
		assert.Equal(t, client.ResponseMetaDatasetDemo, *resp.JSON200.Meta.Dataset)
		c := resp.JSON200.Churn
		churnAll = c
		assert.Equal(t, client.Embedded, resp.JSON200.Meta.ServedBy)
		require.True(t, c.Model.Fitted)
		require.NotNil(t, c.Model.CrossValidatedAuc)
		assert.GreaterOrEqual(t, *c.Model.CrossValidatedAuc, 0.80)
		assert.Positive(t, c.AtRiskListeners)
		assert.LessOrEqual(t, c.TotalListeners, tenantdata.DemoListeners)
		assert.NotEmpty(t, c.Factors)
		require.NotNil(t, c.Recommendations)
		for _, seg := range c.Segments {
			assert.False(t, strings.HasPrefix(seg.Value, "OTHER"), seg.Segment)
		}
	})

	t.Run("analyzeSentiment over stored feedback and given texts", func(t *testing.T) {
		all := client.SentimentRequestTimeRangeAll
		resp, err := s.Client.AnalyzeSentimentWithResponse(ctx, client.SentimentRequest{TimeRange: &all}, as(acme))
		require.NoError(t, err)
		require.NotNil(t, resp.JSON200, "status %d: %s", resp.StatusCode(), resp.Body)
		a := resp.JSON200.Sentiment
		assert.Equal(t, client.SentimentAnalysisFromFeedback, a.From)
		assert.Equal(t, 300, a.SampleSize)
		assert.Equal(t, client.SentimentScoreLabelMixed, a.Overall.Label, "a third each of positive, negative and neutral")
		require.NotNil(t, a.Trend)
		assert.Equal(t, client.WelchT, a.Trend.Test)

		texts := []string{"The chorus is amazing, I love it!", "The chorus is too loud and annoying."}
		resp, err = s.Client.AnalyzeSentimentWithResponse(ctx, client.SentimentRequest{Texts: texts}, as(other))
		require.NoError(t, err)
		require.NotNil(t, resp.JSON200, "status %d: %s", resp.StatusCode(), resp.Body)
		assert.Equal(t, 2, resp.JSON200.Sentiment.SampleSize)
		assert.Equal(t, 1, resp.JSON200.Sentiment.Distribution.PositiveCount)
		assert.Equal(t, 1, resp.JSON200.Sentiment.Distribution.NegativeCount)
	})

	t.Run("missing data says what to import", func(t *testing.T) {
		resp, err := s.Client.DetectChurnWithResponse(ctx, client.ChurnRequest{}, as(empty))
		require.NoError(t, err)
		require.NotNil(t, resp.ApplicationproblemJSON422, "status %d: %s", resp.StatusCode(), resp.Body)
		assert.Contains(t, resp.ApplicationproblemJSON422.Detail, "jarvis data import listeners FILE")
		assert.Contains(t, resp.ApplicationproblemJSON422.Detail, "POST /admin/data/listeners")
		sent, err := s.Client.AnalyzeSentimentWithResponse(ctx, client.SentimentRequest{}, as(empty))
		require.NoError(t, err)
		require.NotNil(t, sent.ApplicationproblemJSON422, "status %d: %s", sent.StatusCode(), sent.Body)
		assert.Contains(t, sent.ApplicationproblemJSON422.Detail, "jarvis data import feedback FILE")
	})

	t.Run("createReEngagement stores one campaign and delivers signed batches, retried", func(t *testing.T) {
		var free *client.ChurnSegment
		for i, seg := range churnAll.Segments {
			if seg.Segment == "plan=free" {
				free = &churnAll.Segments[i]
			}
		}
		require.NotNil(t, free)
		key := func(_ context.Context, req *http.Request) error {
			req.Header.Set("Idempotency-Key", "win-back-free-1")
			return nil
		}
		value := "7 days of premium"
		body := client.ReEngagementRequest{TargetSegment: "plan=free", Incentive: &client.Incentive{Type: client.Trial, Value: &value}}
		resp, err := s.Client.CreateReEngagementWithResponse(ctx, nil, body, as(acme), key)
		require.NoError(t, err)
		require.NotNil(t, resp.JSON200, "status %d: %s", resp.StatusCode(), resp.Body)
		c := resp.JSON200.Campaign
		assert.Equal(t, client.ReEngagementCampaignStatusActive, c.Status)
		assert.Equal(t, client.ReEngagementDeliveryStatusQueued, c.Delivery.Status)
		assert.Equal(t, free.AtRisk, c.Reach, "the reach is the segment's at-risk count")
		assert.Equal(t, free.Listeners, c.SegmentListeners)
		assert.Equal(t, (c.Reach+c.Delivery.BatchSize-1)/c.Delivery.BatchSize, c.Delivery.Batches)

		events := rc.waitFor(t, c.Delivery.Batches)
		require.Len(t, events, c.Delivery.Batches)
		listeners := map[string]bool{}
		for _, ev := range events {
			assert.Equal(t, "engagement.re-engagement.batch", ev.body.Type)
			assert.Equal(t, c.Id, ev.body.Data.CampaignID)
			for _, m := range ev.body.Data.Messages {
				assert.False(t, strings.HasPrefix(m.ListenerID, "OTHER"), "another tenant's listener %s", m.ListenerID)
				assert.Contains(t, m.Body, "Come back for 7 days of premium.")
				listeners[m.ListenerID] = true
			}
		}
		assert.Len(t, listeners, c.Reach, "each at-risk listener gets one message")
		rc.mu.Lock()
		assert.Equal(t, rc.attempts[0], rc.attempts[1], "the refused first delivery was retried with its id")
		rc.mu.Unlock()

		again, err := s.Client.CreateReEngagementWithResponse(ctx, nil, body, as(acme), key)
		require.NoError(t, err)
		require.NotNil(t, again.JSON200, "status %d: %s", again.StatusCode(), again.Body)
		assert.Equal(t, "true", again.HTTPResponse.Header.Get("Idempotent-Replayed"))
		assert.Equal(t, c.Id, again.JSON200.Campaign.Id)
		n, err := data.CampaignsOnChannel(ctx, "acme", "re-engagement")
		require.NoError(t, err)
		assert.Equal(t, int64(1), n, "the retried call made no second campaign")
	})

	t.Run("another tenant's campaign reaches only its own listeners", func(t *testing.T) {
		resp, err := s.Client.CreateReEngagementWithResponse(ctx, nil, client.ReEngagementRequest{TargetSegment: "all"}, as(other))
		require.NoError(t, err)
		require.NotNil(t, resp.JSON200, "status %d: %s", resp.StatusCode(), resp.Body)
		c := resp.JSON200.Campaign
		assert.Equal(t, 3, c.SegmentListeners)
		assert.Equal(t, 2, c.Reach, "the two gone quiet, not the one who played yesterday")
		for _, m := range c.SampleMessages {
			assert.True(t, strings.HasPrefix(m.ListenerId, "OTHER-"), m.ListenerId)
		}
	})
}

// Without an endpoint the campaign is stored and the answer says nothing was sent and why;
// the actions work through MCP as over HTTP, on the demo artist of the development tenant.
func TestEngagementWithoutEndpointAndOverMCP(t *testing.T) {
	t.Parallel()
	s := startServer(t, env{"JARVIS_DEMO_DATA": "auto"})
	ctx := context.Background()
	resp, err := s.Client.CreateReEngagementWithResponse(ctx, nil, client.ReEngagementRequest{TargetSegment: "all"})
	require.NoError(t, err)
	require.NotNil(t, resp.JSON200, "status %d: %s", resp.StatusCode(), resp.Body)
	c := resp.JSON200.Campaign
	assert.Equal(t, client.ReEngagementCampaignStatusScheduled, c.Status)
	assert.Equal(t, client.ReEngagementDeliveryStatusNotSent, c.Delivery.Status)
	assert.False(t, c.Delivery.EndpointConfigured)
	assert.Contains(t, c.Delivery.Reason, "Nothing was sent")
	assert.Contains(t, c.Delivery.Reason, "JARVIS_ENGAGEMENT_WEBHOOK_URL")
	assert.Positive(t, c.Reach)

	session := mcpSession(t, s, "")
	churn := callTool(t, session, "detectChurn", map[string]any{"riskThreshold": "high", "segmentBy": []any{"plan"}})
	require.False(t, churn.IsError, text(churn))
	analysis := churn.StructuredContent.(map[string]any)["churn"].(map[string]any)
	assert.Equal(t, "high", analysis["riskThreshold"])
	assert.Equal(t, true, analysis["model"].(map[string]any)["fitted"])

	sent := callTool(t, session, "analyzeSentiment", map[string]any{"texts": []any{"great chorus, love it", "terrible mix"}})
	require.False(t, sent.IsError, text(sent))
	assert.EqualValues(t, 2, sent.StructuredContent.(map[string]any)["sentiment"].(map[string]any)["sampleSize"])

	bad := callTool(t, session, "createReEngagement", map[string]any{"targetSegment": "plan=platinum"})
	require.True(t, bad.IsError)
	assert.Contains(t, text(bad), "No current listener")
}
