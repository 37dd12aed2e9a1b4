// Package automation is the embedded AI Dawg automation module: forecasts of an artist's
// figures.
package automation

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/aidawg/jarvis/gen/aidawg"
	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/forecast"
	"github.com/aidawg/jarvis/services/modules"
)

// Series reads a tenant's stored daily figures of a metric, oldest first.
type Series interface {
	DailyMetric(ctx context.Context, tenant, metric string) ([]forecast.Point, error)
	// Dataset says where the tenant's data came from (demo, imported or mixed).
	Dataset(ctx context.Context, tenant string) (string, error)
}

// Module is the embedded automation module.
type Module struct {
	series Series // nil where no tenant data is kept
}

// NewModule builds the module; series may be nil, and then only the history given in a call
// can be forecast.
func NewModule(series Series) *Module { return &Module{series: series} }

func (m *Module) Name() string { return "automation" }

func (m *Module) Register(reg *modules.Registrar) {
	modules.Handle(reg, modules.CmdGenerateForecast, m.generateForecast)
}

// defaultHorizon is the contract's default, for a caller that bypassed its defaults.
const defaultHorizon = 30

func (m *Module) generateForecast(ctx context.Context, p aidawg.GenerateForecastParams) (aidawg.GenerateForecastResult, error) {
	points, f := m.history(ctx, p)
	if f != nil {
		return aidawg.GenerateForecastResult{}, f
	}
	horizon := defaultHorizon
	if p.Horizon != nil {
		horizon = *p.Horizon
	}
	res, err := forecast.Compute(points, forecast.Options{HorizonPeriods: horizon})
	if err != nil {
		return aidawg.GenerateForecastResult{}, historyFailure(err)
	}
	out := contractForecast(res, p.Metric, horizon, len(points))
	if p.IncludeScenarios == nil || *p.IncludeScenarios {
		out.Scenarios = scenarios(res)
	}
	result := aidawg.GenerateForecastResult{Forecast: out}
	if len(p.HistoricalData) == 0 {
		// The history was the tenant's stored figures: say whose, as every answer computed from
		// stored data does.
		if principal, ok := services.PrincipalFrom(ctx); ok {
			if d, err := m.series.Dataset(ctx, principal.Tenant); err == nil && d != "" {
				ds := aidawg.Dataset(d)
				result.Dataset = &ds
			}
		}
	}
	return result, nil
}

func (m *Module) history(ctx context.Context, p aidawg.GenerateForecastParams) ([]forecast.Point, *modules.Failure) {
	if len(p.HistoricalData) > 0 {
		points := make([]forecast.Point, len(p.HistoricalData))
		for i, d := range p.HistoricalData {
			points[i] = forecast.Point{Date: d.Date.Time, Value: d.Value}
		}
		return points, nil
	}
	noData := modules.InvalidParams(fmt.Sprintf(
		"No daily %s figures are stored for this account. Give historicalData, or import the daily platform metrics (jarvis data import metrics FILE, or POST /admin/data/metrics) and ask again.",
		p.Metric), services.FieldError{Field: "/historicalData", Message: "is required while no figures are stored"})
	principal, ok := services.PrincipalFrom(ctx)
	if m.series == nil || !ok {
		return nil, noData
	}
	points, err := m.series.DailyMetric(ctx, principal.Tenant, string(p.Metric))
	if se, ok := services.AsError(err); ok && se.Code == services.CodeUnprocessable {
		return nil, modules.InvalidParams(se.Detail, se.Fields...)
	}
	if err != nil {
		return nil, modules.ExecutionFailed("The stored figures could not be read.", err)
	}
	if len(points) == 0 {
		return nil, noData
	}
	return points, nil
}

