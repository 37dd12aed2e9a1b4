package automation

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aidawg/jarvis/gen/aidawg"
	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/jobs"
	"github.com/aidawg/jarvis/services/modules"
)

// Forecaster carries out generate-forecast on whichever backend the router picks.
type Forecaster func(ctx context.Context, p aidawg.GenerateForecastParams) (aidawg.GenerateForecastResult, modules.ServedBy, error)

// ForecastRecord is a forecast job's result: the forecast and which backend made it.
type ForecastRecord struct {
	Forecast aidawg.Forecast `json:"forecast"`
	ServedBy string          `json:"servedBy"`
	Dataset  string          `json:"dataset,omitempty"` // of the stored figures forecast, if any
}

// ForecastRunner runs a forecast job as its owner, so that a forecast of stored figures reads
// the owner's tenant, within budget rather than the inline call's.
func ForecastRunner(generate Forecaster, budget time.Duration) jobs.Runner {
	return func(ctx context.Context, j jobs.Job, p *jobs.Progress) (jobs.Outcome, error) {
		var params aidawg.GenerateForecastParams
		if err := json.Unmarshal(j.Params, &params); err != nil {
			return jobs.Outcome{}, fmt.Errorf("job %s: stored params: %w", j.ID, err)
		}
		if err := p.Report(ctx, 10, "Fitting the models.", 0); err != nil {
			return jobs.Outcome{}, err
		}
		ctx = services.WithPrincipal(modules.WithBudget(ctx, budget), services.Principal{Tenant: j.Owner.Tenant, User: j.Owner.User})
		res, by, err := generate(ctx, params)
		if err != nil {
			return jobs.Outcome{}, err
		}
		rec := ForecastRecord{Forecast: res.Forecast, ServedBy: string(by)}
		if res.Dataset != nil {
			rec.Dataset = string(*res.Dataset)
		}
		return jobs.Outcome{Result: rec}, nil
	}
}
