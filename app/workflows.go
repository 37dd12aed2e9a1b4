package app

import (
	"context"
	"errors"

	"github.com/aidawg/jarvis/handlers/mcpserver"
	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/jobs"
)

// lazyPipeline is the MCP door's pipeline, which workflow steps go through. The door is built
// over the finished HTTP chain, after the job engine that runs workflows and the handlers that
// check them, so it is filled in last; no call comes before the server serves.
type lazyPipeline struct{ p *mcpserver.Pipeline }

func (l *lazyPipeline) Offered(operationID string) bool {
	return l.p != nil && l.p.Offered(operationID)
}

func (l *lazyPipeline) Check(operationID string, args map[string]any) []services.FieldError {
	if l.p == nil {
		return []services.FieldError{{Field: "", Message: "cannot be checked before the server is assembled"}}
	}
	return l.p.Check(operationID, args)
}

func (l *lazyPipeline) Call(ctx context.Context, operationID string, args map[string]any, idempotencyKey string) (int, []byte, error) {
	if l.p == nil {
		return 0, nil, errors.New("the HTTP pipeline is not assembled yet")
	}
	return l.p.Call(ctx, operationID, args, idempotencyKey)
}

// lateJobs creates jobs on the engine once it is built; the scheduler that uses it is one of
// the engine's own periodic tasks.
type lateJobs struct{ engine *jobs.Service }

func (l *lateJobs) Create(ctx context.Context, owner services.Owner, typ string, params any, callbackURL string) (jobs.Job, error) {
	if l.engine == nil {
		return jobs.Job{}, errors.New("the job engine is not built yet")
	}
	return l.engine.Create(ctx, owner, typ, params, callbackURL)
}
