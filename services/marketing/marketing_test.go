package marketing

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	openapi_types "github.com/oapi-codegen/runtime/types"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/gen/aidawg"
	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/modules"
	"github.com/aidawg/jarvis/services/storage"
	"github.com/aidawg/jarvis/services/storage/storagetest"
	"github.com/aidawg/jarvis/services/tenantdata"
)

// fixture is a small artist whose every figure below is worked out by hand.
const fixtureMetrics = `date,platform,streams,listeners,followers,saves,revenue,currency
2026-03-01,spotify,100,40,10,5,1.00,USD
2026-03-01,youtube,50,20,5,1,0.50,USD
2026-03-02,spotify,120,50,11,6,1.20,USD
2026-03-03,spotify,200,80,13,10,2.00,USD
2026-03-03,youtube,60,30,6,2,0.60,USD
2026-03-04,spotify,240,90,15,12,2.40,USD
2026-03-04,youtube,40,10,7,1,0.40,USD
`

const fixtureCampaigns = `id,name,channel,budget,currency,start_date,end_date,status
c1,Spring push,social-ads,100,USD,2026-03-01,2026-03-31,active
c2,April mail,email,50,USD,2026-04-01,2026-04-10,draft
c3,Berlin posters,display,80,EUR,2026-03-01,2026-03-05,active
`

const fixtureResults = `campaign_id,date,impressions,clicks,conversions,spend,revenue
c1,2026-03-02,1000,50,5,10,20
c1,2026-03-03,2000,100,10,20,30
c1,2026-03-04,3000,110,12,25,40
c3,2026-03-03,500,5,1,3,0
`

type harness struct {
	rt    *modules.Runtime
	data  *tenantdata.Store
	mod   *Module
	today time.Time
}

func newHarness(t *testing.T, db *storage.DB) *harness {
	t.Helper()
	contract, err := modules.LoadContract()
	require.NoError(t, err)
	h := &harness{today: time.Date(2026, 3, 4, 15, 0, 0, 0, time.UTC)}
	// Campaigns are stamped by the harness clock so that "newest first" does not rest on two
	// creations landing in different milliseconds.
	h.data = tenantdata.NewStore(db).WithClock(func() time.Time { return h.today })
	h.mod = NewModule(h.data)
	h.mod.now = func() time.Time { return h.today }
	h.rt, err = modules.NewRuntime(contract, zerolog.Nop(), h.mod)
	require.NoError(t, err)
	return h
}

func (h *harness) load(t *testing.T, tenant string, kind tenantdata.Kind, csv string) {
	t.Helper()
	_, err := h.data.Import(context.Background(), tenant, kind, tenantdata.CSV, strings.NewReader(csv))
	require.NoError(t, err)
}

func as(tenant string) context.Context {
	return services.WithPrincipal(context.Background(), services.Principal{Tenant: tenant, User: "ana", Method: services.MethodAPIKey, KeyID: "k1"})
}

func date(s string) *openapi_types.Date {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return &openapi_types.Date{Time: d}
}

func f64(v float64) *float64 { return &v }

