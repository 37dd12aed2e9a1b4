// Package engagement is the embedded AI Dawg engagement module: sentiment of listener
// feedback, churn risk of listeners, and re-engagement campaigns for those at risk, computed
// from the tenant's stored data (services/tenantdata) or from texts given in the call.
package engagement

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/aidawg/jarvis/gen/aidawg"
	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/engagement/churn"
	"github.com/aidawg/jarvis/services/engagement/reengage"
	"github.com/aidawg/jarvis/services/engagement/sentiment"
	"github.com/aidawg/jarvis/services/jobs"
	"github.com/aidawg/jarvis/services/modules"
	"github.com/aidawg/jarvis/services/tenantdata"
)

// Data is the tenant data the module reads and the campaigns it stores.
type Data interface {
	Dataset(ctx context.Context, tenant string) (string, error)
	FeedbackIn(ctx context.Context, tenant, source string, from, to time.Time, limit int) (tenantdata.FeedbackPage, error)
	ListenerStatsOf(ctx context.Context, tenant string) (tenantdata.ListenerStats, error)
	ListenerWindowsAt(ctx context.Context, tenant string, cut time.Time) ([]tenantdata.ListenerWindows, error)
	CreateCampaign(ctx context.Context, tenant string, c tenantdata.Campaign, actor, reason string) (tenantdata.Campaign, error)
	ChangeCampaign(ctx context.Context, tenant, id string, expected int64, action, actor, reason string,
		change func(*tenantdata.Campaign) error) (tenantdata.Campaign, error)
}

// Outbox queues signed webhook events for delivery with retries (jobs.Service.Deliver).
type Outbox interface {
	Deliver(ctx context.Context, owner services.Owner, typ, url string, events []jobs.Event, at time.Time) (string, error)
}

// Module is the embedded engagement module.
type Module struct {
	data     Data   // nil where no tenant data is kept
	outbox   Outbox // nil where no delivery queue runs
	endpoint string // JARVIS_ENGAGEMENT_WEBHOOK_URL; "" for none
	analyzer *sentiment.Analyzer
	now      func() time.Time
}

// NewModule builds the module. data may be nil (only texts given in a call can then be
// analysed); outbox or endpoint may be missing, and then campaigns are stored but not sent.
func NewModule(data Data, outbox Outbox, endpoint string) *Module {
	return &Module{data: data, outbox: outbox, endpoint: endpoint, analyzer: sentiment.NewAnalyzer(), now: time.Now}
}

func (m *Module) Name() string { return "engagement" }

func (m *Module) Register(reg *modules.Registrar) {
	modules.Handle(reg, modules.CmdAnalyzeSentiment, m.analyzeSentiment)
	modules.Handle(reg, modules.CmdCheckChurnRisk, m.checkChurnRisk)
	modules.Handle(reg, modules.CmdSendEngagement, m.sendEngagement)
}

// Limits of one call.
const (
	// maxFeedback is the most stored texts one analysis reads (the newest of the range).
	maxFeedback = 20000
	// BatchSize is the number of listeners per delivered event.
	BatchSize = 100
	// HorizonDays is the churn window: risk is of churning within it.
	HorizonDays = 30
	// DeliveryOwner owns the records of queued deliveries, apart from the callers' jobs.
	DeliveryOwner = "engagement-outbox"
	// DeliveryJobType names those records.
	DeliveryJobType = "re-engagement-delivery"
	// EventType is the type of each delivered event.
	EventType = "engagement.re-engagement.batch"
)

const importHint = "jarvis data import %s FILE, or POST /admin/data/%s"

func tenantOf(ctx context.Context) (services.Principal, bool) { return services.PrincipalFrom(ctx) }

// Sentiment.

var rangeDays = map[aidawg.AnalyzeSentimentParamsTimeRange]int{"today": 1, "week": 7, "month": 30, "quarter": 90, "year": 365}

