package engagement

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/gen/aidawg"
	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/engagement/churn"
	"github.com/aidawg/jarvis/services/jobs"
	"github.com/aidawg/jarvis/services/modules"
	"github.com/aidawg/jarvis/services/storage"
	"github.com/aidawg/jarvis/services/storage/storagetest"
	"github.com/aidawg/jarvis/services/tenantdata"
)

var asOf = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

func as(tenant string) context.Context {
	return services.WithPrincipal(context.Background(), services.Principal{Tenant: tenant, User: "u1"})
}

// outbox records what would be delivered.
type outbox struct {
	owner  services.Owner
	url    string
	events []jobs.Event
	err    error
}

func (o *outbox) Deliver(_ context.Context, owner services.Owner, _, url string, events []jobs.Event, _ time.Time) (string, error) {
	o.owner, o.url, o.events = owner, url, events
	return "job_1", o.err
}

// demoStore holds the demo artist in tenant demo, loaded once for the package's tests
// (loading it takes seconds); tests that write to it count what they add.
var demoStore *tenantdata.Store

func TestMain(m *testing.M) {
	os.Exit(func() int {
		dir, err := os.MkdirTemp("", "engagement-test")
		if err != nil {
			panic(err)
		}
		defer os.RemoveAll(dir)
		ctx := context.Background()
		db, err := storage.Open(ctx, "sqlite:"+filepath.Join(dir, "demo.db"), dir)
		if err != nil {
			panic(err)
		}
		defer db.Close()
		if _, err := db.Migrate(ctx); err != nil {
			panic(err)
		}
		demoStore = tenantdata.NewStore(db)
		if _, err := demoStore.LoadDemo(ctx, "demo", tenantdata.DemoSeed, asOf); err != nil {
			panic(err)
		}
		return m.Run()
	}())
}

func newDemoModule(t *testing.T, box Outbox, endpoint string) (*Module, *tenantdata.Store) {
	t.Helper()
	data := demoStore
	m := NewModule(data, box, endpoint)
	m.now = func() time.Time { return asOf.Add(9 * time.Hour) }
	return m, data
}

func invalid(t *testing.T, err error) *modules.Failure {
	t.Helper()
	var f *modules.Failure
	require.True(t, errors.As(err, &f), "%v", err)
	assert.Equal(t, aidawg.INVALIDPARAMS, f.Code)
	return f
}

func TestChurnOnTheDemoData(t *testing.T) {
	m, _ := newDemoModule(t, nil, "")
	res, err := m.checkChurnRisk(as("demo"), aidawg.CheckChurnRiskParams{})
	require.NoError(t, err)
	c := res.Churn
	assert.Equal(t, "2026-03-01", c.AsOf.Format(time.DateOnly), "the day after the last activity")
	require.True(t, c.Model.Fitted, "the demo carries churn labels")
	require.NotNil(t, c.Model.CrossValidatedAuc)
	t.Logf("cross-validated AUC %.3f over %d labelled listeners", *c.Model.CrossValidatedAuc, c.Model.TrainingListeners)
	assert.GreaterOrEqual(t, *c.Model.CrossValidatedAuc, 0.80, "held-out folds of the demo listeners")
	assert.Equal(t, aidawg.Medium, c.RiskThreshold)
	assert.InDelta(t, 0.5, c.Threshold, 0)
	assert.Positive(t, c.AtRiskListeners)
	assert.Less(t, c.AtRiskListeners, c.TotalListeners)
	require.NotNil(t, res.Dataset)
	assert.Equal(t, aidawg.Dataset("demo"), *res.Dataset)
	dims := map[aidawg.ChurnSegmentDimension]int{}
	for _, s := range c.Segments {
		dims[s.Dimension] += s.Listeners
		assert.Equal(t, string(s.Dimension)+"="+s.Value, s.Segment)
	}
	for _, d := range []aidawg.ChurnSegmentDimension{"plan", "country", "age-band", "activity-level"} {
		assert.Equal(t, c.TotalListeners, dims[d], "every listener is in one %s segment", d)
	}
	require.NotEmpty(t, c.Recommendations)
	for _, r := range c.Recommendations {
		assert.True(t, r.Segment == "all" || strings.Contains(r.Segment, "="), r.Segment)
	}

	// A stricter band has fewer at risk; segmentBy keeps only the dimensions asked for.
	high := aidawg.High
	res2, err := m.checkChurnRisk(as("demo"), aidawg.CheckChurnRiskParams{RiskThreshold: &high, SegmentBy: []aidawg.CheckChurnRiskParamsSegmentBy{"plan"}})
	require.NoError(t, err)
	assert.Less(t, res2.Churn.AtRiskListeners, c.AtRiskListeners)
	for _, s := range res2.Churn.Segments {
		assert.Equal(t, aidawg.ChurnSegmentDimension("plan"), s.Dimension)
	}
}