func TestGetMetricsOfAHandComputedFixture(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		h := newHarness(t, db)
		h.load(t, "t", tenantdata.KindMetrics, fixtureMetrics)
		h.load(t, "t", tenantdata.KindCampaigns, fixtureCampaigns)
		h.load(t, "t", tenantdata.KindCampaignResults, fixtureResults)

		res, f := modules.Invoke(as("t"), h.rt, modules.CmdGetMetrics, aidawg.GetMetricsParams{StartDate: date("2026-03-03"), EndDate: date("2026-03-04")})
		require.Nil(t, f)
		m := res.Metrics
		assert.Equal(t, aidawg.DatasetImported, res.Dataset)
		assert.Equal(t, aidawg.TimeRangeCustom, m.TimeRange)
		assert.Equal(t, 2, m.Days)
		assert.Equal(t, 2, m.DaysWithData)
		assert.Equal(t, "USD", m.Currency)

		// 200+60+240+40 streams; (80+30+90+10)/2 listeners a day; followers on the last day
		// 15+7; c1 alone in USD: 5000 impressions, 210 clicks, 22 conversions, 45 spent, 70
		// attributed.
		assert.Equal(t, aidawg.MetricTotals{Streams: 540, AverageDailyListeners: 105, Followers: 22, Saves: 25, Revenue: 5.4,
			Impressions: 5000, Clicks: 210, Conversions: 22, Spend: 45,
			Ctr: f64(0.042), ConversionRate: f64(0.1048), Cpa: f64(2.0455), Roas: f64(1.5556)}, m.Totals)
		assert.Equal(t, []aidawg.PlatformMetrics{
			{Platform: "spotify", Streams: 440, AverageDailyListeners: 85, Followers: 15, Saves: 22, Revenue: 4.4, Share: 0.8148},
			{Platform: "youtube", Streams: 100, AverageDailyListeners: 20, Followers: 7, Saves: 3, Revenue: 1, Share: 0.1852},
		}, m.ByPlatform)
		require.Len(t, m.Campaigns, 2, "c2 runs in April; c3 runs in the range in EUR")
		assert.Equal(t, aidawg.CampaignMetrics{CampaignId: "c1", Name: "Spring push", Channel: "social-ads", Status: aidawg.CampaignStatusActive,
			Impressions: 5000, Clicks: 210, Conversions: 22, Spend: 45, Revenue: 70,
			Ctr: f64(0.042), ConversionRate: f64(0.1048), Cpa: f64(2.0455), Roas: f64(1.5556), DaysWithResults: 2}, m.Campaigns[0])
		assert.Equal(t, "c3", m.Campaigns[1].CampaignId)
		assert.Equal(t, f64(0), m.Campaigns[1].Roas, "nothing attributed to 3 spent")
		assert.Equal(t, []aidawg.MetricPoint{
			{Date: *date("2026-03-03"), Streams: 260, Listeners: 110, Followers: 19, Revenue: 2.6},
			{Date: *date("2026-03-04"), Streams: 280, Listeners: 100, Followers: 22, Revenue: 2.8},
		}, m.Series)

		// The two days before: 270 streams, (40+20+50)/2 listeners a day, followers 11 on
		// spotify's last day and 5 on youtube's, 2.70 revenue; c1 had 5 conversions for 10.
		assert.Equal(t, *date("2026-03-01"), m.PreviousPeriod.StartDate)
		assert.Equal(t, *date("2026-03-02"), m.PreviousPeriod.EndDate)
		assert.Equal(t, 2, m.PreviousPeriod.DaysWithData)
		assert.Equal(t, aidawg.MetricChanges{
			Streams:               aidawg.MetricChange{Current: 540, Previous: 270, Delta: 270, Percent: f64(100)},
			AverageDailyListeners: aidawg.MetricChange{Current: 105, Previous: 55, Delta: 50, Percent: f64(90.91)},
			Followers:             aidawg.MetricChange{Current: 22, Previous: 16, Delta: 6, Percent: f64(37.5)},
			Revenue:               aidawg.MetricChange{Current: 5.4, Previous: 2.7, Delta: 2.7, Percent: f64(100)},
			Conversions:           aidawg.MetricChange{Current: 22, Previous: 5, Delta: 17, Percent: f64(340)},
			Spend:                 aidawg.MetricChange{Current: 45, Previous: 10, Delta: 35, Percent: f64(350)},
		}, m.Change)
		assert.Equal(t, []string{"1 campaign in another currency than USD are listed but left out of the totals."}, m.Notes)

		// Asking for one campaign leaves the others out of the list and the totals.
		res, f = modules.Invoke(as("t"), h.rt, modules.CmdGetMetrics, aidawg.GetMetricsParams{StartDate: date("2026-03-03"),
			EndDate: date("2026-03-04"), Campaigns: []string{"c3", "nope"}})
		require.Nil(t, f)
		assert.Len(t, res.Metrics.Campaigns, 1)
		assert.Zero(t, res.Metrics.Totals.Conversions)
		assert.Nil(t, res.Metrics.Totals.Ctr, "no impressions in USD: no ratio rather than 0")
		assert.Contains(t, strings.Join(res.Metrics.Notes, " "), "Campaign nope does not run in the range")

		// A named range ends today: week is the 7 days to 2026-03-04, of which 4 have figures.
		res, f = modules.Invoke(as("t"), h.rt, modules.CmdGetMetrics, aidawg.GetMetricsParams{TimeRange: ptr(aidawg.TimeRangeWeek)})
		require.Nil(t, f)
		assert.Equal(t, *date("2026-02-26"), res.Metrics.StartDate)
		assert.Equal(t, 7, res.Metrics.Days)
		assert.Equal(t, 4, res.Metrics.DaysWithData)
		assert.Equal(t, 810, res.Metrics.Totals.Streams)
		assert.Contains(t, res.Metrics.Notes[0], "3 days of the 7 in the range have no figures")
		assert.Contains(t, strings.Join(res.Metrics.Notes, " "), "no figures for the previous period")
		assert.Nil(t, res.Metrics.Change.Streams.Percent)
	})
}