func (m *Module) analyzeSentiment(ctx context.Context, p aidawg.AnalyzeSentimentParams) (aidawg.AnalyzeSentimentResult, error) {
	var out aidawg.AnalyzeSentimentResult
	var texts []sentiment.Text
	var from, to time.Time
	a := &out.Sentiment
	if len(p.Texts) > 0 {
		a.From = aidawg.Texts
		for _, t := range p.Texts {
			texts = append(texts, sentiment.Text{Source: "texts", Body: t})
		}
	} else {
		principal, ok := tenantOf(ctx)
		if m.data == nil || !ok {
			return out, modules.InvalidParams("No feedback is stored on this server. Give texts to analyse them.",
				services.FieldError{Field: "/texts", Message: "is required while no feedback is stored"})
		}
		source, timeRange := "", aidawg.AnalyzeSentimentParamsTimeRange("month")
		if p.Source != nil && *p.Source != "all" {
			source = string(*p.Source)
		}
		if p.TimeRange != nil {
			timeRange = *p.TimeRange
		}
		to = m.now().UTC()
		from = time.Unix(0, 0).UTC()
		if d, ok := rangeDays[timeRange]; ok {
			from = to.AddDate(0, 0, -d)
		}
		page, err := m.data.FeedbackIn(ctx, principal.Tenant, source, from, to, maxFeedback)
		if err != nil {
			return out, modules.ExecutionFailed("The stored feedback could not be read.", err)
		}
		if page.Total == 0 {
			return out, m.noFeedback(ctx, principal.Tenant, source, string(timeRange), to)
		}
		a.From = aidawg.Feedback
		stored := int(page.Total)
		a.Stored = &stored
		if timeRange == "all" {
			from = page.Texts[0].At
		}
		a.PeriodStart, a.PeriodEnd = &from, &to
		for _, f := range page.Texts {
			texts = append(texts, sentiment.Text{ID: f.ID, Source: f.Source, Body: f.Body, At: f.At})
		}
		if ds, err := m.data.Dataset(ctx, principal.Tenant); err == nil && ds != "" {
			d := aidawg.Dataset(ds)
			out.Dataset = &d
		}
	}
	sum, err := m.analyzer.Analyze(texts)
	if errors.Is(err, sentiment.ErrNoTexts) {
		return out, modules.InvalidParams("Every text is blank; give texts with words in them.",
			services.FieldError{Field: "/texts", Message: "has no text with words"})
	}
	if err != nil {
		return out, modules.ExecutionFailed("The texts could not be scored.", err)
	}
	a.SampleSize, a.Overall = sum.Overall.N, score(sum.Overall)
	skipped := sum.Skipped
	a.Skipped = &skipped
	a.Distribution = distribution(sum.Overall.Distribution)
	for _, g := range sum.BySource {
		a.BySource = append(a.BySource, aidawg.SourceSentiment{Source: g.Source, Score: round(g.MeanCompound, 4),
			Label: aidawg.SourceSentimentLabel(g.Label), SampleSize: g.N, Distribution: distribution(g.Distribution)})
	}
	if p.IncludeTopics == nil || *p.IncludeTopics {
		topics, err := m.analyzer.Topics(sum.Texts, sentiment.TopicOptions{})
		switch {
		case errors.Is(err, sentiment.ErrNoTopics):
			note := "No phrase occurs in at least 2 texts, so there are no topics."
			a.TopicsNote = &note
		case err != nil:
			return out, modules.ExecutionFailed("The topics could not be extracted.", err)
		}
		for _, t := range topics {
			a.Topics = append(a.Topics, aidawg.TopicSentiment{Term: t.Phrase, Count: t.Count, AverageScore: round(t.MeanCompound, 4),
				Label: aidawg.TopicSentimentLabel(t.Label), Sample: t.Sample})
		}
	}
	if a.From == aidawg.Texts {
		note := "Texts given in the call carry no dates, so there is no trend."
		a.TrendNote = &note
		return out, nil
	}
	points := make([]sentiment.Point, len(sum.Texts))
	for i, s := range sum.Texts {
		points[i] = sentiment.Point{At: s.At, Compound: s.Score.Compound}
	}
	tr, err := sentiment.Trend(points, from, to.Add(time.Millisecond))
	switch {
	case errors.Is(err, sentiment.ErrTooFewPoints), errors.Is(err, sentiment.ErrBadRange):
		note := "The trend needs at least 2 texts in each half of the range; widen timeRange for one."
		a.TrendNote = &note
	case err != nil:
		return out, modules.ExecutionFailed("The trend could not be computed.", err)
	default:
		a.Trend = &aidawg.SentimentTrend{
			FirstHalf:  aidawg.SentimentHalf{Start: tr.First.From, End: tr.First.To, SampleSize: tr.First.N, Score: round(tr.First.Mean, 4)},
			SecondHalf: aidawg.SentimentHalf{Start: tr.Second.From, End: tr.Second.To, SampleSize: tr.Second.N, Score: round(tr.Second.Mean, 4)},
			Change:     round(tr.Change, 4), Test: aidawg.WelchT, T: round(tr.T, 4), Df: round(tr.DF, 2), PValue: round(tr.P, 4),
			Significant: tr.Significant, Direction: direction(tr),
		}
	}
	return out, nil
}

