package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aidawg/jarvis/gen/jarvis"
	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/jobs"
)

// JobService runs long actions and answers for their jobs.
type JobService interface {
	Has(typ string) bool
	Create(ctx context.Context, owner services.Owner, typ string, params any, callbackURL string) (jobs.Job, error)
	Wait(ctx context.Context, owner services.Owner, id string, d time.Duration) (jobs.Job, error)
	Get(ctx context.Context, owner services.Owner, id string) (jobs.Job, error)
	List(ctx context.Context, owner services.Owner, f jobs.Filter) (jobs.Page, error)
	Stats(ctx context.Context, owner services.Owner) (jobs.Stats, error)
	Cancel(ctx context.Context, owner services.Owner, id string) (jobs.Job, error)
}

// ArtifactLinks signs download links for job artifacts.
type ArtifactLinks interface {
	URL(id string, now time.Time) (string, time.Time)
}

// Job types, as the contract names them.
const (
	JobMusicGeneration = "music-generation"
	JobForecast        = "forecast"
	JobWorkflowRun     = "workflow-run"
)

func owner(ctx context.Context) (services.Owner, *services.Error) {
	p, ok := services.PrincipalFrom(ctx)
	if !ok {
		return services.Owner{}, services.Errorf(services.CodeUnauthorized, "Authenticate with a bearer token or an API key.")
	}
	return p.Owner(), nil
}

func jobNotFound(id string) *services.Error {
	return services.Errorf(services.CodeNotFound,
		"There is no job %q among yours. Use the id a long action answered, or call listJobs to find it.", id)
}

func (s *Server) GetJobStatus(ctx context.Context, req jarvis.GetJobStatusRequestObject) (jarvis.GetJobStatusResponseObject, error) {
	if s.jobs == nil {
		return notImplemented(ctx, "getJobStatus"), nil
	}
	o, perr := owner(ctx)
	if perr != nil {
		return problem(ctx, perr), nil
	}
	j, err := s.jobs.Get(ctx, o, req.JobId)
	if errors.Is(err, jobs.ErrNotFound) {
		return problem(ctx, jobNotFound(req.JobId)), nil
	}
	if err != nil {
		return nil, err
	}
	return jarvis.GetJobStatus200JSONResponse(s.apiJob(j)), nil
}

func (s *Server) ListJobs(ctx context.Context, req jarvis.ListJobsRequestObject) (jarvis.ListJobsResponseObject, error) {
	if s.jobs == nil {
		return notImplemented(ctx, "listJobs"), nil
	}
	o, perr := owner(ctx)
	if perr != nil {
		return problem(ctx, perr), nil
	}
	f := jobs.Filter{Limit: 20}
	p := req.Params
	if p.Status != nil {
		f.Status = jobs.Status(*p.Status)
	}
	if p.Type != nil {
		f.Type = string(*p.Type)
	}
	if p.Cursor != nil {
		f.Cursor = *p.Cursor
	}
	if p.Limit != nil {
		f.Limit = *p.Limit
	}
	page, err := s.jobs.List(ctx, o, f)
	if se, ok := services.AsError(err); ok {
		return problem(ctx, se), nil
	}
	if err != nil {
		return nil, err
	}
	out := jarvis.JobList{Jobs: make([]jarvis.Job, 0, len(page.Jobs))}
	for _, j := range page.Jobs {
		out.Jobs = append(out.Jobs, s.apiJob(j))
	}
	if page.NextCursor != "" {
		out.NextCursor = &page.NextCursor
	}
	return jarvis.ListJobs200JSONResponse(out), nil
}

func (s *Server) GetJobStats(ctx context.Context, _ jarvis.GetJobStatsRequestObject) (jarvis.GetJobStatsResponseObject, error) {
	if s.jobs == nil {
		return notImplemented(ctx, "getJobStats"), nil
	}
	o, perr := owner(ctx)
	if perr != nil {
		return problem(ctx, perr), nil
	}
	st, err := s.jobs.Stats(ctx, o)
	if err != nil {
		return nil, err
	}
	out := jarvis.JobStats{
		Total: st.Total,
		ByStatus: jarvis.JobCounts{
			Queued: st.ByStatus[jobs.Queued], Running: st.ByStatus[jobs.Running], Completed: st.ByStatus[jobs.Completed],
			Failed: st.ByStatus[jobs.Failed], Cancelled: st.ByStatus[jobs.Cancelled],
		},
		ByType: []jarvis.JobTypeCount{},
	}
	for _, typ := range []string{JobMusicGeneration, JobForecast, JobWorkflowRun} {
		if n := st.ByType[typ]; n > 0 {
			out.ByType = append(out.ByType, jarvis.JobTypeCount{Type: jarvis.JobType(typ), Count: n})
		}
	}
	if st.P50 != nil {
		p50, p95 := st.P50.Seconds(), st.P95.Seconds()
		out.RunTimeSeconds = jarvis.RunTimePercentiles{P50: &p50, P95: &p95}
	}
	return jarvis.GetJobStats200JSONResponse(out), nil
}

