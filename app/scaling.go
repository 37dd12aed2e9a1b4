package app

import (
	"context"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/aidawg/jarvis/services/scaling"
	"github.com/aidawg/jarvis/services/storage"
)

// loadScaling reads the settings of the pools manageScaling sizes.
func (c *Config) loadScaling(get func(string) string) []error {
	var errs []error
	var err error
	sc := scaling.Config{}
	if sc.Initial, err = scaling.ParseCounts(get("JARVIS_SCALING_LIMITS")); err != nil {
		errs = append(errs, fmt.Errorf("JARVIS_SCALING_LIMITS: %w", err))
	}
	for _, pool := range []string{scaling.Workers, scaling.MusicGeneration} {
		if _, set := sc.Initial[pool]; !set && c.JobWorkers > 0 {
			sc.Initial[pool] = c.JobWorkers
		}
	}
	if sc.Bounds, err = scaling.ParseBounds(get("JARVIS_SCALING_BOUNDS")); err != nil {
		errs = append(errs, fmt.Errorf("JARVIS_SCALING_BOUNDS: %w", err))
	}
	if sc.Costs, err = scaling.ParseCosts(get("JARVIS_SCALING_COSTS")); err != nil {
		errs = append(errs, fmt.Errorf("JARVIS_SCALING_COSTS: %w", err))
	}
	for name, d := range map[string]*time.Duration{"JARVIS_SCALING_POLL_INTERVAL": &sc.PollInterval,
		"JARVIS_SCALING_WINDOW": &sc.Window, "JARVIS_SCALING_STABILIZATION": &sc.Stabilization} {
		raw := get(name)
		v, err := time.ParseDuration(raw)
		if err != nil || v <= 0 {
			errs = append(errs, fmt.Errorf("%s=%q: want a positive duration such as 2s", name, raw))
		}
		*d = v
	}
	c.Scaling = sc
	return errs
}

// workerCeiling is River's fixed worker count for actions: the most the workers pool may be
// raised to.
func (c Config) workerCeiling() int {
	b, ok := c.Scaling.Bounds[scaling.Workers]
	if !ok {
		b = scaling.DefaultBounds[scaling.Workers]
	}
	return max(b.Max, c.JobWorkers)
}

func openScaling(cfg Config, db *storage.DB, log zerolog.Logger) (*scaling.Service, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := scaling.New(ctx, cfg.Scaling, db, log)
	if err != nil {
		return nil, fmt.Errorf("scaling pools: %w", err)
	}
	return s, nil
}
