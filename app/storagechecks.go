package app

import (
	"context"
	"fmt"
	"time"

	"github.com/aidawg/jarvis/services/checks"
	"github.com/aidawg/jarvis/services/jobs"
	"github.com/aidawg/jarvis/services/storage"
)

// databaseProbe checks that the database answers.
func databaseProbe(db *storage.DB) checks.Probe {
	return checks.Probe{Name: "database", Scope: checks.ScopeInfrastructure, Critical: true,
		Check: func(ctx context.Context) (checks.Status, string) {
			if err := db.PingContext(ctx); err != nil {
				return checks.Down, fmt.Sprintf("%s at %s does not answer: %v", db.Dialect, db.Location, err)
			}
			return checks.Healthy, fmt.Sprintf("%s at %s answers", db.Dialect, db.Location)
		}}
}

// jobQueueProbe checks that queued jobs are being taken: a job waiting far longer than the
// workers should need means the queue is stuck.
func jobQueueProbe(store *jobs.Store, stuckAfter time.Duration) checks.Probe {
	return checks.Probe{Name: "job-queue", Scope: checks.ScopeInfrastructure,
		Check: func(ctx context.Context) (checks.Status, string) {
			q, err := store.QueueState(ctx, time.Now().Add(-stuckAfter))
			if err != nil {
				return checks.Down, "the job queue cannot be read: " + err.Error()
			}
			detail := fmt.Sprintf("%d queued, %d running", q.Queued, q.Running)
			if q.Waiting > 0 {
				return checks.Degraded, fmt.Sprintf("%s; %d queued for more than %s", detail, q.Waiting, stuckAfter)
			}
			return checks.Healthy, detail
		}}
}

// dataValidator checks that the schema is current and no record has lost what it belongs to.
func dataValidator(db *storage.DB) checks.Validator {
	return checks.Validator{Name: "data", Category: checks.Data, Run: func(ctx context.Context) (checks.Outcome, error) {
		var out checks.Outcome
		pending, err := db.Pending(ctx)
		if err != nil {
			return out, err
		}
		out.Checks++
		if len(pending) > 0 {
			out.Issues = append(out.Issues, checks.Issue{Check: "migrations-current", Category: checks.Data, Severity: checks.Critical,
				Message: fmt.Sprintf("%d migrations are not applied (%v); run jarvis migrate.", len(pending), pending)})
		}
		orphans := []struct{ check, query, message string }{
			{"jobs-have-queue-entries", `SELECT COUNT(*) FROM jobs j WHERE j.status IN ('queued', 'running')
				AND NOT EXISTS (SELECT 1 FROM river_job r WHERE r.id = j.river_id)`,
				"unfinished jobs have no entry in the job queue and will never run"},
			{"context-entries-have-owner", `SELECT COUNT(*) FROM context_entries e WHERE NOT EXISTS
				(SELECT 1 FROM user_contexts u WHERE u.tenant = e.tenant AND u.user_id = e.user_id)`,
				"history entries belong to no user context"},
		}
		for _, o := range orphans {
			var n int
			if err := db.QueryRowContext(ctx, o.query).Scan(&n); err != nil {
				return out, err
			}
			out.Checks++
			if n > 0 {
				out.Issues = append(out.Issues, checks.Issue{Check: o.check, Category: checks.Data, Severity: checks.Warning,
					Message: fmt.Sprintf("%d %s.", n, o.message)})
			}
		}
		return out, nil
	}}
}

// jobCounter gives the health report its job figures.
type jobCounter struct{ store *jobs.Store }

func (c jobCounter) JobCounts(ctx context.Context) (checks.JobCounts, error) {
	m, err := c.store.JobCounts(ctx)
	if err != nil {
		return checks.JobCounts{}, err
	}
	return checks.JobCounts{Queued: m[jobs.Queued], Running: m[jobs.Running], Completed: m[jobs.Completed],
		Failed: m[jobs.Failed], Cancelled: m[jobs.Cancelled]}, nil
}
