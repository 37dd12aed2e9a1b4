package jobs

import (
	"context"
	"fmt"

	"github.com/aidawg/jarvis/services"
)

// Job types, as the contract names them.
const (
	TypeMusicGeneration = "music-generation"
	TypeForecast        = "forecast"
	TypeWorkflowRun     = "workflow-run"
)

// Types lists every job type, in the order reports give them.
var Types = []string{TypeMusicGeneration, TypeForecast, TypeWorkflowRun}

// internalDetail is what a caller reads of a failure the job did not explain.
const internalDetail = "Something went wrong inside Jarvis. Retry once; if it fails again, report the requestId."

// RunLong creates a job for a long action, or takes the one the call resumes, and waits up to
// the configured inline wait for it.
// It returns the completed job, or the job still under way for the caller to answer 202 with;
// a job that failed or was cancelled is returned with its problem as a *services.Error.
func (s *Service) RunLong(ctx context.Context, owner services.Owner, typ string, params any, callbackURL string) (Job, error) {
	var j Job
	var err error
	if id := services.ResumedJob(ctx); id != "" {
		// A retry of the request that started this job: answer it, not a second one.
		j, err = s.Get(ctx, owner, id)
	} else {
		j, err = s.Create(ctx, owner, typ, params, callbackURL)
	}
	if err != nil {
		return Job{}, err
	}
	wait := s.cfg.InlineWait
	if d := services.JobWait(ctx); d > 0 {
		wait = d
	}
	done, err := s.Wait(ctx, owner, j.ID, wait)
	if err != nil {
		if ctx.Err() != nil {
			// The caller went away; the job carries on and can be read later.
			return j, nil
		}
		return Job{}, err
	}
	switch done.Status {
	case Failed:
		p := done.Problem
		if p == nil {
			p = &Problem{Code: services.CodeInternal, Detail: internalDetail}
		}
		return done, &services.Error{Code: p.Code, Detail: p.Detail + fmt.Sprintf(" (job %s)", done.ID)}
	case Cancelled:
		return done, services.Errorf(services.CodeConflict, "Job %s was cancelled before it finished.", done.ID)
	}
	return done, nil
}

func notFound(id string) *services.Error {
	return &services.Error{Code: services.CodeNotFound, Err: ErrNotFound, Detail: fmt.Sprintf(
		"There is no job %q among yours. Use the id a long action answered, or call listJobs to find it.", id)}
}

func alreadyFinished(j Job) *services.Error {
	return &services.Error{Code: services.CodeConflict, Err: ErrFinished, Detail: fmt.Sprintf(
		"Job %s already %s, so it cannot be cancelled. Call getJobStatus for its outcome.", j.ID, j.Status)}
}
