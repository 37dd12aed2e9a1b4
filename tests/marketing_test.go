package tests

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	openapi_types "github.com/oapi-codegen/runtime/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/gen/client"
	"github.com/aidawg/jarvis/services/keys"
)

const (
	artistMetrics = `date,platform,streams,listeners,followers,saves,revenue,currency
2026-03-01,spotify,100,40,10,5,1.00,USD
2026-03-01,youtube,50,20,5,1,0.50,USD
2026-03-02,spotify,120,50,11,6,1.20,USD
2026-03-03,spotify,200,80,13,10,2.00,USD
2026-03-03,youtube,60,30,6,2,0.60,USD
2026-03-04,spotify,240,90,15,12,2.40,USD
2026-03-04,youtube,40,10,7,1,0.40,USD
`
	artistCampaigns = `{"id":"c1","name":"Spring push","channel":"social-ads","budget":100,"start_date":"2026-03-01","end_date":"2026-03-31","status":"active"}
`
	artistResults = `campaign_id,date,impressions,clicks,conversions,spend,revenue
c1,2026-03-02,1000,50,5,10,20
c1,2026-03-03,2000,100,10,20,30
c1,2026-03-04,3000,110,12,25,40
`
)

func importFile(t *testing.T, s *server, token string, kind client.ImportDataParamsKind, contentType, body string) *client.ImportDataResponse {
	t.Helper()
	res, err := s.Client.ImportDataWithBodyWithResponse(context.Background(), kind, nil, contentType, strings.NewReader(body), as(token))
	require.NoError(t, err)
	return res
}

func day(s string) *openapi_types.Date {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return &openapi_types.Date{Time: d}
}