func direction(tr sentiment.TrendResult) aidawg.SentimentTrendDirection {
	switch tr.Direction {
	case "up":
		return aidawg.SentimentTrendDirectionRising
	case "down":
		return aidawg.SentimentTrendDirectionFalling
	}
	return aidawg.SentimentTrendDirectionFlat
}

// noFeedback says what to import, or how to widen the range when feedback exists elsewhere.
func (m *Module) noFeedback(ctx context.Context, tenant, source, timeRange string, to time.Time) *modules.Failure {
	field := services.FieldError{Field: "/timeRange", Message: "holds no stored feedback"}
	what := "feedback"
	if source != "" {
		what = source + " feedback"
	}
	if all, err := m.data.FeedbackIn(ctx, tenant, "", time.Unix(0, 0), to, 0); err == nil && all.Total > 0 {
		return modules.InvalidParams(fmt.Sprintf("No %s is stored for the time range %s (%d feedback texts are stored in all). Widen timeRange (all reads every text), choose another source, or give texts.",
			what, timeRange, all.Total), field)
	}
	return modules.InvalidParams(fmt.Sprintf("No feedback is stored for this account. Import it ("+importHint+"; columns id, source, text, at) or give texts, and ask again.",
		"feedback", "feedback"), services.FieldError{Field: "/texts", Message: "is required while no feedback is stored"})
}

func score(g sentiment.Group) aidawg.SentimentScore {
	return aidawg.SentimentScore{Score: round(g.MeanCompound, 4), Label: aidawg.SentimentScoreLabel(g.Label), SampleSize: g.N}
}

func distribution(d sentiment.Distribution) aidawg.SentimentDistribution {
	return aidawg.SentimentDistribution{Positive: round(d.PositiveShare, 4), Neutral: round(d.NeutralShare, 4), Negative: round(d.NegativeShare, 4),
		PositiveCount: d.Positive, NeutralCount: d.Neutral, NegativeCount: d.Negative}
}

func round(x float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(x*p) / p
}

// Churn.

// Thresholds maps each risk band to the churn probability a listener must reach.
var Thresholds = map[aidawg.RiskLevel]float64{aidawg.High: 0.7, aidawg.Medium: 0.5, aidawg.Low: 0.3}

// dimensions maps the contract's segment dimensions to the churn package's.
var dimensions = map[string]string{"plan": "plan", "country": "country", "age-band": "ageBand", "activity-level": "activity"}

func contractDimension(d string) string {
	for k, v := range dimensions {
		if v == d {
			return k
		}
	}
	return d
}

// analysis is a churn report with what it was computed from.
type analysis struct {
	rep     churn.Report
	rows    map[string]*churn.Observed
	last    map[string]*time.Time // last active day before AsOf, per listener
	dataset string
}