func TestChurnAUCOnHeldOutDemoListeners(t *testing.T) {
	// Fit on the demo listeners through the database's features, then score listeners the fit
	// never saw (another seed of the same churn process).
	_, data := newDemoModule(t, nil, "")
	ctx := as("demo")
	rows := func(store *tenantdata.Store, tenant string) []churn.Observed {
		now, err := store.ListenerWindowsAt(ctx, tenant, asOf)
		require.NoError(t, err)
		then, err := store.ListenerWindowsAt(ctx, tenant, asOf.AddDate(0, 0, -HorizonDays))
		require.NoError(t, err)
		out := make([]churn.Observed, len(now))
		for i, lw := range now {
			out[i] = churn.Observed{ID: lw.ID, FirstSeen: lw.FirstSeen, Labelled: true, ChurnedAt: lw.ChurnedAt,
				AtAsOf: churn.WindowFeatures(lw.Windows), AtObservation: churn.WindowFeatures(then[i].Windows)}
		}
		return out
	}
	trainX, trainY := churn.ObservedTrainingSet(rows(data, "demo"), asOf, HorizonDays)
	fit, err := churn.Fit(trainX, trainY, 0.01)
	require.NoError(t, err)
	_, err = data.LoadDemo(ctx, "held-out", 2, asOf)
	require.NoError(t, err)
	testX, testY := churn.ObservedTrainingSet(rows(data, "held-out"), asOf, HorizonDays)
	scores := make([]float64, len(testX))
	for i, x := range testX {
		scores[i] = fit.Score(churn.Features{RecencyDays: x[0], ActiveDays28: x[1], ActiveDays90: x[2], Minutes28: expm1(x[3]), Trend: x[4]})
	}
	auc, err := churn.AUC(scores, testY)
	require.NoError(t, err)
	t.Logf("held-out AUC %.3f on %d listeners", auc, len(testY))
	assert.GreaterOrEqual(t, auc, 0.80)
}