func ptr[T any](v T) *T { return &v }

func TestGetMetricsRefusesWhatItCannotAnswer(t *testing.T) {
	h := newHarness(t, storagetest.Open(t, storagetest.SQLiteURL(t)))
	ctx := as("t")
	_, f := modules.Invoke(ctx, h.rt, modules.CmdGetMetrics, aidawg.GetMetricsParams{})
	require.NotNil(t, f)
	assert.Equal(t, aidawg.INVALIDPARAMS, f.Code)
	assert.Contains(t, f.Message, "No daily platform metrics are imported")
	assert.Contains(t, f.Message, "POST /admin/data/metrics")

	h.load(t, "t", tenantdata.KindMetrics, fixtureMetrics)
	_, f = modules.Invoke(ctx, h.rt, modules.CmdGetMetrics, aidawg.GetMetricsParams{StartDate: date("2025-01-01"), EndDate: date("2025-01-31")})
	require.NotNil(t, f)
	assert.Contains(t, f.Message, "its figures end on 2026-03-04")

	_, f = modules.Invoke(ctx, h.rt, modules.CmdGetMetrics, aidawg.GetMetricsParams{StartDate: date("2026-03-01")})
	require.NotNil(t, f)
	assert.Equal(t, []services.FieldError{{Field: "/endDate", Message: "is required with startDate"}}, f.Fields)

	_, f = modules.Invoke(ctx, h.rt, modules.CmdGetMetrics, aidawg.GetMetricsParams{StartDate: date("2026-03-04"), EndDate: date("2026-03-01")})
	require.NotNil(t, f)
	assert.Equal(t, "/endDate", f.Fields[0].Field)

	_, f = modules.Invoke(ctx, h.rt, modules.CmdGetMetrics, aidawg.GetMetricsParams{TimeRange: ptr(aidawg.TimeRangeCustom)})
	require.NotNil(t, f)
	assert.Equal(t, "/startDate", f.Fields[0].Field)

	// Two currencies in one range cannot be added; the caller picks one.
	h.load(t, "t", tenantdata.KindMetrics, "date,platform,streams,revenue,currency\n2026-03-04,tiktok,5,0.10,EUR\n")
	_, f = modules.Invoke(ctx, h.rt, modules.CmdGetMetrics, aidawg.GetMetricsParams{TimeRange: ptr(aidawg.TimeRangeToday)})
	require.NotNil(t, f)
	assert.Equal(t, "/currency", f.Fields[0].Field)
	assert.Contains(t, f.Message, "EUR and USD")
	res, f := modules.Invoke(ctx, h.rt, modules.CmdGetMetrics, aidawg.GetMetricsParams{TimeRange: ptr(aidawg.TimeRangeToday), Currency: ptr("EUR")})
	require.Nil(t, f)
	assert.Equal(t, 5, res.Metrics.Totals.Streams)
	assert.Equal(t, 0.1, res.Metrics.Totals.Revenue)
	_, f = modules.Invoke(ctx, h.rt, modules.CmdGetMetrics, aidawg.GetMetricsParams{TimeRange: ptr(aidawg.TimeRangeToday), Currency: ptr("GBP")})
	require.NotNil(t, f)
	assert.Equal(t, "/currency", f.Fields[0].Field)

	// Another tenant sees none of it.
	_, f = modules.Invoke(as("other"), h.rt, modules.CmdGetMetrics, aidawg.GetMetricsParams{})
	require.NotNil(t, f)
	assert.Contains(t, f.Message, "No daily platform metrics are imported")

	// Without a caller there is no tenant to read.
	_, f = modules.Invoke(context.Background(), h.rt, modules.CmdGetMetrics, aidawg.GetMetricsParams{})
	require.NotNil(t, f)
	assert.Contains(t, f.Message, "names no account")
}