func (s *Server) CancelJob(ctx context.Context, req jarvis.CancelJobRequestObject) (jarvis.CancelJobResponseObject, error) {
	if s.jobs == nil {
		return notImplemented(ctx, "cancelJob"), nil
	}
	o, perr := owner(ctx)
	if perr != nil {
		return problem(ctx, perr), nil
	}
	j, err := s.jobs.Cancel(ctx, o, req.JobId)
	switch {
	case errors.Is(err, jobs.ErrNotFound):
		return problem(ctx, jobNotFound(req.JobId)), nil
	case errors.Is(err, jobs.ErrFinished):
		return problem(ctx, services.Errorf(services.CodeConflict,
			"Job %s already %s, so it cannot be cancelled. Call getJobStatus for its outcome.", j.ID, j.Status)), nil
	case err != nil:
		return nil, err
	}
	return jarvis.CancelJob200JSONResponse(s.apiJob(j)), nil
}

// startLong creates a job for a long action and waits up to the configured time for it. It
// returns the finished job, or the unfinished one to answer 202 with.
func (s *Server) startLong(ctx context.Context, typ string, params any, callbackURL *string) (jobs.Job, *services.Error, error) {
	o, perr := owner(ctx)
	if perr != nil {
		return jobs.Job{}, perr, nil
	}
	cb := ""
	if callbackURL != nil {
		cb = *callbackURL
	}
	j, err := s.jobs.Create(ctx, o, typ, params, cb)
	if se, ok := services.AsError(err); ok {
		return jobs.Job{}, se, nil
	}
	if err != nil {
		return jobs.Job{}, nil, err
	}
	done, err := s.jobs.Wait(ctx, o, j.ID, s.opts.SyncWait)
	if err != nil {
		if ctx.Err() != nil {
			// The caller went away; the job carries on and can be read later.
			return j, nil, nil
		}
		return jobs.Job{}, nil, err
	}
	switch done.Status {
	case jobs.Failed:
		p := done.Problem
		if p == nil {
			p = &jobs.Problem{Code: services.CodeInternal, Detail: InternalDetail}
		}
		return done, &services.Error{Code: p.Code, Detail: p.Detail + fmt.Sprintf(" (job %s)", done.ID)}, nil
	case jobs.Cancelled:
		return done, services.Errorf(services.CodeConflict, "Job %s was cancelled before it finished.", done.ID), nil
	}
	return done, nil, nil
}

// accepted is the 202 body for a job still running after the wait.
func (s *Server) accepted(j jobs.Job, what string) jarvis.JobAccepted {
	poll := 5
	if j.ETASeconds != nil {
		poll = min(max(*j.ETASeconds, 2), 30)
	}
	return jarvis.JobAccepted{
		Job:              s.apiJob(j),
		PollAfterSeconds: poll,
		Message: fmt.Sprintf("%s is still in progress. Tell the user, then call getJobStatus with jobId %s in about %d seconds to get the result.",
			what, j.ID, poll),
	}
}

// apiJob renders a job as the contract's Job, with fresh download links for its artifacts.
func (s *Server) apiJob(j jobs.Job) jarvis.Job {
	out := jarvis.Job{
		Id:         j.ID,
		Type:       jarvis.JobType(j.Type),
		Status:     jarvis.JobStatusValue(j.Status),
		Progress:   j.Progress,
		CreatedAt:  j.CreatedAt,
		StartedAt:  j.StartedAt,
		FinishedAt: j.FinishedAt,
		Artifacts:  s.artifactLinks(j.Artifacts),
	}
	if j.Message != "" {
		m := j.Message
		out.Message = &m
	}
	if j.ETASeconds != nil && !j.Status.Finished() {
		eta := *j.ETASeconds
		out.EstimatedSecondsRemaining = &eta
	}
	if j.Problem != nil {
		p := NewProblem("", "", &services.Error{Code: j.Problem.Code, Detail: j.Problem.Detail})
		out.Problem = &p
	}
	if j.Status == jobs.Completed && len(j.Result) > 0 {
		out.Result = s.jobResult(j, out.Artifacts)
	}
	return out
}

func (s *Server) artifactLinks(arts []jobs.Artifact) []jarvis.ArtifactLink {
	out := make([]jarvis.ArtifactLink, 0, len(arts))
	now := time.Now()
	for _, a := range arts {
		url, exp := s.links.URL(a.ID, now)
		size := int(a.SizeBytes)
		out = append(out, jarvis.ArtifactLink{Name: a.Name, ContentType: a.ContentType, SizeBytes: &size, Url: url, ExpiresAt: exp})
	}
	return out
}

// jobResult decodes a stored result into the field of JobResult for the job's type. The
// stored JSON is the module's result, whose fields the contract's schema names alike.
func (s *Server) jobResult(j jobs.Job, links []jarvis.ArtifactLink) *jarvis.JobResult {
	var r jarvis.JobResult
	switch j.Type {
	case JobMusicGeneration:
		var t jarvis.Track
		if json.Unmarshal(j.Result, &t) != nil {
			return nil
		}
		if t.Sections == nil {
			t.Sections = []jarvis.Section{}
		}
		for i := range links {
			if strings.HasPrefix(links[i].ContentType, "audio/") {
				t.Audio = &links[i]
				break
			}
		}
		r.Track = &t
	case JobForecast:
		var f jarvis.Forecast
		if json.Unmarshal(j.Result, &f) != nil {
			return nil
		}
		r.Forecast = &f
	case JobWorkflowRun:
		var run jarvis.WorkflowRun
		if json.Unmarshal(j.Result, &run) != nil {
			return nil
		}
		r.Run = &run
	default:
		return nil
	}
	return &r
}