func TestChurnWithoutLabelsIsUnfitted(t *testing.T) {
	db := storagetest.Open(t, storagetest.SQLiteURL(t))
	data := tenantdata.NewStore(db)
	ctx := context.Background()
	_, err := data.Import(ctx, "t1", tenantdata.KindListeners, tenantdata.CSV, strings.NewReader(
		"id,plan,first_seen\na,free,2025-01-01\nb,premium,2025-01-01\nc,free,2025-06-01\n"))
	require.NoError(t, err)
	m := NewModule(data, nil, "")
	m.now = func() time.Time { return asOf }

	_, err = m.checkChurnRisk(as("t1"), aidawg.CheckChurnRiskParams{})
	f := invalid(t, err)
	assert.Contains(t, f.Message, "jarvis data import listener-activity FILE")

	_, err = data.Import(ctx, "t1", tenantdata.KindListenerActivity, tenantdata.CSV, strings.NewReader(
		"listener_id,date,sessions,minutes,tracks\na,2026-02-27,2,60,15\nb,2025-12-01,1,10,3\nc,2026-02-20,1,30,8\n"))
	require.NoError(t, err)
	res, err := m.checkChurnRisk(as("t1"), aidawg.CheckChurnRiskParams{})
	require.NoError(t, err)
	assert.False(t, res.Churn.Model.Fitted)
	require.NotNil(t, res.Churn.Model.UnfittedReason)
	assert.Contains(t, *res.Churn.Model.UnfittedReason, "no churn labels")
	assert.Nil(t, res.Churn.Model.CrossValidatedAuc)
	assert.Equal(t, 3, res.Churn.TotalListeners)
	// The segments' rates by hand: features as of 2026-02-28 (the day after the last play),
	// scored with the unfitted formula.
	assert.Equal(t, "2026-02-28", res.Churn.AsOf.Format(time.DateOnly))
	u := churn.Unfitted()
	pa := u.Score(churn.Features{RecencyDays: 1, ActiveDays28: 1, ActiveDays90: 1, Minutes28: 60, Trend: 5.0 / 7.5})
	pc := u.Score(churn.Features{RecencyDays: 8, ActiveDays28: 1, ActiveDays90: 1, Minutes28: 30, Trend: 75.0 / 42 / 3.75})
	pb := u.Score(churn.Features{RecencyDays: 89, ActiveDays90: 1})
	rates := map[string]float64{}
	for _, seg := range res.Churn.Segments {
		rates[seg.Segment] = seg.PredictedRate
	}
	assert.InDelta(t, (pa+pc)/2, rates["plan=free"], 1e-4)
	assert.InDelta(t, pb, rates["plan=premium"], 1e-4)
	assert.InDelta(t, (pa+pb+pc)/3, res.Churn.PredictedChurnRate, 1e-4)
	atRisk := 0
	for _, p := range []float64{pa, pb, pc} {
		if p >= 0.5 {
			atRisk++
		}
	}
	assert.Equal(t, atRisk, res.Churn.AtRiskListeners)
	require.NotNil(t, res.Dataset)
	assert.Equal(t, aidawg.Dataset("imported"), *res.Dataset)

	// Another tenant has nothing.
	_, err = m.checkChurnRisk(as("t2"), aidawg.CheckChurnRiskParams{})
	assert.Contains(t, invalid(t, err).Message, "jarvis data import listeners FILE")
}

func TestSentimentOverStoredFeedback(t *testing.T) {
	m, _ := newDemoModule(t, nil, "")
	all := aidawg.AnalyzeSentimentParamsTimeRange("all")
	res, err := m.analyzeSentiment(as("demo"), aidawg.AnalyzeSentimentParams{TimeRange: &all})
	require.NoError(t, err)
	s := res.Sentiment
	assert.Equal(t, aidawg.Feedback, s.From)
	assert.Equal(t, 300, s.SampleSize)
	// The demo's feedback is a third each of positive, negative and neutral texts.
	assert.Equal(t, aidawg.SentimentScoreLabelMixed, s.Overall.Label)
	assert.Equal(t, 100, s.Distribution.PositiveCount)
	assert.Equal(t, 100, s.Distribution.NegativeCount)
	assert.Equal(t, 100, s.Distribution.NeutralCount)
	n := 0
	for _, g := range s.BySource {
		n += g.SampleSize
	}
	assert.Equal(t, 300, n)
	require.NotEmpty(t, s.Topics)
	require.NotNil(t, s.Trend, "%v", s.TrendNote)
	assert.Equal(t, 300, s.Trend.FirstHalf.SampleSize+s.Trend.SecondHalf.SampleSize)
	assert.False(t, s.Trend.Significant, "the demo's polarity does not change over time")

	social := aidawg.AnalyzeSentimentParamsSource("social")
	res, err = m.analyzeSentiment(as("demo"), aidawg.AnalyzeSentimentParams{TimeRange: &all, Source: &social})
	require.NoError(t, err)
	require.Len(t, res.Sentiment.BySource, 1)
	assert.Equal(t, "social", res.Sentiment.BySource[0].Source)

	// No feedback in the range says so; no feedback at all says what to import.
	today := aidawg.AnalyzeSentimentParamsTimeRange("today")
	m.now = func() time.Time { return asOf.AddDate(1, 0, 0) }
	_, err = m.analyzeSentiment(as("demo"), aidawg.AnalyzeSentimentParams{TimeRange: &today})
	assert.Contains(t, invalid(t, err).Message, "300 feedback texts are stored in all")
	_, err = m.analyzeSentiment(as("nobody"), aidawg.AnalyzeSentimentParams{})
	assert.Contains(t, invalid(t, err).Message, "jarvis data import feedback FILE")
}