func (m *Module) analyse(ctx context.Context, level aidawg.RiskLevel) (*analysis, *modules.Failure) {
	noData := modules.InvalidParams(fmt.Sprintf("No listeners are stored for this account. Import them and their daily activity ("+importHint+
		", then "+importHint+") and ask again.", "listeners", "listeners", "listener-activity", "listener-activity"))
	principal, ok := tenantOf(ctx)
	if m.data == nil || !ok {
		return nil, noData
	}
	tenant := principal.Tenant
	st, err := m.data.ListenerStatsOf(ctx, tenant)
	if err != nil {
		return nil, modules.ExecutionFailed("The stored listeners could not be read.", err)
	}
	if st.Listeners == 0 {
		return nil, noData
	}
	if st.ActivityRows == 0 || st.LastActivity == nil {
		return nil, modules.InvalidParams(fmt.Sprintf("%d listeners are stored but none of their daily activity. Import it ("+importHint+
			"; columns listener_id, date, sessions, minutes, tracks) and ask again.", st.Listeners, "listener-activity", "listener-activity"))
	}
	today := m.now().UTC()
	today = time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, time.UTC)
	asOf := st.LastActivity.AddDate(0, 0, 1)
	if today.Before(asOf) {
		asOf = today
	}
	now, err := m.data.ListenerWindowsAt(ctx, tenant, asOf)
	if err != nil {
		return nil, modules.ExecutionFailed("The listeners' activity could not be summed.", err)
	}
	an := &analysis{rows: make(map[string]*churn.Observed, len(now)), last: make(map[string]*time.Time, len(now))}
	rows := make([]churn.Observed, len(now))
	for i, lw := range now {
		// A listener without a churn date stayed, when the data carries churn dates at all.
		rows[i] = churn.Observed{ID: lw.ID, Plan: lw.Plan, Country: lw.Country, AgeBand: lw.AgeBand, FirstSeen: lw.FirstSeen,
			Labelled: st.Labelled > 0, ChurnedAt: lw.ChurnedAt, AtAsOf: churn.WindowFeatures(lw.Windows)}
		an.last[lw.ID] = lw.Windows.LastActive
	}
	for i := range rows {
		an.rows[rows[i].ID] = &rows[i]
	}
	if st.Labelled > 0 {
		then, err := m.data.ListenerWindowsAt(ctx, tenant, asOf.AddDate(0, 0, -HorizonDays))
		if err != nil {
			return nil, modules.ExecutionFailed("The listeners' activity could not be summed.", err)
		}
		for _, lw := range then {
			if o := an.rows[lw.ID]; o != nil {
				o.AtObservation = churn.WindowFeatures(lw.Windows)
			}
		}
	}
	an.rep, err = churn.AnalyzeObserved(rows, churn.Options{AsOf: asOf, HorizonDays: HorizonDays, Threshold: Thresholds[level], Seed: 1})
	if err != nil {
		return nil, modules.ExecutionFailed("The churn risk could not be computed.", err)
	}
	if an.rep.Current == 0 {
		return nil, modules.InvalidParams(fmt.Sprintf("None of the %d stored listeners is current on %s (all churned or first seen later); import current listeners and their activity ("+importHint+").",
			st.Listeners, asOf.Format(time.DateOnly), "listeners", "listeners"))
	}
	an.dataset, _ = m.data.Dataset(ctx, tenant)
	return an, nil
}

func level(p *aidawg.RiskLevel) aidawg.RiskLevel {
	if p == nil || Thresholds[*p] == 0 {
		return aidawg.Medium
	}
	return *p
}