// An admin imports an artist's files over HTTP; the artist's keys read the figures, manage
// campaigns and never see another account's data.
func TestMarketingFromImportedData(t *testing.T) {
	t.Parallel()
	eachDatabase(t, production(nil), func(t *testing.T, s *server) {
		ctx := context.Background()
		_, admin := createKey(t, s, keys.NewKey{Tenant: "acme", User: "ops", Scopes: []string{"admin"}})
		_, artist := createKey(t, s, keys.NewKey{Tenant: "acme", User: "gpt", Scopes: []string{"actions:read", "actions:write"}})
		_, other := createKey(t, s, keys.NewKey{Tenant: "globex", User: "gpt", Scopes: []string{"actions:read", "actions:write"}})

		res := importFile(t, s, admin, client.ImportDataParamsKindMetrics, "text/csv", artistMetrics)
		require.Equal(t, http.StatusOK, res.StatusCode(), string(res.Body))
		assert.Equal(t, client.ImportReport{Tenant: "acme", Kind: "metrics", Format: "csv", Read: 7, Inserted: 7, Errors: []client.FieldError{}}, *res.JSON200)
		res = importFile(t, s, admin, client.ImportDataParamsKindCampaigns, "application/x-ndjson", artistCampaigns)
		require.Equal(t, http.StatusOK, res.StatusCode(), string(res.Body))
		assert.Equal(t, "jsonl", string(res.JSON200.Format))
		res = importFile(t, s, admin, client.ImportDataParamsKindCampaignResults, "text/csv; charset=utf-8", artistResults)
		require.Equal(t, http.StatusOK, res.StatusCode(), string(res.Body))

		// The same file again changes nothing; a file with one bad row imports none of it.
		res = importFile(t, s, admin, client.ImportDataParamsKindMetrics, "text/csv", artistMetrics)
		require.Equal(t, http.StatusOK, res.StatusCode())
		assert.Equal(t, 7, res.JSON200.Unchanged)
		bad := "date,platform,streams\n2026-03-05,spotify,10\n2026-03-06,myspace,11\n2026-03-07,spotify,-1\n"
		res = importFile(t, s, admin, client.ImportDataParamsKindMetrics, "text/csv", bad)
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode())
		require.NotNil(t, res.ApplicationproblemJSON422)
		p := res.ApplicationproblemJSON422
		assert.Contains(t, p.Detail, "nothing was imported")
		require.Len(t, p.Errors, 2)
		assert.Equal(t, 3, *p.Errors[0].Line)
		assert.Equal(t, "platform", p.Errors[0].Field)
		assert.Equal(t, 4, *p.Errors[1].Line)
		assert.Equal(t, "streams", p.Errors[1].Field)
		cov, err := s.Client.GetDataCoverageWithResponse(ctx, nil, as(admin))
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, cov.StatusCode())
		assert.Equal(t, "acme", cov.JSON200.Tenant)
		assert.Equal(t, 7, cov.JSON200.Kinds[0].Rows, "the rejected file left the metrics as they were")
		assert.Equal(t, "2026-03-04", cov.JSON200.Kinds[0].To.String())

		// Only admins import, only files are taken, and their size is bounded.
		res = importFile(t, s, artist, client.ImportDataParamsKindMetrics, "text/csv", artistMetrics)
		assert.Equal(t, http.StatusForbidden, res.StatusCode())
		res = importFile(t, s, admin, client.ImportDataParamsKindMetrics, "application/json", `{"date":"2026-03-05"}`)
		assert.Equal(t, http.StatusUnsupportedMediaType, res.StatusCode())
		res = importFile(t, s, admin, client.ImportDataParamsKindMetrics, "text/csv", "")
		assert.Equal(t, http.StatusBadRequest, res.StatusCode())

		metrics, err := s.Client.GetMarketingMetricsWithResponse(ctx, client.MarketingMetricsRequest{StartDate: day("2026-03-03"), EndDate: day("2026-03-04")}, as(artist))
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, metrics.StatusCode(), string(metrics.Body))
		m := metrics.JSON200.Metrics
		assert.Equal(t, 540, m.Totals.Streams)
		assert.Equal(t, 105.0, m.Totals.AverageDailyListeners)
		assert.Equal(t, 1.5556, *m.Totals.Roas)
		assert.Equal(t, 100.0, *m.Change.Streams.Percent)
		require.Len(t, m.Campaigns, 1)
		assert.Equal(t, 22, m.Campaigns[0].Conversions)
		require.NotNil(t, metrics.JSON200.Meta.Dataset)
		assert.Equal(t, client.ResponseMetaDatasetImported, *metrics.JSON200.Meta.Dataset)
		assert.Equal(t, client.Embedded, metrics.JSON200.Meta.ServedBy)

		// The other account has nothing, and is told how to import it.
		none, err := s.Client.GetMarketingMetricsWithResponse(ctx, client.MarketingMetricsRequest{}, as(other))
		require.NoError(t, err)
		require.Equal(t, http.StatusUnprocessableEntity, none.StatusCode())
		assert.Contains(t, none.ApplicationproblemJSON422.Detail, "No daily platform metrics are imported")
		assert.Contains(t, none.ApplicationproblemJSON422.Detail, "POST /admin/data/metrics")

		growth, err := s.Client.AnalyzeGrowthWithResponse(ctx, client.GrowthAnalysisRequest{}, as(artist))
		require.NoError(t, err)
		require.Equal(t, http.StatusUnprocessableEntity, growth.StatusCode())
		assert.Contains(t, growth.ApplicationproblemJSON422.Detail, "at least 4 months")

		// Campaigns: made by the artist's key, invisible to the other account.
		end := day("2030-01-31")
		created, err := s.Client.ManageCampaignsWithResponse(ctx, client.ManageCampaignsRequest{Action: client.ManageCampaignsRequestActionCreate,
			Name: ptr("Summer single"), Budget: ptr(300.0), Schedule: &client.Schedule{Start: *day("2030-01-01"), End: end}}, as(artist))
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, created.StatusCode(), string(created.Body))
		id := created.JSON200.Campaign.Id
		assert.Equal(t, client.CampaignStatusDraft, created.JSON200.Campaign.Status)
		stale, err := s.Client.ManageCampaignsWithResponse(ctx, client.ManageCampaignsRequest{Action: client.ManageCampaignsRequestActionUpdate,
			CampaignId: &id, ExpectedVersion: ptr(7), Budget: ptr(1.0)}, as(artist))
		require.NoError(t, err)
		assert.Equal(t, http.StatusConflict, stale.StatusCode())
		freeBudget, err := s.Client.ManageCampaignsWithResponse(ctx, client.ManageCampaignsRequest{Action: client.ManageCampaignsRequestActionUpdate,
			CampaignId: &id, Budget: ptr(0.0)}, as(artist))
		require.NoError(t, err)
		assert.Equal(t, http.StatusBadRequest, freeBudget.StatusCode(), "the contract wants a budget above 0")
		theirs, err := s.Client.ManageCampaignsWithResponse(ctx, client.ManageCampaignsRequest{Action: client.ManageCampaignsRequestActionGet, CampaignId: &id}, as(other))
		require.NoError(t, err)
		assert.Equal(t, http.StatusNotFound, theirs.StatusCode())
		list, err := s.Client.ManageCampaignsWithResponse(ctx, client.ManageCampaignsRequest{Action: client.ManageCampaignsRequestActionList}, as(other))
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, list.StatusCode())
		assert.Empty(t, list.JSON200.Campaigns)
		list, err = s.Client.ManageCampaignsWithResponse(ctx, client.ManageCampaignsRequest{Action: client.ManageCampaignsRequestActionList}, as(artist))
		require.NoError(t, err)
		assert.Len(t, list.JSON200.Campaigns, 2, "the imported campaign and the new one")

		// Through MCP, the same figures; the admin operations are no tools.
		session := mcpSession(t, s, artist)
		out := callTool(t, session, "getMarketingMetrics", map[string]any{"timeRange": "custom", "startDate": "2026-03-03", "endDate": "2026-03-04"})
		require.False(t, out.IsError, text(out))
		var viaMCP client.MarketingMetricsResult
		require.NoError(t, json.Unmarshal([]byte(text(out)), &viaMCP))
		assert.Equal(t, 540, viaMCP.Metrics.Totals.Streams)
		assert.NotContains(t, toolNames(t, session), "importData")
	})
}