// On the demo artist: the platforms add up to the totals, and a period split in two adds up
// to the whole.
func TestGetMetricsAddsUp(t *testing.T) {
	h := newHarness(t, storagetest.Open(t, storagetest.SQLiteURL(t)))
	_, err := h.data.LoadDemo(context.Background(), "demo", tenantdata.DemoSeed, h.today)
	require.NoError(t, err)
	ctx := as("demo")
	metrics := func(from, to string) aidawg.MarketingMetrics {
		t.Helper()
		res, f := modules.Invoke(ctx, h.rt, modules.CmdGetMetrics, aidawg.GetMetricsParams{StartDate: date(from), EndDate: date(to)})
		require.Nil(t, f)
		assert.Equal(t, aidawg.DatasetDemo, res.Dataset)
		return res.Metrics
	}
	whole := metrics("2025-03-05", "2026-03-03")
	require.Len(t, whole.ByPlatform, 5)
	var streams, saves, followers int
	var revenue, listeners, share float64
	for _, p := range whole.ByPlatform {
		streams, saves, followers = streams+p.Streams, saves+p.Saves, followers+p.Followers
		revenue, listeners, share = revenue+p.Revenue, listeners+p.AverageDailyListeners, share+p.Share
	}
	assert.Equal(t, whole.Totals.Streams, streams)
	assert.Equal(t, whole.Totals.Saves, saves)
	assert.Equal(t, whole.Totals.Followers, followers)
	assert.InDelta(t, whole.Totals.Revenue, revenue, 0.05, "platform revenues are rounded to cents one by one")
	assert.InDelta(t, whole.Totals.AverageDailyListeners, listeners, 0.05)
	assert.InDelta(t, 1, share, 0.001)
	assert.Equal(t, 364, len(whole.Series))

	for _, split := range []string{"2025-03-05", "2025-07-19", "2025-12-31", "2026-03-02"} {
		d, _ := time.Parse(time.DateOnly, split)
		first, second := metrics("2025-03-05", split), metrics(d.AddDate(0, 0, 1).Format(time.DateOnly), "2026-03-03")
		assert.Equal(t, whole.Totals.Streams, first.Totals.Streams+second.Totals.Streams, split)
		assert.Equal(t, whole.Totals.Conversions, first.Totals.Conversions+second.Totals.Conversions, split)
		assert.Equal(t, whole.Totals.Impressions, first.Totals.Impressions+second.Totals.Impressions, split)
		assert.InDelta(t, whole.Totals.Revenue, first.Totals.Revenue+second.Totals.Revenue, 0.011, split)
		assert.InDelta(t, whole.Totals.Spend, first.Totals.Spend+second.Totals.Spend, 0.011, split)
		days := float64(first.DaysWithData + second.DaysWithData)
		assert.InDelta(t, whole.Totals.AverageDailyListeners,
			(first.Totals.AverageDailyListeners*float64(first.DaysWithData)+second.Totals.AverageDailyListeners*float64(second.DaysWithData))/days, 0.01, split)
	}
}