func (m *Module) checkChurnRisk(ctx context.Context, p aidawg.CheckChurnRiskParams) (aidawg.CheckChurnRiskResult, error) {
	lvl := level(p.RiskThreshold)
	an, f := m.analyse(ctx, lvl)
	if f != nil {
		return aidawg.CheckChurnRiskResult{}, f
	}
	rep := an.rep
	want := map[string]bool{}
	for _, d := range p.SegmentBy {
		want[dimensions[string(d)]] = true
	}
	if len(want) == 0 {
		for _, d := range dimensions {
			want[d] = true
		}
	}
	out := aidawg.ChurnAnalysis{
		AsOf: openapi_types.Date{Time: rep.AsOf}, HorizonDays: rep.HorizonDays, RiskThreshold: lvl, Threshold: rep.Threshold,
		TotalListeners: rep.Current, AtRiskListeners: rep.AtRisk, PredictedChurnRate: round(rep.Overall.PredictedRate, 4),
		Model: model(rep), Factors: []aidawg.ChurnFactor{}, Segments: []aidawg.ChurnSegment{},
	}
	if rep.Training > 0 {
		n := rep.Overall.Labelled
		out.LabelledListeners = &n
		if rep.Overall.ObservedRate != nil {
			r := round(*rep.Overall.ObservedRate, 4)
			out.ObservedChurnRate = &r
		}
	}
	for _, fc := range rep.Factors {
		out.Factors = append(out.Factors, aidawg.ChurnFactor{Name: aidawg.ChurnFactorName(fc.Name), Weight: round(fc.Weight, 4), OddsRatio: round(fc.OddsRatio, 4)})
	}
	for _, s := range rep.Segments {
		if !want[s.Dimension] {
			continue
		}
		seg := aidawg.ChurnSegment{Segment: contractDimension(s.Dimension) + "=" + s.Value, Dimension: aidawg.ChurnSegmentDimension(contractDimension(s.Dimension)),
			Value: s.Value, Listeners: s.Listeners, AtRisk: s.AtRisk, PredictedRate: round(s.PredictedRate, 4), Labelled: s.Labelled}
		if s.ObservedRate != nil {
			r := round(*s.ObservedRate, 4)
			seg.ObservedRate = &r
		}
		out.Segments = append(out.Segments, seg)
	}
	if p.IncludeRecommendations == nil || *p.IncludeRecommendations {
		out.Recommendations = []aidawg.ChurnRecommendation{}
		for _, r := range rep.Recommendations {
			name := "all"
			if r.Dimension != "all" {
				if !want[r.Dimension] {
					continue
				}
				name = contractDimension(r.Dimension) + "=" + r.Value
			}
			out.Recommendations = append(out.Recommendations, aidawg.ChurnRecommendation{Segment: name, Figure: round(r.Figure, 4), Text: r.Text})
		}
	}
	res := aidawg.CheckChurnRiskResult{Churn: out}
	if an.dataset != "" {
		d := aidawg.Dataset(an.dataset)
		res.Dataset = &d
	}
	return res, nil
}

func model(rep churn.Report) aidawg.ChurnModel {
	m := aidawg.ChurnModel{Fitted: rep.Fitted, TrainingListeners: rep.Training}
	if rep.Fitted {
		m.Method = "logistic regression with an L2 penalty (λ = 0.01), fitted by L-BFGS on listeners labelled at the observation date"
		auc := round(rep.CV.AUC, 4)
		folds := rep.CV.Folds
		m.CrossValidatedAuc, m.Folds = &auc, &folds
		return m
	}
	m.Method = "unfitted fixed-weight logistic score of recency, frequency and trend (README, Engagement)"
	why := rep.UnfittedReason
	if why == "" || rep.Training == 0 {
		why = "the listener data carries no churn labels (churned_at), so nothing can be fitted; the score ranks listeners but is not a calibrated probability"
	}
	m.UnfittedReason = &why
	return m
}

// Re-engagement.

// DefaultTemplate is the message when the call gives none; the incentive sentence is added
// when an incentive is offered.
const DefaultTemplate = "We miss you! You last listened on {{lastPlayed}}. There is new music waiting for you."

