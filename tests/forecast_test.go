package tests

import (
	"context"
	"math"
	"testing"
	"time"

	openapi_types "github.com/oapi-codegen/runtime/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/gen/client"
)

// A forecast of the history given in the call: weekly seasonality is detected in daily data,
// and each point carries its 80% and 95% intervals.
func TestForecastOfGivenHistory(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	ctx := context.Background()
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var history []client.DataPoint
	for i := range 365 {
		v := 5000 + 4*float64(i) + 600*math.Sin(2*math.Pi*float64(i)/7) + 50*math.Sin(float64(i)*1.7)
		history = append(history, client.DataPoint{Date: openapi_types.Date{Time: start.AddDate(0, 0, i)}, Value: v})
	}
	resp, err := s.Client.GenerateForecastWithResponse(ctx, nil, client.ForecastRequest{Metric: client.ForecastRequestMetricStreams,
		Horizon: ptr(14), HistoricalData: history})
	require.NoError(t, err)
	require.NotNil(t, resp.JSON200, "status %d: %s", resp.StatusCode(), resp.Body)
	f := resp.JSON200.Forecast
	require.Len(t, f.Points, 14)
	assert.Equal(t, "2026-01-01", f.Points[0].Date.Format(time.DateOnly), "the day after the history")
	for _, p := range f.Points {
		assert.True(t, p.Low95 <= p.Low && p.Low <= p.Value && p.Value <= p.High && p.High <= p.High95, "%+v", p)
	}
	assert.Equal(t, client.Daily, f.Model.Frequency)
	assert.Equal(t, 7, f.Model.SeasonalPeriod)
	assert.True(t, f.Model.Seasonality.Detected)
	require.NotNil(t, f.Model.Mase)
	assert.Positive(t, *f.Model.Mase, "the backtest error is reported")
	require.Len(t, f.Scenarios, 3)
	assert.Equal(t, client.Embedded, resp.JSON200.Meta.ServedBy)

	dup := []client.DataPoint{
		{Date: openapi_types.Date{Time: start}, Value: 1}, {Date: openapi_types.Date{Time: start.AddDate(0, 0, 1)}, Value: 2},
		{Date: openapi_types.Date{Time: start.AddDate(0, 0, 1)}, Value: 3},
	}
	bad, err := s.Client.GenerateForecastWithResponse(ctx, nil, client.ForecastRequest{Metric: client.ForecastRequestMetricStreams, HistoricalData: dup})
	require.NoError(t, err)
	require.NotNil(t, bad.ApplicationproblemJSON422, "status %d: %s", bad.StatusCode(), bad.Body)
	assert.Contains(t, bad.ApplicationproblemJSON422.Detail, "2025-01-02", "the duplicated date is named")

	none, err := s.Client.GenerateForecastWithResponse(ctx, nil, client.ForecastRequest{Metric: client.ForecastRequestMetricListeners})
	require.NoError(t, err)
	require.NotNil(t, none.ApplicationproblemJSON422, "status %d: %s", none.StatusCode(), none.Body)
	assert.Contains(t, none.ApplicationproblemJSON422.Detail, "import", "missing data says what to import")
}

// A forecast of the tenant's stored figures: the demo artist's daily streams, summed across
// platforms by the database, continue from the day after the last stored day.
func TestForecastOfStoredStreams(t *testing.T) {
	t.Parallel()
	s := startServer(t, env{"JARVIS_DEMO_DATA": "auto"})
	ctx := context.Background()
	resp, err := s.Client.GenerateForecastWithResponse(ctx, nil, client.ForecastRequest{Metric: client.ForecastRequestMetricStreams, Horizon: ptr(7)})
	require.NoError(t, err)
	require.NotNil(t, resp.JSON200, "status %d: %s", resp.StatusCode(), resp.Body)
	f := resp.JSON200.Forecast
	require.NotNil(t, resp.JSON200.Meta.Dataset, "a forecast of stored figures says whose they are")
	assert.Equal(t, client.ResponseMetaDatasetDemo, *resp.JSON200.Meta.Dataset)
	assert.Equal(t, client.ForecastMetricStreams, f.Metric)
	require.Len(t, f.Points, 7)
	assert.GreaterOrEqual(t, f.Model.TrainingPoints, 700, "two years of stored days")
	assert.LessOrEqual(t, f.Model.TrainingPoints, 732)
	today := time.Now().UTC().Truncate(24 * time.Hour)
	first := f.Points[0].Date.Time
	assert.False(t, first.Before(today.AddDate(0, 0, -1)) || first.After(today.AddDate(0, 0, 1)),
		"the forecast starts the day after the demo's last day, got %s", first.Format(time.DateOnly))
	assert.Equal(t, client.Daily, f.Model.Frequency)
	assert.Equal(t, 7, f.Model.SeasonalPeriod)
	assert.True(t, f.Model.Seasonality.Detected, "the demo's weekly seasonality is found")
	for _, p := range f.Points {
		assert.Greater(t, p.Value, 1000.0, "five platforms' streams a day: %+v", p)
	}

	// Engagement is not a stored daily figure: the problem says so.
	eng, err := s.Client.GenerateForecastWithResponse(ctx, nil, client.ForecastRequest{Metric: client.ForecastRequestMetricEngagement})
	require.NoError(t, err)
	require.NotNil(t, eng.ApplicationproblemJSON422, "status %d: %s", eng.StatusCode(), eng.Body)
	assert.Contains(t, eng.ApplicationproblemJSON422.Detail, "No daily engagement figure is kept")
	assert.Contains(t, eng.ApplicationproblemJSON422.Detail, "historicalData")
}
