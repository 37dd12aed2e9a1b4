package services

import (
	"context"
	"database/sql"
	"sync"
)

// ActionNote is what a handler tells the layers around it about the action it carried out:
// the job it started, what a follow-up call would need, and which of the caller's default
// params filled the request.
type ActionNote struct {
	mu              sync.Mutex
	jobID           string
	follow          map[string]any
	defaultsApplied []string
	onJobCreated    func(ctx context.Context, tx *sql.Tx, jobID string) error
	resumeJob       string
}

func noteFrom(ctx context.Context) *ActionNote {
	if c := CallFrom(ctx); c != nil {
		return &c.note
	}
	return nil
}

// NoteJob records the job an action started.
func NoteJob(ctx context.Context, id string) {
	if n := noteFrom(ctx); n != nil {
		n.mu.Lock()
		n.jobID = id
		n.mu.Unlock()
	}
}

// OnJobCreated sets what is done, in the transaction that records it, with the job the call's
// action starts: the idempotency layer ties the caller's key to the job there, so that no crash
// can leave a job that a retry of the request does not find.
func (n *ActionNote) OnJobCreated(f func(ctx context.Context, tx *sql.Tx, jobID string) error) {
	n.mu.Lock()
	n.onJobCreated = f
	n.mu.Unlock()
}

// JobCreated is told by the job service, in the transaction that records the job, which job
// the call's action started.
func JobCreated(ctx context.Context, tx *sql.Tx, jobID string) error {
	n := noteFrom(ctx)
	if n == nil {
		return nil
	}
	n.mu.Lock()
	f := n.onJobCreated
	n.mu.Unlock()
	if f == nil {
		return nil
	}
	return f(ctx, tx, jobID)
}

// ResumeJob says that the call repeats a request that started job id, which is not finally
// answered: the action answers that job as it now stands instead of starting another.
func (n *ActionNote) ResumeJob(id string) {
	n.mu.Lock()
	n.resumeJob = id
	n.mu.Unlock()
}

// ResumedJob is the job the call's action is to answer rather than start, or "".
func ResumedJob(ctx context.Context) string {
	if n := noteFrom(ctx); n != nil {
		n.mu.Lock()
		defer n.mu.Unlock()
		return n.resumeJob
	}
	return ""
}

// NoteFollow records a value a follow-up call would need, such as the link to a new track.
func NoteFollow(ctx context.Context, key string, value any) {
	if n := noteFrom(ctx); n != nil {
		n.mu.Lock()
		if n.follow == nil {
			n.follow = map[string]any{}
		}
		n.follow[key] = value
		n.mu.Unlock()
	}
}

// DefaultsApplied lists the request fields filled from the caller's default params.
func DefaultsApplied(ctx context.Context) []string {
	if n := noteFrom(ctx); n != nil {
		n.mu.Lock()
		defer n.mu.Unlock()
		return n.defaultsApplied
	}
	return nil
}

// SetDefaultsApplied records the fields filled from default params.
func (n *ActionNote) SetDefaultsApplied(fields []string) {
	n.mu.Lock()
	n.defaultsApplied = fields
	n.mu.Unlock()
}

// Read returns the job id and follow-up values noted.
func (n *ActionNote) Read() (jobID string, follow map[string]any) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.jobID, n.follow
}
