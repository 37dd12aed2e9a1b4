package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aidawg/jarvis/gen/jarvis"
	"github.com/aidawg/jarvis/middleware/problem"
	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/automation"
	"github.com/aidawg/jarvis/services/jobs"
	"github.com/aidawg/jarvis/services/modules"
	"github.com/aidawg/jarvis/services/music"
)

// JobService runs long actions and answers for their jobs.
type JobService interface {
	Has(typ string) bool
	RunLong(ctx context.Context, owner services.Owner, typ string, params any, callbackURL string) (jobs.Job, error)
	Get(ctx context.Context, owner services.Owner, id string) (jobs.Job, error)
	List(ctx context.Context, owner services.Owner, f jobs.Filter) (jobs.Page, error)
	Stats(ctx context.Context, owner services.Owner) (jobs.Stats, error)
	Cancel(ctx context.Context, owner services.Owner, id string) (jobs.Job, error)
}

// ArtifactLinks signs download links for job artifacts.
type ArtifactLinks interface {
	URL(id string, now time.Time) (string, time.Time)
}

func owner(ctx context.Context) (services.Owner, *services.Error) {
	p, ok := services.PrincipalFrom(ctx)
	if !ok {
		return services.Owner{}, services.Errorf(services.CodeUnauthorized, "Authenticate with a bearer token or an API key.")
	}
	return p.Owner(), nil
}

func (s *Server) GetJobStatus(ctx context.Context, req jarvis.GetJobStatusRequestObject) (jarvis.GetJobStatusResponseObject, error) {
	o, perr := owner(ctx)
	if perr != nil {
		return problemOf(ctx, perr), nil
	}
	j, err := s.jobs.Get(ctx, o, req.JobId)
	if err != nil {
		return failed(ctx, err)
	}
	out, err := s.apiJob(j)
	if err != nil {
		return nil, err
	}
	return jarvis.GetJobStatus200JSONResponse(out), nil
}