func TestManageCampaigns(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		h := newHarness(t, db)
		ctx := as("t")
		call := func(p aidawg.ManageCampaignsParams) (aidawg.ManageCampaignsResult, *modules.Failure) {
			return modules.Invoke(ctx, h.rt, modules.CmdManageCampaigns, p)
		}
		end := date("2026-04-30")
		created, f := call(aidawg.ManageCampaignsParams{Action: "create", Name: ptr("EP launch"), Budget: f64(500.25),
			Schedule: &aidawg.Schedule{Start: *date("2026-03-10"), End: end}, Status: ptr(aidawg.CampaignStatusScheduled),
			Channel: ptr("social-ads"), Reason: ptr("the EP is mastered")})
		require.Nil(t, f)
		c := created.Campaign
		require.NotNil(t, c)
		assert.True(t, strings.HasPrefix(c.Id, "cmp_"))
		assert.Equal(t, 1, c.Version)
		assert.Equal(t, 500.25, c.Budget)
		assert.Equal(t, "USD", c.Currency)
		assert.Equal(t, "key:k1", c.CreatedBy)
		assert.Equal(t, aidawg.CampaignStatusScheduled, c.Status)

		// An update against the version read; then one against the old version is a conflict.
		upd, f := call(aidawg.ManageCampaignsParams{Action: "update", CampaignId: &c.Id, ExpectedVersion: ptr(1), Budget: f64(750)})
		require.Nil(t, f)
		assert.Equal(t, 2, upd.Campaign.Version)
		assert.Equal(t, 750.0, upd.Campaign.Budget)
		_, f = call(aidawg.ManageCampaignsParams{Action: "update", CampaignId: &c.Id, ExpectedVersion: ptr(1), Name: ptr("stale")})
		require.NotNil(t, f)
		assert.Equal(t, aidawg.CONFLICT, f.Code)
		assert.Contains(t, f.Message, "version 2")

		for _, step := range []struct {
			action string
			want   aidawg.CampaignStatus
		}{{"pause", aidawg.CampaignStatusPaused}, {"resume", aidawg.CampaignStatusScheduled}, {"cancel", aidawg.CampaignStatusCancelled}} {
			res, f := call(aidawg.ManageCampaignsParams{Action: aidawg.ManageCampaignsParamsAction(step.action), CampaignId: &c.Id})
			require.Nil(t, f, step.action)
			assert.Equal(t, step.want, res.Campaign.Status, "%s: a paused campaign that has not started resumes as scheduled", step.action)
		}
		_, f = call(aidawg.ManageCampaignsParams{Action: "update", CampaignId: &c.Id, Name: ptr("again")})
		require.NotNil(t, f)
		assert.Equal(t, aidawg.CONFLICT, f.Code)
		assert.Contains(t, f.Message, "is cancelled and can no longer change")

		got, f := call(aidawg.ManageCampaignsParams{Action: "get", CampaignId: &c.Id})
		require.Nil(t, f)
		require.Len(t, got.Campaign.History, 5)
		assert.Equal(t, "cancel", got.Campaign.History[0].Action)
		assert.Equal(t, "update", got.Campaign.History[3].Action)
		assert.Equal(t, 500.25, got.Campaign.History[3].Changes["budget"].From)
		assert.Equal(t, 750.0, got.Campaign.History[3].Changes["budget"].To)
		assert.Equal(t, "the EP is mastered", *got.Campaign.History[4].Reason)
		assert.Equal(t, "key:k1", got.Campaign.History[0].By)

		// Transitions the lifecycle does not allow, and schedules that make no sense.
		draft, f := call(aidawg.ManageCampaignsParams{Action: "create", Name: ptr("Draft"), Budget: f64(10),
			Schedule: &aidawg.Schedule{Start: *date("2026-03-10"), End: end}})
		require.Nil(t, f)
		_, f = call(aidawg.ManageCampaignsParams{Action: "update", CampaignId: &draft.Campaign.Id, Status: ptr(aidawg.CampaignStatusCompleted)})
		require.NotNil(t, f)
		assert.Equal(t, aidawg.CONFLICT, f.Code)
		assert.Equal(t, "/status", f.Fields[0].Field)
		_, f = call(aidawg.ManageCampaignsParams{Action: "resume", CampaignId: &draft.Campaign.Id})
		require.NotNil(t, f)
		assert.Equal(t, aidawg.CONFLICT, f.Code)
		_, f = call(aidawg.ManageCampaignsParams{Action: "update", CampaignId: &draft.Campaign.Id, Schedule: &aidawg.Schedule{Start: *date("2026-05-01")}})
		require.NotNil(t, f)
		assert.Equal(t, "/schedule/end", f.Fields[0].Field)
		_, f = call(aidawg.ManageCampaignsParams{Action: "create", Name: ptr("Past"), Budget: f64(10),
			Schedule: &aidawg.Schedule{Start: *date("2026-01-01"), End: date("2026-02-01")}})
		require.NotNil(t, f)
		assert.Contains(t, f.Message, "has passed")
		_, f = call(aidawg.ManageCampaignsParams{Action: "create", Name: ptr("Free"), Budget: f64(0),
			Schedule: &aidawg.Schedule{Start: *date("2026-03-10"), End: end}})
		require.NotNil(t, f, "the contract wants a budget above 0")
		assert.Equal(t, "/budget", f.Fields[0].Field)
		_, f = call(aidawg.ManageCampaignsParams{Action: "create", Name: ptr("No end"), Budget: f64(1), Schedule: &aidawg.Schedule{Start: *date("2026-03-10")}})
		require.NotNil(t, f)
		_, f = call(aidawg.ManageCampaignsParams{Action: "update", CampaignId: &draft.Campaign.Id})
		require.NotNil(t, f)
		assert.Contains(t, f.Message, "at least one of")

		// Another tenant's campaign does not exist for this one.
		_, f = modules.Invoke(as("other"), h.rt, modules.CmdManageCampaigns, aidawg.ManageCampaignsParams{Action: "get", CampaignId: &c.Id})
		require.NotNil(t, f)
		assert.Equal(t, aidawg.NOTFOUND, f.Code)
		_, f = modules.Invoke(as("other"), h.rt, modules.CmdManageCampaigns, aidawg.ManageCampaignsParams{Action: "cancel", CampaignId: &c.Id})
		require.NotNil(t, f)
		assert.Equal(t, aidawg.NOTFOUND, f.Code)

		// Pages of two, newest first, filtered by status.
		h.today = h.today.Add(time.Minute)
		_, f = call(aidawg.ManageCampaignsParams{Action: "create", Name: ptr("Third"), Budget: f64(1), Schedule: &aidawg.Schedule{Start: *date("2026-03-10"), End: end}})
		require.Nil(t, f)
		page, f := call(aidawg.ManageCampaignsParams{Action: "list", Limit: ptr(2)})
		require.Nil(t, f)
		require.Len(t, page.Campaigns, 2)
		assert.Equal(t, "Third", page.Campaigns[0].Name)
		require.NotNil(t, page.NextCursor)
		rest, f := call(aidawg.ManageCampaignsParams{Action: "list", Limit: ptr(2), Cursor: page.NextCursor})
		require.Nil(t, f)
		require.Len(t, rest.Campaigns, 1)
		assert.Nil(t, rest.NextCursor)
		seen := map[string]bool{}
		for _, c := range append(page.Campaigns, rest.Campaigns...) {
			assert.False(t, seen[c.Id], "a campaign on two pages")
			seen[c.Id] = true
		}
		assert.Len(t, seen, 3)
		cancelled, f := call(aidawg.ManageCampaignsParams{Action: "list", FilterStatus: ptr(aidawg.CampaignStatusCancelled)})
		require.Nil(t, f)
		require.Len(t, cancelled.Campaigns, 1)
		assert.Equal(t, c.Id, cancelled.Campaigns[0].Id)
		_, f = call(aidawg.ManageCampaignsParams{Action: "list", Cursor: ptr("not-a-cursor")})
		require.NotNil(t, f)
		assert.Equal(t, "/cursor", f.Fields[0].Field)
		others, f := modules.Invoke(as("other"), h.rt, modules.CmdManageCampaigns, aidawg.ManageCampaignsParams{Action: "list"})
		require.Nil(t, f)
		assert.Empty(t, others.Campaigns)
	})
}

