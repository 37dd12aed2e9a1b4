package scaling

import (
	"context"
	"fmt"
	"math"
	"time"
)

// The metrics auto-optimize sizes a pool by.
const (
	MetricUtilization = "utilization" // slots in use over the limit
	MetricQueueDepth  = "queue-depth" // work in use and waiting per slot
	MetricLatency     = "latency"     // p95 in milliseconds, waits for a slot included
)

// DefaultTargets are the targets of the metrics a request gives none for; latency has none.
var DefaultTargets = map[string]float64{MetricUtilization: 0.7, MetricQueueDepth: 1}

// tolerance is how far from its target a metric may be without a change, as in the
// Kubernetes Horizontal Pod Autoscaler.
const tolerance = 0.1

// decision is auto-optimize's verdict on one pool.
type decision struct {
	desired int // ceil(current × observed / target), within the bounds
	to      int // desired after stabilisation
	why     string
}

// decide applies the HPA rule to one pool: desired = ceil(current × observed / target), no
// change within the tolerance, clamped to [lo, hi]; a scale-down goes no lower than the highest
// of the recent recommendations (the stabilisation window), a scale-up applies at once.
func decide(current int, metric string, observed, target float64, lo, hi int, recent []int) decision {
	ratio := observed / target
	figures := fmt.Sprintf("%s %.3g against a target of %.3g", metric, observed, target)
	if math.Abs(ratio-1) <= tolerance {
		d := decision{desired: current, to: current, why: figures + ": within 10%, no change"}
		if current < lo || current > hi {
			d.desired = min(max(current, lo), hi)
			d.to, d.why = d.desired, figures+fmt.Sprintf(": within 10%%, moved into the allowed %d to %d", lo, hi)
		}
		return d
	}
	raw := int(math.Ceil(float64(current)*ratio - 1e-9))
	desired := min(max(raw, lo), hi)
	why := fmt.Sprintf("%s: ceil(%d × %.3g / %.3g) = %d", figures, current, observed, target, raw)
	if desired != raw {
		why += fmt.Sprintf(", within the allowed %d to %d: %d", lo, hi, desired)
	}
	d := decision{desired: desired, to: desired, why: why}
	if desired < current {
		held := desired
		for _, r := range recent {
			held = max(held, r)
		}
		held = min(held, current)
		if held > desired {
			d.to = held
			d.why += fmt.Sprintf("; held at %d, the highest recommendation within the stabilisation window", held)
		}
	}
	return d
}

// optimize sizes each pool the request names (all, when none) by its metric.
func (s *Service) optimize(ctx context.Context, who string, r Request) ([]Change, []string, error) {
	metric := r.TargetMetric
	if metric == "" {
		metric = MetricUtilization
	}
	target, ok := DefaultTargets[metric]
	if r.TargetValue != nil {
		target, ok = *r.TargetValue, true
	}
	switch {
	case metric != MetricUtilization && metric != MetricQueueDepth && metric != MetricLatency:
		return nil, nil, invalid("/targetMetric", "is not a metric", fmt.Sprintf("targetMetric %q is not one of utilization, queue-depth, latency.", metric))
	case !ok:
		return nil, nil, invalid("/targetValue", "is required for latency", "Give targetValue, the p95 latency to aim for in milliseconds, such as 500.")
	case target <= 0:
		return nil, nil, invalid("/targetValue", "must be above 0", "Give a targetValue above 0.")
	}
	names := Pools
	if r.Pool != "" {
		names = []string{r.Pool}
	}
	var (
		changes []Change
		notes   []string
	)
	now := s.now()
	for _, name := range names {
		p := s.pools[name]
		if p.fixed != "" {
			notes = append(notes, fmt.Sprintf("%s: left alone, %s.", name, p.fixed))
			continue
		}
		current := p.usage().Limit
		observed, ok := s.observe(name, metric, current)
		if !ok {
			notes = append(notes, fmt.Sprintf("%s: no %s observed within the last %s, no change.", name, metric, s.cfg.Window))
			continue
		}
		lo, hi, capped := s.allowed(name, r)
		if lo > hi {
			notes = append(notes, fmt.Sprintf("%s: the constraints allow no value (%d to %d%s), no change.", name, lo, hi, suffix(capped)))
			continue
		}
		recent, err := s.recommendations(ctx, name, now.Add(-s.cfg.Stabilization), now)
		if err != nil {
			return nil, nil, err
		}
		d := decide(current, metric, observed, target, lo, hi, recent)
		if capped != "" && d.desired == hi {
			d.why += " (" + capped + ")"
		}
		if err := s.recommend(ctx, name, now, d.desired); err != nil {
			return nil, nil, err
		}
		if d.to == current {
			notes = append(notes, fmt.Sprintf("%s: %s.", name, d.why))
			continue
		}
		c, err := s.apply(ctx, who, name, current, d.to, "auto-optimize", d.why)
		if err != nil {
			return nil, nil, err
		}
		changes = append(changes, *c)
	}
	return changes, notes, nil
}

func suffix(s string) string {
	if s == "" {
		return ""
	}
	return ", " + s
}

// recommendations are a pool's recommendations since from, older ones deleted. A change made
// by hand counts as a recommendation of its value, so that auto-optimize does not undo it at
// once.
func (s *Service) recommendations(ctx context.Context, name string, from, now time.Time) ([]int, error) {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM scaling_recommendations WHERE pool = $1 AND at < $2`, name, from.UnixMilli()); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT slots FROM scaling_recommendations WHERE pool = $1 AND at >= $2 AND at <= $3
		UNION ALL SELECT to_slots FROM scaling_changes WHERE pool = $4 AND at >= $5 AND at <= $6 AND action <> 'auto-optimize'`,
		name, from.UnixMilli(), now.UnixMilli(), name, from.UnixMilli(), now.UnixMilli())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var n int
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

func (s *Service) recommend(ctx context.Context, name string, at time.Time, slots int) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO scaling_recommendations (pool, at, slots) VALUES ($1, $2, $3)`, name, at.UnixMilli(), slots)
	return err
}
