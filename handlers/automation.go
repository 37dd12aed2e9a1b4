package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aidawg/jarvis/gen/aidawg"
	"github.com/aidawg/jarvis/gen/jarvis"
	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/automation"
	"github.com/aidawg/jarvis/services/jobs"
)

// GenerateForecast runs the forecast as a job, answered inline when it is ready within the wait.
func (s *Server) GenerateForecast(ctx context.Context, req jarvis.GenerateForecastRequestObject) (jarvis.GenerateForecastResponseObject, error) {
	started := time.Now()
	b := req.Body
	params := aidawg.GenerateForecastParams{Metric: aidawg.ForecastMetric(b.Metric), Horizon: b.Horizon, IncludeScenarios: b.IncludeScenarios}
	for _, d := range b.HistoricalData {
		params.HistoricalData = append(params.HistoricalData, aidawg.DataPoint(d))
	}
	j, err := s.runLong(ctx, jobs.TypeForecast, params, b.CallbackUrl)
	if err != nil {
		return failed(ctx, err)
	}
	services.NoteJob(ctx, j.ID)
	if !j.Status.Finished() {
		acc, err := s.accepted(j, "The forecast")
		if err != nil {
			return nil, err
		}
		return jarvis.GenerateForecast202JSONResponse{JobAcceptedJSONResponse: jarvis.JobAcceptedJSONResponse(acc)}, nil
	}
	result, by, err := s.jobResult(j, nil)
	if err != nil {
		return nil, err
	}
	if result == nil || result.Forecast == nil {
		return nil, fmt.Errorf("job %s completed without a forecast", j.ID)
	}
	m := meta(ctx, servedBy(by), started)
	var rec automation.ForecastRecord
	if err := json.Unmarshal(j.Result, &rec); err == nil && rec.Dataset != "" {
		m = withDataset(m, aidawg.Dataset(rec.Dataset))
	}
	return jarvis.GenerateForecast200JSONResponse{Forecast: *result.Forecast, Meta: m}, nil
}

// apiForecast is AI Dawg's forecast as the contract's.
func apiForecast(r automation.ForecastRecord) jarvis.Forecast {
	f := r.Forecast
	out := jarvis.Forecast{Metric: jarvis.ForecastMetric(f.Metric), Horizon: f.Horizon, Points: make([]jarvis.ForecastPoint, len(f.Points))}
	for i, p := range f.Points {
		out.Points[i] = jarvis.ForecastPoint(p)
	}
	if f.Scenarios != nil {
		out.Scenarios = make([]jarvis.Scenario, len(f.Scenarios))
		for i, sc := range f.Scenarios {
			out.Scenarios[i] = jarvis.Scenario{Name: jarvis.ScenarioName(sc.Name), Total: sc.Total, Meaning: sc.Meaning}
		}
	}
	m := f.Model
	out.Model = jarvis.ForecastModel{
		Method: m.Method, TrainingPoints: m.TrainingPoints, Frequency: jarvis.ForecastModelFrequency(m.Frequency),
		SeasonalPeriod: m.SeasonalPeriod, Aicc: m.Aicc, Selection: m.Selection, IntervalMethod: m.IntervalMethod,
		Parameters: m.Parameters, Mape: m.Mape, Mase: m.Mase, BacktestOrigins: m.BacktestOrigins,
		Candidates: make([]jarvis.ForecastCandidate, len(m.Candidates)),
	}
	out.Model.Seasonality.Detected, out.Model.Seasonality.Statistic = m.Seasonality.Detected, m.Seasonality.Statistic
	out.Model.Seasonality.Threshold, out.Model.Seasonality.Test = m.Seasonality.Threshold, m.Seasonality.Test
	if out.Model.Parameters == nil {
		out.Model.Parameters = map[string]float64{}
	}
	for i, c := range m.Candidates {
		out.Model.Candidates[i] = jarvis.ForecastCandidate(c)
	}
	return out
}