// Two changes made against the same version: one wins, the other is told of the conflict.
func TestConcurrentCampaignChangesConflict(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		h := newHarness(t, db)
		ctx := as("t")
		c, f := modules.Invoke(ctx, h.rt, modules.CmdManageCampaigns, aidawg.ManageCampaignsParams{Action: "create", Name: ptr("Race"),
			Budget: f64(1), Schedule: &aidawg.Schedule{Start: *date("2026-03-10"), End: date("2026-03-20")}})
		require.Nil(t, f)
		results := make(chan *modules.Failure, 4)
		for i := range 4 {
			go func() {
				_, f := modules.Invoke(ctx, h.rt, modules.CmdManageCampaigns, aidawg.ManageCampaignsParams{Action: "update",
					CampaignId: &c.Campaign.Id, ExpectedVersion: ptr(1), Name: ptr(fmt.Sprintf("writer %d", i))})
				results <- f
			}()
		}
		won, conflicts := 0, 0
		for range 4 {
			f := <-results
			switch {
			case f == nil:
				won++
			case f.Code == aidawg.CONFLICT:
				conflicts++
			default:
				t.Errorf("unexpected failure %v", f)
			}
		}
		assert.Equal(t, 1, won)
		assert.Equal(t, 3, conflicts)
	})
}

// months writes daily metrics for whole months: per platform a daily listener figure per month.
func months(first time.Time, perPlatform map[string][]float64) string {
	var b strings.Builder
	b.WriteString("date,platform,streams,listeners\n")
	for p, values := range perPlatform {
		for i, v := range values {
			m := first.AddDate(0, i, 0)
			for d := m; d.Month() == m.Month(); d = d.AddDate(0, 0, 1) {
				fmt.Fprintf(&b, "%s,%s,%d,%d\n", d.Format(time.DateOnly), p, int(v*3), int(math.Round(v)))
			}
		}
	}
	return b.String()
}