// historyFailure says what is wrong with a history, naming the dates at fault.
func historyFailure(err error) *modules.Failure {
	field := services.FieldError{Field: "/historicalData"}
	var (
		irregular *forecast.IrregularSpacingError
		dup       *forecast.DuplicateDateError
		invalid   *forecast.InvalidValueError
		short     *forecast.InsufficientDataError
	)
	switch {
	case errors.As(err, &irregular):
		field.Message = "is not evenly spaced at " + dates(irregular.Dates)
		return modules.InvalidParams(fmt.Sprintf("The dates are not evenly spaced by a day, a week or a month: %d break the spacing, first %s. Fill the gaps or give one point per period.",
			irregular.Total, dates(irregular.Dates)), field)
	case errors.As(err, &dup):
		field.Message = "repeats " + dates(dup.Dates)
		return modules.InvalidParams(fmt.Sprintf("%d dates occur more than once, first %s. Give one value per date.", dup.Total, dates(dup.Dates)), field)
	case errors.As(err, &invalid):
		field.Message = "has values that are not numbers at " + dates(invalid.Dates)
		return modules.InvalidParams(fmt.Sprintf("%d values are not finite numbers, first at %s.", invalid.Total, dates(invalid.Dates)), field)
	case errors.As(err, &short):
		field.Message = fmt.Sprintf("has %d points, at least %d are needed", short.Have, short.Need)
		return modules.InvalidParams(fmt.Sprintf("The history has %d points; at least %d are needed (%s). Give a longer history.", short.Have, short.Need, short.Reason), field)
	}
	return modules.ExecutionFailed("The forecast could not be made.", err)
}

func dates(ds []time.Time) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = d.Format(time.DateOnly)
	}
	return strings.Join(parts, ", ")
}

func contractForecast(r *forecast.Result, metric aidawg.ForecastMetric, horizon, training int) aidawg.Forecast {
	out := aidawg.Forecast{Metric: metric, Horizon: horizon, Points: make([]aidawg.ForecastPoint, len(r.Points))}
	for i, p := range r.Points {
		out.Points[i] = aidawg.ForecastPoint{Date: openapi_types.Date{Time: p.Date}, Value: round(p.Value), Low: round(p.Lower80),
			High: round(p.Upper80), Low95: round(p.Lower95), High95: round(p.Upper95)}
	}
	model := aidawg.ForecastModel{
		Method: r.Model, TrainingPoints: training, Frequency: aidawg.ForecastModelFrequency(r.Frequency),
		SeasonalPeriod: r.SeasonalPeriod, Aicc: r.AICc, Selection: r.Selection, IntervalMethod: r.IntervalMethod,
		Parameters: parameters(r.Params), Candidates: make([]aidawg.ForecastCandidate, len(r.Candidates)),
	}
	model.Seasonality.Detected, model.Seasonality.Statistic = r.Seasonality.Detected, r.Seasonality.Statistic
	model.Seasonality.Threshold, model.Seasonality.Test = r.Seasonality.Threshold, r.Seasonality.Test
	if b := r.Backtest; b != nil {
		model.Mape, model.Mase = b.MAPE, b.MASE
		origins := b.Origins
		model.BacktestOrigins = &origins
	}
	for i, c := range r.Candidates {
		cand := aidawg.ForecastCandidate{Method: c.Model, Aicc: c.AICc}
		if c.Backtest != nil {
			cand.Mase = c.Backtest.MASE
		}
		if c.Skipped != "" {
			why := c.Skipped
			cand.Skipped = &why
		}
		model.Candidates[i] = cand
	}
	out.Model = model
	return out
}

func parameters(p forecast.Params) map[string]float64 {
	out := map[string]float64{"sigma": p.Sigma}
	for name, v := range map[string]*float64{"alpha": p.Alpha, "beta": p.Beta, "gamma": p.Gamma, "phi": p.Phi,
		"initialLevel": p.InitialLevel, "initialTrend": p.InitialTrend, "driftPerPeriod": p.DriftPerPeriod} {
		if v != nil {
			out[name] = *v
		}
	}
	return out
}

// scenarios sums each of the forecast's scenario paths over the horizon.
func scenarios(r *forecast.Result) []aidawg.Scenario {
	names := map[string]aidawg.ScenarioName{"optimistic": aidawg.Optimistic, "expected": aidawg.Base, "base": aidawg.Base, "pessimistic": aidawg.Pessimistic}
	var out []aidawg.Scenario
	for _, s := range r.Scenarios {
		name, ok := names[s.Name]
		if !ok {
			continue
		}
		total := 0.0
		for _, v := range s.Values {
			total += v
		}
		out = append(out, aidawg.Scenario{Name: name, Total: round(total), Meaning: s.Meaning})
	}
	return out
}

// round keeps three decimals, more than any figure here needs.
func round(v float64) float64 { return math.Round(v*1000) / 1000 }
