package services

import (
	"context"
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
