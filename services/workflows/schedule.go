package workflows

import (
	"context"
	"time"

	"github.com/rs/zerolog"

	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/jobs"
)

// JobStarter creates run jobs.
type JobStarter interface {
	Create(ctx context.Context, owner services.Owner, typ string, params any, callbackURL string) (jobs.Job, error)
}

// Scheduler starts the runs that schedules call for.
type Scheduler struct {
	store *Store
	jobs  JobStarter
	now   func() time.Time
	log   zerolog.Logger
}

// staleRun is how late a scheduled run may start: a time the servers were all down for is
// not made up later.
const staleRun = 5 * time.Minute

// dueBatch is how many due workflows one tick starts at most; the rest wait for the next.
const dueBatch = 500

// NewScheduler starts scheduled runs of store's workflows as jobs; now is the clock.
func NewScheduler(store *Store, starter JobStarter, now func() time.Time, log zerolog.Logger) *Scheduler {
	return &Scheduler{store: store, jobs: starter, now: now, log: log}
}

// Task is the periodic task that ticks the scheduler at the start of every minute.
func (s *Scheduler) Task() jobs.Periodic {
	return jobs.Periodic{
		Name: "workflow-schedules",
		Next: func(t time.Time) time.Time { return t.Truncate(time.Minute).Add(time.Minute) },
		Run:  func(ctx context.Context) error { _, err := s.Tick(ctx); return err },
	}
}

// Tick starts a run of each workflow whose scheduled time has come, and moves its next run to
// the schedule's following time. It returns how many runs it started.
func (s *Scheduler) Tick(ctx context.Context) (int, error) {
	now := s.now().UTC()
	due, err := s.store.Due(ctx, now, dueBatch)
	if err != nil {
		return 0, err
	}
	started := 0
	for _, w := range due {
		claimed, err := s.store.advance(ctx, w.ID, *w.NextRunAt, nextRun(w.Schedule, now))
		if err != nil {
			return started, err
		}
		if !claimed || now.Sub(*w.NextRunAt) > staleRun {
			continue
		}
		j, err := s.jobs.Create(ctx, w.Owner, jobs.TypeWorkflowRun, RunParams{WorkflowID: w.ID, Trigger: TriggerSchedule}, "")
		if err != nil {
			s.log.Error().Err(err).Str("workflowId", w.ID).Msg("start a scheduled workflow run")
			continue
		}
		s.log.Info().Str("workflowId", w.ID).Str("jobId", j.ID).Time("due", *w.NextRunAt).Msg("scheduled workflow run started")
		started++
	}
	return started, nil
}
