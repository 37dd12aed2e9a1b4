package services

import (
	"context"
	"time"
)

type jobWaitKey struct{}

// WithJobWait makes a long action called with ctx wait up to d for its job before answering,
// instead of the configured inline wait: a workflow step needs the job's result to go on, not
// a job to poll. Only work in process can set it.
func WithJobWait(ctx context.Context, d time.Duration) context.Context {
	return context.WithValue(ctx, jobWaitKey{}, d)
}

// JobWait is the wait WithJobWait set on ctx, or 0.
func JobWait(ctx context.Context) time.Duration {
	d, _ := ctx.Value(jobWaitKey{}).(time.Duration)
	return d
}
