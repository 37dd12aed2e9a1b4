package checks

import (
	"context"
	"fmt"
	"time"

	"github.com/aidawg/jarvis/services/jobs"
	"github.com/aidawg/jarvis/services/storage"
)

// DatabaseProbe checks that the database answers.
func DatabaseProbe(db *storage.DB) Probe {
	return Probe{Name: "database", Scope: ScopeInfrastructure, Critical: true,
		Check: func(ctx context.Context) (Status, string) {
			if err := db.PingContext(ctx); err != nil {
				return Down, fmt.Sprintf("%s at %s does not answer: %v", db.Dialect, db.Location, err)
			}
			return Healthy, fmt.Sprintf("%s at %s answers", db.Dialect, db.Location)
		}}
}

// JobQueueProbe checks that queued jobs are being taken: a job waiting far longer than the
// workers should need means the queue is stuck.
func JobQueueProbe(store *jobs.Store, stuckAfter time.Duration) Probe {
	return Probe{Name: "job-queue", Scope: ScopeInfrastructure,
		Check: func(ctx context.Context) (Status, string) {
			q, err := store.QueueState(ctx, time.Now().Add(-stuckAfter))
			if err != nil {
				return Down, "the job queue cannot be read: " + err.Error()
			}
			detail := fmt.Sprintf("%d queued, %d running", q.Queued, q.Running)
			if q.Waiting > 0 {
				return Degraded, fmt.Sprintf("%s; %d queued for more than %s", detail, q.Waiting, stuckAfter)
			}
			return Healthy, detail
		}}
}

// DataValidator checks that the schema is current and no record has lost what it belongs to.
func DataValidator(db *storage.DB) Validator {
	return Validator{Name: "data", Category: Data, Run: func(ctx context.Context) (Outcome, error) {
		var out Outcome
		pending, err := db.Pending(ctx)
		if err != nil {
			return out, err
		}
		out.Checks++
		if len(pending) > 0 {
			out.Issues = append(out.Issues, Issue{Check: "migrations-current", Category: Data, Severity: Critical,
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
				out.Issues = append(out.Issues, Issue{Check: o.check, Category: Data, Severity: Warning,
					Message: fmt.Sprintf("%d %s.", n, o.message)})
			}
		}
		return out, nil
	}}
}

// jobFigures gives the health report its job figures.
type jobFigures struct{ store *jobs.Store }

func (c jobFigures) JobCounts(ctx context.Context) (JobCounts, error) {
	m, err := c.store.JobCounts(ctx)
	if err != nil {
		return JobCounts{}, err
	}
	return JobCounts{Queued: m[jobs.Queued], Running: m[jobs.Running], Completed: m[jobs.Completed],
		Failed: m[jobs.Failed], Cancelled: m[jobs.Cancelled]}, nil
}