func (m *Module) sendEngagement(ctx context.Context, p aidawg.SendEngagementParams) (aidawg.SendEngagementResult, error) {
	var out aidawg.SendEngagementResult
	dim, value, f := parseSegment(p.TargetSegment)
	if f != nil {
		return out, f
	}
	incentive := ""
	if p.Incentive != nil {
		if p.Incentive.Value != nil {
			incentive = strings.TrimSpace(*p.Incentive.Value)
		}
		if incentive == "" {
			incentive = string(p.Incentive.Type)
		}
	}
	text := DefaultTemplate
	if incentive != "" {
		text += " Come back for {{incentive}}."
	}
	if p.Message != nil {
		text = *p.Message
	}
	tmpl, err := reengage.Parse(text)
	if err != nil {
		return out, modules.InvalidParams("The message template cannot be used: "+strings.TrimPrefix(err.Error(), "reengage: ")+".",
			services.FieldError{Field: "/message", Message: strings.TrimPrefix(err.Error(), "reengage: ")})
	}
	if tmpl.Uses(reengage.FavouritePlatform) {
		return out, modules.InvalidParams("The stored listener data holds no platform per listener, so {{favouritePlatform}} cannot be filled in. Remove it from the message.",
			services.FieldError{Field: "/message", Message: "uses {{favouritePlatform}}, which the listener data does not carry"})
	}
	if tmpl.Uses(reengage.Incentive) && incentive == "" {
		return out, modules.InvalidParams("The message uses {{incentive}} but no incentive is given. Give incentive, or remove the placeholder.",
			services.FieldError{Field: "/incentive", Message: "is required when the message uses {{incentive}}"})
	}
	lvl := level(p.RiskThreshold)
	an, f := m.analyse(ctx, lvl)
	if f != nil {
		return out, f
	}
	principal, _ := tenantOf(ctx)

	inSegment, neverPlayed := 0, 0
	var recipients []reengage.Recipient
	values := map[string]bool{}
	for _, s := range an.rep.Scores {
		o := an.rows[s.ID]
		v := map[string]string{"plan": o.Plan, "country": o.Country, "ageBand": o.AgeBand, "activity": s.Activity}[dim]
		if dim != "all" {
			if v == "" {
				v = "unknown"
			}
			values[v] = true
			if v != value {
				continue
			}
		}
		inSegment++
		if !s.AtRisk {
			continue
		}
		last := an.last[s.ID]
		if last == nil && tmpl.Uses(reengage.LastPlayed) {
			neverPlayed++
			continue
		}
		r := reengage.Recipient{ListenerID: s.ID}
		if last != nil {
			r.LastPlayed = *last
		}
		recipients = append(recipients, r)
	}
	if inSegment == 0 {
		return out, modules.InvalidParams(fmt.Sprintf("No current listener is in the segment %s. Segments are those detectChurn answers, such as %s.",
			p.TargetSegment, examples(dim, values)), services.FieldError{Field: "/targetSegment", Message: "matches no current listener"})
	}
	if len(recipients) == 0 {
		return out, modules.InvalidParams(fmt.Sprintf("None of the %d listeners of %s is at risk at the %s threshold (churn probability %.0f%% or more)%s. Lower riskThreshold or choose another segment.",
			inSegment, p.TargetSegment, lvl, 100*Thresholds[lvl], neverPlayedNote(neverPlayed)),
			services.FieldError{Field: "/targetSegment", Message: "has no at-risk listener"})
	}
	batches, err := reengage.Build(tmpl, recipients, reengage.Options{Incentive: incentive, BatchSize: BatchSize})
	if err != nil {
		return out, modules.ExecutionFailed("The messages could not be written.", err)
	}

	now := m.now().UTC().Truncate(time.Second)
	sendAt := now
	if p.Schedule != nil && p.Schedule.SendAt.After(now) {
		sendAt = p.Schedule.SendAt.UTC()
	}
	id := "reng_" + strings.ToLower(rand.Text()[:16])
	name := fmt.Sprintf("Re-engagement, %s", p.TargetSegment)
	if p.Name != nil {
		name = *p.Name
	}
	campaignType := aidawg.CampaignChannel("email")
	if p.CampaignType != nil {
		campaignType = *p.CampaignType
	}
	c := aidawg.ReEngagementCampaign{
		Id: id, Name: name, Channel: aidawg.ReEngagement, CampaignType: campaignType, TargetSegment: p.TargetSegment,
		RiskThreshold: lvl, Status: aidawg.ReEngagementCampaignStatusScheduled, SegmentListeners: inSegment,
		Reach: len(recipients), Incentive: p.Incentive, Template: text, SampleMessages: []aidawg.OutreachMessage{},
		ScheduledAt: &sendAt, CreatedAt: now,
		Delivery: aidawg.ReEngagementDelivery{Status: aidawg.NotSent, EndpointConfigured: m.endpoint != "", BatchSize: BatchSize},
	}
	for _, msg := range batches[0][:min(3, len(batches[0]))] {
		c.SampleMessages = append(c.SampleMessages, aidawg.OutreachMessage{ListenerId: msg.ListenerID, Body: msg.Body})
	}
	audience := fmt.Sprintf("%d at-risk listeners (churn probability %.0f%% or more) of %s, as of %s",
		len(recipients), 100*Thresholds[lvl], p.TargetSegment, an.rep.AsOf.Format(time.DateOnly))
	day := sendAt.UTC().Format(time.DateOnly)
	if _, err := m.data.CreateCampaign(ctx, principal.Tenant, tenantdata.Campaign{ID: id, Name: name, Channel: "re-engagement",
		Currency: "USD", TargetAudience: &audience, Status: "scheduled", StartDay: day, EndDay: day},
		principal.Actor(), "re-engagement of "+p.TargetSegment); err != nil {
		return out, modules.ExecutionFailed("The campaign could not be stored.", err)
	}
	c.Delivery.Reason = m.deliver(ctx, principal, &c, batches, sendAt, neverPlayed)
	if c.Delivery.Status == aidawg.Queued && !sendAt.After(now) {
		c.Status = aidawg.ReEngagementCampaignStatusActive
		if _, err := m.data.ChangeCampaign(ctx, principal.Tenant, id, 0, "activate", principal.Actor(), "its messages were queued for delivery",
			func(c *tenantdata.Campaign) error { c.Status = "active"; return nil }); err != nil {
			return out, modules.ExecutionFailed("The campaign's status could not be stored.", err)
		}
	}
	out.Campaign = c
	if an.dataset != "" {
		d := aidawg.Dataset(an.dataset)
		out.Dataset = &d
	}
	return out, nil
}