func TestSentimentOfGivenTexts(t *testing.T) {
	m := NewModule(nil, nil, "")
	res, err := m.analyzeSentiment(context.Background(), aidawg.AnalyzeSentimentParams{Texts: []string{
		"I love the new album, the vocals are amazing!", "The new album is boring.", "The new album comes out Friday.", "  ",
	}})
	require.NoError(t, err)
	s := res.Sentiment
	assert.Equal(t, aidawg.Texts, s.From)
	assert.Equal(t, 3, s.SampleSize)
	assert.Equal(t, 1, *s.Skipped)
	require.NotEmpty(t, s.Topics)
	assert.Equal(t, "new album", s.Topics[0].Term)
	assert.Equal(t, 3, s.Topics[0].Count)
	assert.Nil(t, s.Trend)
	require.NotNil(t, s.TrendNote)
	_, err = m.analyzeSentiment(context.Background(), aidawg.AnalyzeSentimentParams{})
	invalid(t, err)
}

func TestReEngagement(t *testing.T) {
	t.Run("queued for the endpoint, one event per batch", func(t *testing.T) {
		box := &outbox{}
		m, data := newDemoModule(t, box, "https://crm.example.com/hook")
		before, err := data.CampaignsOnChannel(context.Background(), "demo", "re-engagement")
		require.NoError(t, err)
		trial := "7 days of premium"
		res, err := m.sendEngagement(as("demo"), aidawg.SendEngagementParams{TargetSegment: "plan=free",
			Incentive: &aidawg.Incentive{Type: "trial", Value: &trial}})
		require.NoError(t, err)
		c := res.Campaign
		assert.Equal(t, aidawg.ReEngagementCampaignStatusActive, c.Status)
		assert.Equal(t, aidawg.Queued, c.Delivery.Status)
		assert.Positive(t, c.Reach)
		assert.LessOrEqual(t, c.Reach, c.SegmentListeners)
		assert.Equal(t, (c.Reach+BatchSize-1)/BatchSize, c.Delivery.Batches)
		require.Len(t, box.events, c.Delivery.Batches)
		assert.Equal(t, "https://crm.example.com/hook", box.url)
		assert.Equal(t, services.Owner{Tenant: "demo", User: DeliveryOwner}, box.owner)

		// The reach is the free plan's at-risk listeners by the churn analysis itself.
		churnRes, err := m.checkChurnRisk(as("demo"), aidawg.CheckChurnRiskParams{SegmentBy: []aidawg.CheckChurnRiskParamsSegmentBy{"plan"}})
		require.NoError(t, err)
		for _, s := range churnRes.Churn.Segments {
			if s.Segment == "plan=free" {
				assert.Equal(t, s.AtRisk, c.Reach)
				assert.Equal(t, s.Listeners, c.SegmentListeners)
			}
		}
		seen := 0
		for _, e := range box.events {
			var body struct {
				Type string
				Data struct {
					CampaignID string `json:"campaignId"`
					Messages   []aidawg.OutreachMessage
				}
			}
			require.NoError(t, json.Unmarshal(e.Body, &body))
			assert.Equal(t, EventType, body.Type)
			assert.Equal(t, c.Id, body.Data.CampaignID)
			for _, msg := range body.Data.Messages {
				assert.Contains(t, msg.Body, "You last listened on ")
				assert.Contains(t, msg.Body, "Come back for 7 days of premium.")
				seen++
			}
		}
		assert.Equal(t, c.Reach, seen)
		n, err := data.CampaignsOnChannel(context.Background(), "demo", "re-engagement")
		require.NoError(t, err)
		assert.Equal(t, before+1, n)
	})

	t.Run("no endpoint: stored as scheduled, nothing sent, and why", func(t *testing.T) {
		box := &outbox{}
		m, data := newDemoModule(t, box, "")
		before, err := data.CampaignsOnChannel(context.Background(), "demo", "re-engagement")
		require.NoError(t, err)
		res, err := m.sendEngagement(as("demo"), aidawg.SendEngagementParams{TargetSegment: "all"})
		require.NoError(t, err)
		c := res.Campaign
		assert.Equal(t, aidawg.ReEngagementCampaignStatusScheduled, c.Status)
		assert.Equal(t, aidawg.NotSent, c.Delivery.Status)
		assert.False(t, c.Delivery.EndpointConfigured)
		assert.Zero(t, c.Delivery.Batches)
		assert.Contains(t, c.Delivery.Reason, "JARVIS_ENGAGEMENT_WEBHOOK_URL")
		assert.Empty(t, box.events)
		n, err := data.CampaignsOnChannel(context.Background(), "demo", "re-engagement")
		require.NoError(t, err)
		assert.Equal(t, before+1, n, "stored all the same")
	})

	t.Run("refusals", func(t *testing.T) {
		m, _ := newDemoModule(t, &outbox{}, "https://crm.example.com/hook")
		for _, tc := range []struct {
			p    aidawg.SendEngagementParams
			want string
		}{
			{aidawg.SendEngagementParams{TargetSegment: "free"}, "dimension=value"},
			{aidawg.SendEngagementParams{TargetSegment: "plan=platinum"}, "No current listener"},
			{aidawg.SendEngagementParams{TargetSegment: "all", Message: ptr("Hi {{name}}")}, "unknown placeholder"},
			{aidawg.SendEngagementParams{TargetSegment: "all", Message: ptr("On {{favouritePlatform}}")}, "no platform per listener"},
			{aidawg.SendEngagementParams{TargetSegment: "all", Message: ptr("Take {{incentive}}")}, "no incentive"},
		} {
			_, err := m.sendEngagement(as("demo"), tc.p)
			assert.Contains(t, invalid(t, err).Message, tc.want, tc.p.TargetSegment)
		}
		_, err := m.sendEngagement(as("nobody"), aidawg.SendEngagementParams{TargetSegment: "all"})
		invalid(t, err)
	})
}

func ptr[T any](v T) *T { return &v }

// expm1 undoes the log(1 + minutes) of a feature row, to turn it back into Features.
func expm1(x float64) float64 { return math.Expm1(x) }

// BenchmarkCheckChurnRiskDemo times detectChurn's module work on the demo artist's 3,000
// listeners on SQLite: the two aggregate queries of activity windows, the cross-validated fit,
// scoring and segments.
func BenchmarkCheckChurnRiskDemo(b *testing.B) {
	m := NewModule(demoStore, nil, "")
	m.now = func() time.Time { return asOf.Add(9 * time.Hour) }
	ctx := as("demo")
	cpu := cpuTime(b)
	for b.Loop() {
		res, err := m.checkChurnRisk(ctx, aidawg.CheckChurnRiskParams{})
		if err != nil || !res.Churn.Model.Fitted {
			b.Fatal(err)
		}
	}
	b.ReportMetric((cpuTime(b)-cpu).Seconds()/float64(b.N), "cpu-s/op")
}

// cpuTime is the process's CPU time: on a shared machine wall-clock time says more about the
// neighbours than about the code.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