// A file larger than the import limit is refused whole.
func TestImportSizeIsBounded(t *testing.T) {
	t.Parallel()
	s := startServer(t, production(env{"JARVIS_IMPORT_MAX_BYTES": "1K"}))
	_, admin := createKey(t, s, keys.NewKey{Tenant: "acme", Scopes: []string{"admin"}})
	var b strings.Builder
	b.WriteString("date,platform,streams\n")
	for i := 1; b.Len() < 4096; i++ {
		b.WriteString("2026-01-01,spotify,1\n")
	}
	res := importFile(t, s, admin, client.ImportDataParamsKindMetrics, "text/csv", b.String())
	require.Equal(t, http.StatusRequestEntityTooLarge, res.StatusCode(), string(res.Body))
	cov, err := s.Client.GetDataCoverageWithResponse(context.Background(), nil, as(admin))
	require.NoError(t, err)
	assert.Zero(t, cov.JSON200.Kinds[0].Rows)
}

// A development server holds the demo artist, and says so in every answer computed from it.
func TestDemoArtistIsMarkedAsDemo(t *testing.T) {
	t.Parallel()
	s := startServer(t, env{"JARVIS_DEMO_DATA": "auto"})
	ctx := context.Background()
	metrics, err := s.Client.GetMarketingMetricsWithResponse(ctx, client.MarketingMetricsRequest{TimeRange: ptr(client.MarketingMetricsRequestTimeRangeYear)})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, metrics.StatusCode(), string(metrics.Body))
	assert.Equal(t, client.ResponseMetaDatasetDemo, *metrics.JSON200.Meta.Dataset)
	assert.Len(t, metrics.JSON200.Metrics.ByPlatform, 5)
	assert.Positive(t, metrics.JSON200.Metrics.Totals.Streams)
	assert.Equal(t, 365, metrics.JSON200.Metrics.Days)
	assert.Len(t, metrics.JSON200.Metrics.Series, metrics.JSON200.Metrics.DaysWithData)
	assert.GreaterOrEqual(t, metrics.JSON200.Metrics.DaysWithData, 364, "the demo ends yesterday or today")

	growth, err := s.Client.AnalyzeGrowthWithResponse(ctx, client.GrowthAnalysisRequest{ForecastMonths: ptr(6)})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, growth.StatusCode(), string(growth.Body))
	assert.Equal(t, client.ResponseMetaDatasetDemo, *growth.JSON200.Meta.Dataset)
	assert.Len(t, growth.JSON200.Growth.Forecast, 6)
	assert.Len(t, growth.JSON200.Growth.Competitors, 3)

	session := mcpSession(t, s, "")
	out := callTool(t, session, "analyzeGrowth", map[string]any{"forecastMonths": 2})
	require.False(t, out.IsError, text(out))
	var viaMCP client.GrowthAnalysisResult
	require.NoError(t, json.Unmarshal([]byte(text(out)), &viaMCP))
	assert.Equal(t, client.ResponseMetaDatasetDemo, *viaMCP.Meta.Dataset)
	assert.Len(t, viaMCP.Growth.Forecast, 2)
}