// deliver queues one signed event per batch and says what happened, or why nothing was sent.
func (m *Module) deliver(ctx context.Context, principal services.Principal, c *aidawg.ReEngagementCampaign, batches [][]reengage.Message,
	at time.Time, neverPlayed int) string {
	left := neverPlayedNote(neverPlayed)
	if m.endpoint == "" {
		return "Nothing was sent: no delivery endpoint is configured (JARVIS_ENGAGEMENT_WEBHOOK_URL). The campaign is stored as scheduled" + left + "."
	}
	if m.outbox == nil {
		return "Nothing was sent: this server runs no delivery queue. The campaign is stored as scheduled" + left + "."
	}
	events := make([]jobs.Event, len(batches))
	for i, b := range batches {
		msgs := make([]aidawg.OutreachMessage, len(b))
		for j, msg := range b {
			msgs[j] = aidawg.OutreachMessage{ListenerId: msg.ListenerID, Body: msg.Body}
		}
		body, err := json.Marshal(map[string]any{"type": EventType, "timestamp": m.now().UTC(), "data": map[string]any{
			"campaignId": c.Id, "campaignName": c.Name, "campaignType": c.CampaignType, "targetSegment": c.TargetSegment,
			"incentive": c.Incentive, "sendAt": at, "batch": i + 1, "batches": len(batches), "messages": msgs,
		}})
		if err != nil {
			return "Nothing was sent: the events could not be written (" + err.Error() + "). The campaign is stored as scheduled."
		}
		events[i] = jobs.Event{Type: EventType, Body: body}
	}
	if _, err := m.outbox.Deliver(ctx, services.Owner{Tenant: principal.Tenant, User: DeliveryOwner}, DeliveryJobType, m.endpoint, events, at); err != nil {
		return "Nothing was sent: the deliveries could not be queued (" + err.Error() + "). The campaign is stored as scheduled" + left + "."
	}
	c.Delivery.Status, c.Delivery.Batches = aidawg.Queued, len(batches)
	when := "now"
	if at.After(m.now()) {
		when = "from " + at.Format(time.RFC3339)
	}
	return fmt.Sprintf("%d signed events of up to %d listeners each are queued for the configured endpoint, sent %s and retried until it accepts them%s.",
		len(batches), BatchSize, when, left)
}

func neverPlayedNote(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("; %d at-risk listeners who never played were left out, as the message names their last play", n)
}

func parseSegment(s string) (dim, value string, f *modules.Failure) {
	s = strings.TrimSpace(s)
	if s == "all" {
		return "all", "", nil
	}
	k, v, ok := strings.Cut(s, "=")
	if d, known := dimensions[strings.TrimSpace(k)]; ok && known && strings.TrimSpace(v) != "" {
		return d, strings.TrimSpace(v), nil
	}
	return "", "", modules.InvalidParams(fmt.Sprintf("targetSegment %q is not a segment. Give all, or dimension=value with a dimension of plan, country, age-band or activity-level, such as plan=free, as detectChurn answers them.", s),
		services.FieldError{Field: "/targetSegment", Message: "must be all or dimension=value"})
}

func examples(dim string, values map[string]bool) string {
	var out []string
	for v := range values {
		out = append(out, contractDimension(dim)+"="+v)
		if len(out) == 3 {
			break
		}
	}
	if len(out) == 0 {
		return "plan=free"
	}
	return strings.Join(out, ", ")
}