func TestAnalyzeGrowth(t *testing.T) {
	h := newHarness(t, storagetest.Open(t, storagetest.SQLiteURL(t)))
	first := time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)
	// Spotify grows 5 % a month from 1,000 daily listeners; YouTube loses 20 a month.
	var spotify, youtube []float64
	for i := range 8 {
		spotify = append(spotify, math.Round(1000*math.Pow(1.05, float64(i))))
		youtube = append(youtube, float64(400-20*i))
	}
	h.load(t, "t", tenantdata.KindMetrics, months(first, map[string][]float64{"spotify": spotify, "youtube": youtube}))
	// Two days of March, too few for a monthly mean.
	h.load(t, "t", tenantdata.KindMetrics, "date,platform,streams,listeners\n2026-03-01,spotify,1,99999\n2026-03-02,spotify,1,99999\n")
	h.load(t, "t", tenantdata.KindCampaigns, "id,name,channel,budget,currency,start_date,end_date,status\n"+
		"g1,Spring push,social-ads,100,USD,2026-01-15,2026-02-28,completed\ng2,Posters,display,10,EUR,2026-02-01,2026-02-03,completed\n")
	h.load(t, "t", tenantdata.KindCampaignResults, "campaign_id,date,impressions,clicks,conversions,spend\n"+
		"g1,2026-01-20,1000,100,20,10\ng1,2026-02-01,500,50,7,5\ng2,2026-02-02,100,5,1,1\ng1,2026-03-01,900,90,9,9\n")

	res, f := modules.Invoke(as("t"), h.rt, modules.CmdAnalyzeGrowth, aidawg.AnalyzeGrowthParams{ForecastMonths: ptr(2)})
	require.Nil(t, f)
	g := res.Growth
	require.Len(t, g.History, 8)
	assert.Equal(t, "2025-07", g.History[0].Month)
	assert.Equal(t, 1400.0, g.History[0].Listeners)
	assert.Equal(t, 31, g.History[0].Days)
	assert.Equal(t, []string{"2026-03 is left out: it has figures for 2 days only, too few for a monthly mean."}, g.Notes)
	last := 1407.0 + 260 // round(1000 * 1.05^7) + 400 - 140
	assert.Equal(t, last, g.MonthlyListeners)
	// Growth of the sum, by hand: the slopes of log listeners between every pair of months.
	sums := make([]float64, 8)
	for i := range sums {
		sums[i] = math.Log(spotify[i] + youtube[i])
	}
	assert.InDelta(t, (math.Exp(medianSlope(sums))-1)*100, g.GrowthRate, 0.006)
	assert.InDelta(t, (math.Exp(medianSlope(sums[5:]))-1)*100, g.RecentGrowthRate, 0.006)
	assert.Equal(t, classify(g.GrowthRate, g.RecentGrowthRate), g.Trend)

	// Spotify brought +407 of the +267 change, YouTube -140; then the campaigns by conversions
	// in the history's months (g1's 27, g2's 1; g1's March result is after them).
	require.Len(t, g.Drivers, 4)
	assert.Equal(t, aidawg.GrowthDriver{Kind: "platform", Name: "spotify", Metric: "change in average daily listeners from 2025-07 to 2026-02",
		Value: 407, Share: f64(round(407.0/267, 4))}, g.Drivers[0])
	assert.Equal(t, -140.0, g.Drivers[1].Value)
	assert.Equal(t, "Spring push", g.Drivers[2].Name)
	assert.Equal(t, 27.0, g.Drivers[2].Value)
	assert.Equal(t, f64(round(27.0/28, 4)), g.Drivers[2].Share)

	assert.Empty(t, g.Competitors)
	assert.Contains(t, g.CompetitorsNote, "No competitor figures are imported")
	require.Len(t, g.Forecast, 2, g.ForecastMethod)
	assert.Equal(t, "2026-03", g.Forecast[0].Month)
	for _, p := range g.Forecast {
		assert.True(t, p.Low95 <= p.Low && p.Low <= p.Listeners && p.Listeners <= p.High && p.High <= p.High95, "%+v", p)
	}
	assert.NotEmpty(t, g.ForecastMethod)
	assert.Contains(t, g.Recommendations[0], "spotify added 407 average daily listeners (152 % of the change)")
	assert.Contains(t, g.Recommendations[1], "youtube lost 140")

	// Competitors from their imported figures, with the same growth rate.
	h.load(t, "t", tenantdata.KindCompetitors, "name,date,monthly_listeners\nRival,2025-12-01,1000\nRival,2026-01-01,1100\nRival,2026-02-01,1210\nNewcomer,2026-02-01,50\n")
	res, f = modules.Invoke(as("t"), h.rt, modules.CmdAnalyzeGrowth, aidawg.AnalyzeGrowthParams{})
	require.Nil(t, f)
	require.Len(t, res.Growth.Competitors, 2, res.Growth.CompetitorsNote)
	assert.Equal(t, aidawg.Competitor{Name: "Newcomer", Month: "2026-02", MonthlyListeners: 50}, res.Growth.Competitors[0], "one month: no rate")
	assert.Equal(t, "Rival", res.Growth.Competitors[1].Name)
	assert.InDelta(t, 10, *res.Growth.Competitors[1].GrowthRate, 0.01)
	assert.Len(t, res.Growth.Forecast, 3, "forecastMonths defaults to 3")
	res, f = modules.Invoke(as("t"), h.rt, modules.CmdAnalyzeGrowth, aidawg.AnalyzeGrowthParams{IncludeCompetitors: ptr(false)})
	require.Nil(t, f)
	assert.Nil(t, res.Growth.Competitors)

	// Too short a history is a problem that says what to import.
	h.load(t, "short", tenantdata.KindMetrics, months(first, map[string][]float64{"spotify": {1, 2, 3}}))
	_, f = modules.Invoke(as("short"), h.rt, modules.CmdAnalyzeGrowth, aidawg.AnalyzeGrowthParams{})
	require.NotNil(t, f)
	assert.Contains(t, f.Message, "at least 4 months")
	_, f = modules.Invoke(as("none"), h.rt, modules.CmdAnalyzeGrowth, aidawg.AnalyzeGrowthParams{})
	require.NotNil(t, f)
	assert.Contains(t, f.Message, "No daily platform metrics are imported")
}

