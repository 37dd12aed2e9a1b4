package jobs

import (
	"context"
	"strconv"
	"time"

	"github.com/riverqueue/river"
)

// Admission decides whether a job may start in this process now: Admit waits briefly for a
// slot of the job's pools and returns a release to call when the job ends, or false when none
// came free. River's own worker count is fixed while a client runs, so the pools' resizable
// limits are enforced here, below it.
type Admission interface {
	Admit(ctx context.Context, jobType string, created time.Time) (release func(), ok bool)
}

// admissionRetry is how soon a job refused admission is offered again. Below River's scheduler
// interval, the snoozed job is made available at once, to this replica or any other with a free
// slot, and keeps its attempt.
const admissionRetry = 100 * time.Millisecond

// admit asks the admission, if any, to let job j start.
func (s *Service) admit(ctx context.Context, j Job) (release func(), err error) {
	// A workflow run mostly waits for the jobs its steps start, which take the slots; holding
	// one itself, a run could keep its own steps from ever starting.
	if s.admission == nil || j.Type == TypeWorkflowRun {
		return func() {}, nil
	}
	release, ok := s.admission.Admit(ctx, j.Type, j.CreatedAt)
	if !ok {
		return nil, river.JobSnooze(admissionRetry)
	}
	return release, nil
}

// QueueDepth counts the jobs waiting to start, of the given types or of every type when none
// is given.
func (s *Service) QueueDepth(ctx context.Context, types ...string) (int, error) {
	q, args := `SELECT COUNT(*) FROM jobs WHERE status = $1`, []any{string(Queued)}
	if len(types) > 0 {
		q += ` AND type IN (`
		for i, t := range types {
			if i > 0 {
				q += `, `
			}
			args = append(args, t)
			q += "$" + strconv.Itoa(len(args))
		}
		q += `)`
	}
	var n int
	err := s.db.QueryRowContext(ctx, q, args...).Scan(&n)
	return n, err
}