func (s *Server) ListJobs(ctx context.Context, req jarvis.ListJobsRequestObject) (jarvis.ListJobsResponseObject, error) {
	o, perr := owner(ctx)
	if perr != nil {
		return problemOf(ctx, perr), nil
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
	if err != nil {
		return failed(ctx, err)
	}
	out := jarvis.JobList{Jobs: make([]jarvis.Job, 0, len(page.Jobs))}
	for _, j := range page.Jobs {
		aj, err := s.apiJob(j)
		if err != nil {
			return nil, err
		}
		out.Jobs = append(out.Jobs, aj)
	}
	if page.NextCursor != "" {
		out.NextCursor = &page.NextCursor
	}
	return jarvis.ListJobs200JSONResponse(out), nil
}

func (s *Server) GetJobStats(ctx context.Context, _ jarvis.GetJobStatsRequestObject) (jarvis.GetJobStatsResponseObject, error) {
	o, perr := owner(ctx)
	if perr != nil {
		return problemOf(ctx, perr), nil
	}
	st, err := s.jobs.Stats(ctx, o)
	if err != nil {
		return failed(ctx, err)
	}
	out := jarvis.JobStats{
		Total: st.Total,
		ByStatus: jarvis.JobCounts{
			Queued: st.ByStatus[jobs.Queued], Running: st.ByStatus[jobs.Running], Completed: st.ByStatus[jobs.Completed],
			Failed: st.ByStatus[jobs.Failed], Cancelled: st.ByStatus[jobs.Cancelled],
		},
		ByType: []jarvis.JobTypeCount{},
	}
	for _, typ := range jobs.Types {
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
	o, perr := owner(ctx)
	if perr != nil {
		return problemOf(ctx, perr), nil
	}
	j, err := s.jobs.Cancel(ctx, o, req.JobId)
	if err != nil {
		return failed(ctx, err)
	}
	out, err := s.apiJob(j)
	if err != nil {
		return nil, err
	}
	return jarvis.CancelJob200JSONResponse(out), nil
}

// runLong runs a long action as a job of typ for the caller and waits for it as the jobs
// service does; an unfinished job is answered 202 by the caller.
func (s *Server) runLong(ctx context.Context, typ string, params any, callbackURL *string) (jobs.Job, error) {
	o, perr := owner(ctx)
	if perr != nil {
		return jobs.Job{}, perr
	}
	cb := ""
	if callbackURL != nil {
		cb = *callbackURL
	}
	return s.jobs.RunLong(ctx, o, typ, params, cb)
}

// accepted is the 202 body for a job still running after the wait.
func (s *Server) accepted(j jobs.Job, what string) (jarvis.JobAccepted, error) {
	poll := 5
	if j.ETASeconds != nil {
		poll = min(max(*j.ETASeconds, 2), 30)
	}
	aj, err := s.apiJob(j)
	return jarvis.JobAccepted{
		Job:              aj,
		PollAfterSeconds: poll,
		Message: fmt.Sprintf("%s is still in progress. Tell the user, then call getJobStatus with jobId %s in about %d seconds to get the result.",
			what, j.ID, poll),
	}, err
}

// apiJob renders a job as the contract's Job, with fresh download links for its artifacts.
func (s *Server) apiJob(j jobs.Job) (jarvis.Job, error) {
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
		p := problem.New("", "", &services.Error{Code: j.Problem.Code, Detail: j.Problem.Detail})
		out.Problem = &p
	}
	if j.Status == jobs.Completed && len(j.Result) > 0 {
		r, _, err := s.jobResult(j, out.Artifacts)
		if err != nil {
			return out, err
		}
		out.Result = r
	}
	return out, nil
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

// jobResult maps a completed job's stored result onto the contract's JobResult for its type,
// through the service's own result type, so that a field renamed on either side fails to
// compile or fails TestJobResultCarriesEveryField rather than vanishing from answers. Types whose
// runner this server lacks have no result to map.
// It also says which backend produced the result.
func (s *Server) jobResult(j jobs.Job, links []jarvis.ArtifactLink) (*jarvis.JobResult, modules.ServedBy, error) {
	switch j.Type {
	case jobs.TypeMusicGeneration:
		var t music.Track
		if err := json.Unmarshal(j.Result, &t); err != nil {
			return nil, "", fmt.Errorf("job %s: stored track: %w", j.ID, err)
		}
		track := apiTrack(t)
		for i := range links {
			if strings.HasPrefix(links[i].ContentType, "audio/") {
				track.Audio = &links[i]
				break
			}
		}
		return &jarvis.JobResult{Track: &track}, modules.ServedBy(t.ServedBy), nil
	case jobs.TypeForecast:
		var r automation.ForecastRecord
		if err := json.Unmarshal(j.Result, &r); err != nil {
			return nil, "", fmt.Errorf("job %s: stored forecast: %w", j.ID, err)
		}
		f := apiForecast(r)
		return &jarvis.JobResult{Forecast: &f}, modules.ServedBy(r.ServedBy), nil
	case jobs.TypeWorkflowRun:
		run, err := runOf(j)
		if err != nil {
			return nil, "", err
		}
		return &jarvis.JobResult{Run: &run}, "", nil
	}
	return nil, "", nil
}

// apiTrack is the contract's Track for a generated track, without its audio link.
func apiTrack(t music.Track) jarvis.Track {
	out := jarvis.Track{
		Id: t.ID, Title: t.Title, Prompt: t.Prompt, DurationSeconds: t.DurationSeconds,
		Tempo: t.Tempo, Key: t.Key, Seed: int(t.Seed), Sections: make([]jarvis.Section, len(t.Sections)),
	}
	if t.LoudnessLufs != 0 || t.TruePeakDbtp != 0 {
		l, tp := t.LoudnessLufs, t.TruePeakDbtp
		out.LoudnessLufs, out.TruePeakDbtp = &l, &tp
	}
	if t.Genre != "" {
		g := t.Genre
		out.Genre = &g
	}
	if t.Mood != "" {
		m := t.Mood
		out.Mood = &m
	}
	for i, sec := range t.Sections {
		out.Sections[i] = jarvis.Section{Name: sec.Name, StartSeconds: sec.StartSeconds, EndSeconds: sec.EndSeconds}
	}
	return out
}