// medianSlope is Theil-Sen written out for the test: every pairwise slope, sorted, the middle.
func medianSlope(y []float64) float64 {
	var s []float64
	for i := range y {
		for j := i + 1; j < len(y); j++ {
			s = append(s, (y[j]-y[i])/float64(j-i))
		}
	}
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func TestTheilSenIgnoresASpike(t *testing.T) {
	y := []float64{1, 2, 3, 40, 5, 6}
	assert.Equal(t, 1.0, theilSen(y), "one spike does not tilt the median slope")
	assert.Equal(t, 0.0, theilSen([]float64{7}))
}

func TestTrendClasses(t *testing.T) {
	for _, c := range []struct {
		growth, recent float64
		want           aidawg.GrowthAnalysisTrend
	}{
		{5, 5, aidawg.GrowthAnalysisTrendSteady},
		{5, 7, aidawg.GrowthAnalysisTrendAccelerating},
		{5, 3.4, aidawg.GrowthAnalysisTrendSlowing},
		{-3, -3, aidawg.GrowthAnalysisTrendDeclining},
		{-3, 0.5, aidawg.GrowthAnalysisTrendAccelerating},
		{-3, -1, aidawg.GrowthAnalysisTrendDeclining},
		{0.5, 0.2, aidawg.GrowthAnalysisTrendFlat},
		{0.5, -1.2, aidawg.GrowthAnalysisTrendSlowing},
	} {
		assert.Equal(t, c.want, classify(c.growth, c.recent), "%+v", c)
	}
}

func TestAnalyzeGrowthOfTheDemoArtist(t *testing.T) {
	h := newHarness(t, storagetest.Open(t, storagetest.SQLiteURL(t)))
	_, err := h.data.LoadDemo(context.Background(), "demo", tenantdata.DemoSeed, h.today)
	require.NoError(t, err)
	res, f := modules.Invoke(as("demo"), h.rt, modules.CmdAnalyzeGrowth, aidawg.AnalyzeGrowthParams{Months: ptr(24)})
	require.Nil(t, f)
	assert.Equal(t, aidawg.DatasetDemo, res.Dataset)
	g := res.Growth
	assert.Len(t, g.History, 24)
	assert.Positive(t, g.GrowthRate, "the demo artist grows")
	assert.Len(t, g.Competitors, 3)
	assert.Len(t, g.Forecast, 3)
	assert.NotEmpty(t, g.Recommendations)
	platforms := 0
	var sum float64
	for _, d := range g.Drivers {
		if d.Kind == "platform" {
			platforms++
			sum += d.Value
		}
	}
	assert.Equal(t, 5, platforms)
	assert.InDelta(t, g.History[23].Listeners-g.History[0].Listeners, sum, 0.5, "the platforms' parts add up to the change")
}
