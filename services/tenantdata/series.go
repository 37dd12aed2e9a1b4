package tenantdata

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/forecast"
)

// metricColumns are the daily metrics a forecast can be made of, as columns of
// platform_metrics, and the factor that turns the stored integer into the metric's unit.
var metricColumns = map[string]struct {
	column string
	scale  float64
}{
	"streams":   {"streams", 1},
	"listeners": {"listeners", 1},
	"followers": {"followers", 1},
	"revenue":   {"revenue_micros", 1e-6},
}

// DailyMetric is the tenant's daily figure of metric summed across platforms by the database,
// oldest day first; an empty series when none is stored. A metric the stored data cannot give
// (engagement has no daily column, revenue in several currencies has no one sum) is an
// unprocessable error that says so.
func (s *Store) DailyMetric(ctx context.Context, tenant, metric string) ([]forecast.Point, error) {
	col, ok := metricColumns[metric]
	if !ok {
		return nil, &services.Error{Code: services.CodeUnprocessable,
			Detail: fmt.Sprintf("No daily %s figure is kept in the stored platform metrics (they hold streams, listeners, followers, saves and revenue). Give historicalData with the figures to forecast.", metric),
			Fields: []services.FieldError{{Field: "/metric", Message: "cannot be computed from the stored data"}}}
	}
	if metric == "revenue" {
		currencies, err := s.currencies(ctx, tenant)
		if err != nil {
			return nil, err
		}
		if len(currencies) > 1 {
			return nil, &services.Error{Code: services.CodeUnprocessable,
				Detail: fmt.Sprintf("The stored revenue is in %d currencies (%s), which do not add up to one daily figure. Give historicalData in one currency.",
					len(currencies), strings.Join(currencies, ", ")),
				Fields: []services.FieldError{{Field: "/metric", Message: "is stored in several currencies"}}}
		}
	}
	rows, err := s.db.QueryContext(ctx, `SELECT day, SUM(`+col.column+`) FROM platform_metrics
		WHERE tenant = $1 GROUP BY day ORDER BY day`, tenant)
	if err != nil {
		return nil, fmt.Errorf("daily %s: %w", metric, err)
	}
	defer rows.Close()
	var out []forecast.Point
	for rows.Next() {
		var (
			day string
			sum int64
		)
		if err := rows.Scan(&day, &sum); err != nil {
			return nil, err
		}
		d, err := time.Parse(time.DateOnly, day)
		if err != nil {
			return nil, fmt.Errorf("stored day %q: %w", day, err)
		}
		out = append(out, forecast.Point{Date: d, Value: float64(sum) * col.scale})
	}
	return out, rows.Err()
}

func (s *Store) currencies(ctx context.Context, tenant string) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT currency FROM platform_metrics WHERE tenant = $1 ORDER BY currency`, tenant)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
