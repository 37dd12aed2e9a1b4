package workflows

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/jobs"
	"github.com/aidawg/jarvis/services/keys"
)

// How a run was started.
const (
	TriggerExecute  = "execute"
	TriggerSchedule = "schedule"
)

// Statuses of a run and of its steps.
const (
	RunSucceeded = "succeeded"
	RunFailed    = "failed"

	StepOK      = "ok"
	StepFailed  = "failed"
	StepSkipped = "skipped"
)

// RunParams are a run job's params.
type RunParams struct {
	WorkflowID string `json:"workflowId"`
	Trigger    string `json:"trigger"`
}

// Run is a finished run, the run job's result.
type Run struct {
	WorkflowID string     `json:"workflowId"`
	Trigger    string     `json:"trigger"`
	Status     string     `json:"status"`
	Steps      []StepRun  `json:"steps"`
	StartedAt  time.Time  `json:"startedAt"`
	FinishedAt *time.Time `json:"finishedAt,omitempty"`
}

// StepRun is what one step of a run did.
type StepRun struct {
	ID          string         `json:"id"`
	OperationID string         `json:"operationId"`
	Status      string         `json:"status"`
	HTTPStatus  int            `json:"httpStatus,omitempty"`
	DurationMs  int64          `json:"durationMs"`
	Summary     string         `json:"summary,omitempty"`
	Result      map[string]any `json:"result,omitempty"`
	Problem     *Problem       `json:"problem,omitempty"`
}

// Problem is why a step failed, as the operation answered it or as the run found it.
type Problem struct {
	Code   services.Code         `json:"code"`
	Detail string                `json:"detail"`
	Fields []services.FieldError `json:"fields,omitempty"`
}

// maxResultBytes bounds the answer a run keeps of each step.
const maxResultBytes = 64 << 10

// KeyStore finds API keys, to check at run time that the key a workflow acts as still may.
type KeyStore interface {
	Get(ctx context.Context, id string) (keys.Key, error)
}

// Runner runs workflow jobs.
type Runner struct {
	store    *Store
	pipeline Pipeline
	keys     KeyStore
	now      func() time.Time
}

// NewRunner runs the workflows of store through pipeline, as their owners; keys checks the
// API key a workflow acts as at each run.
func NewRunner(store *Store, pipeline Pipeline, keys KeyStore) *Runner {
	return &Runner{store: store, pipeline: pipeline, keys: keys, now: time.Now}
}

// JobRunner is the runner of workflow-run jobs.
func (r *Runner) JobRunner() jobs.Runner {
	return func(ctx context.Context, j jobs.Job, p *jobs.Progress) (jobs.Outcome, error) {
		var params RunParams
		if err := json.Unmarshal(j.Params, &params); err != nil {
			return jobs.Outcome{}, fmt.Errorf("job %s: stored params: %w", j.ID, err)
		}
		w, err := r.store.Get(ctx, j.Owner, params.WorkflowID)
		if errors.Is(err, ErrNotFound) {
			return jobs.Outcome{}, services.Errorf(services.CodeNotFound, "Workflow %s was deleted before its run began.", params.WorkflowID)
		}
		if err != nil {
			return jobs.Outcome{}, err
		}
		principal, err := r.principal(ctx, w)
		if err != nil {
			return jobs.Outcome{}, err
		}
		run, err := r.run(services.WithPrincipal(ctx, principal), j.ID, w, params.Trigger, p)
		if err != nil {
			return jobs.Outcome{}, err
		}
		return jobs.Outcome{Result: run}, nil
	}
}

// principal is the caller a run acts as: the workflow's API key as it now stands, which must
// still be valid, or the credentials' method and scopes recorded when it was last saved.
func (r *Runner) principal(ctx context.Context, w Workflow) (services.Principal, error) {
	if w.Actor.KeyID == "" {
		return services.Principal{Tenant: w.Owner.Tenant, User: w.Owner.User, Method: w.Actor.Method, Scopes: w.Actor.Scopes}, nil
	}
	k, err := r.keys.Get(ctx, w.Actor.KeyID)
	if se, ok := services.AsError(err); ok && se.Code == services.CodeNotFound {
		err = nil
		k = keys.Key{}
	}
	if err != nil {
		return services.Principal{}, &services.Error{Code: services.CodeUnavailable, RetryAfter: 2, Err: err,
			Detail: "The API key the workflow acts as could not be checked. The run is retried."}
	}
	if k.ID == "" || k.Revoked() || k.Tenant != w.Owner.Tenant || k.User != w.Owner.User {
		return services.Principal{}, services.Errorf(services.CodeForbidden,
			"Workflow %s acts as API key %s, which no longer exists or was revoked, so none of its steps ran. Update the workflow with a valid key, which it then acts as.",
			w.ID, w.Actor.KeyID)
	}
	return k.Principal(), nil
}

func (r *Runner) run(ctx context.Context, runID string, w Workflow, trigger string, p *jobs.Progress) (Run, error) {
	run := Run{WorkflowID: w.ID, Trigger: trigger, Status: RunSucceeded, StartedAt: r.now().UTC(), Steps: make([]StepRun, len(w.Steps))}
	answers := map[string]any{}
	failed := map[string]bool{}
	stopped := false
	for i, st := range w.Steps {
		sr := &run.Steps[i]
		sr.ID, sr.OperationID = st.ID, st.OperationID
		if stopped {
			sr.Status, sr.Summary = StepSkipped, "Not run: an earlier step failed and stops the run."
			continue
		}
		// Each step begins with a progress report, which is where a cancellation is seen.
		msg := fmt.Sprintf("Step %d of %d: %s (%s).", i+1, len(w.Steps), st.ID, st.OperationID)
		if err := p.Report(ctx, i*100/len(w.Steps), msg, 0); err != nil {
			return Run{}, err
		}
		r.step(ctx, runID, st, sr, answers, failed)
		if sr.Status == StepFailed {
			failed[st.ID] = true
			run.Status = RunFailed
			stopped = st.OnError != OnErrorContinue
		}
	}
	end := r.now().UTC()
	run.FinishedAt = &end
	return run, nil
}

// step runs one step and records what it did in sr; its answer goes into answers.
func (r *Runner) step(ctx context.Context, runID string, st Step, sr *StepRun, answers map[string]any, failed map[string]bool) {
	started := r.now()
	defer func() { sr.DurationMs = r.now().Sub(started).Milliseconds() }()
	args, perr := resolve(st.Params, answers, failed)
	if perr != nil {
		sr.Status, sr.Problem, sr.Summary = StepFailed, perr, perr.Detail
		return
	}
	// A step's long action is waited for as long as the run may still take, so that its
	// answer is the job's result.
	wait := time.Hour
	if d, ok := ctx.Deadline(); ok {
		wait = max(time.Until(d)-time.Second, time.Second)
	}
	status, body, err := r.pipeline.Call(services.WithJobWait(ctx, wait), st.OperationID, args, runID+":"+st.ID)
	sr.HTTPStatus = status
	if err != nil {
		sr.Status = StepFailed
		sr.Problem = &Problem{Code: services.CodeValidation, Detail: err.Error()}
		sr.Summary = sr.Problem.Detail
		return
	}
	if status >= 400 {
		sr.Status, sr.Problem = StepFailed, problemOf(status, body)
		sr.Summary = fmt.Sprintf("%s answered %d: %s", st.OperationID, status, sr.Problem.Detail)
		return
	}
	answer := map[string]any{}
	if len(bytes.TrimSpace(body)) > 0 {
		if err := json.Unmarshal(body, &answer); err != nil {
			sr.Status = StepFailed
			sr.Problem = &Problem{Code: services.CodeInternal, Detail: st.OperationID + " answered a body that is not a JSON object."}
			sr.Summary = sr.Problem.Detail
			return
		}
	}
	if status == http.StatusAccepted {
		sr.Status = StepFailed
		sr.Problem = &Problem{Code: services.CodeTimeout, Detail: st.OperationID + " was still running as a job when the run ran out of time; its job carries on."}
		sr.Summary = sr.Problem.Detail
		return
	}
	delete(answer, "meta")
	sr.Status = StepOK
	answers[st.ID] = answer
	sr.Summary = summary(st.OperationID, status, answer)
	if b, err := json.Marshal(answer); err == nil && len(b) <= maxResultBytes {
		sr.Result = answer
	}
}

// problemOf reads the problem an operation answered.
func problemOf(status int, body []byte) *Problem {
	var p struct {
		Code   string `json:"code"`
		Detail string `json:"detail"`
		Errors []struct {
			Field   string `json:"field"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	if json.Unmarshal(body, &p) != nil || p.Code == "" {
		return &Problem{Code: services.CodeInternal, Detail: fmt.Sprintf("The operation answered %d without a problem.", status)}
	}
	out := &Problem{Code: services.Code(p.Code), Detail: p.Detail}
	for _, e := range p.Errors {
		out.Fields = append(out.Fields, services.FieldError{Field: e.Field, Message: e.Message})
	}
	return out
}

// summary says in one line what a step answered: its fields, and a few of their figures.
func summary(op string, status int, answer map[string]any) string {
	if len(answer) == 0 {
		return fmt.Sprintf("%s answered %d.", op, status)
	}
	names := make([]string, 0, len(answer))
	for k := range answer {
		names = append(names, k)
	}
	slices.Sort(names)
	return fmt.Sprintf("%s answered %d with %s.", op, status, strings.Join(names, ", "))
}

// resolve puts the earlier answers in place of the references in params.
func resolve(params map[string]any, answers map[string]any, failed map[string]bool) (map[string]any, *Problem) {
	var perr *Problem
	var walk func(ptr string, v any) any
	walk = func(ptr string, v any) any {
		if perr != nil {
			return v
		}
		switch x := v.(type) {
		case string:
			return substitute(ptr, x, answers, failed, &perr)
		case map[string]any:
			out := make(map[string]any, len(x))
			for k, e := range x {
				out[k] = walk(ptr+"/"+escape(k), e)
			}
			return out
		case []any:
			out := make([]any, len(x))
			for i, e := range x {
				out[i] = walk(ptr+"/"+strconv.Itoa(i), e)
			}
			return out
		}
		return v
	}
	out := make(map[string]any, len(params))
	for k, v := range params {
		out[k] = walk("/"+escape(k), v)
	}
	return out, perr
}

func substitute(ptr, s string, answers map[string]any, failed map[string]bool, perr **Problem) any {
	matches := refPattern.FindAllStringSubmatchIndex(s, -1)
	if len(matches) == 0 {
		return s
	}
	lookup := func(m []int) (any, bool) {
		text, step := s[m[0]:m[1]], s[m[2]:m[3]]
		fail := func(detail string) {
			*perr = &Problem{Code: services.CodeUnprocessable, Detail: detail,
				Fields: []services.FieldError{{Field: "params" + ptr, Message: detail}}}
		}
		answer, ok := answers[step]
		if !ok {
			why := "did not run"
			if failed[step] {
				why = "failed"
			}
			fail(fmt.Sprintf("params%s refers to %s, but step %s %s, so this step did not run.", ptr, text, step, why))
			return nil, false
		}
		v := answer
		for _, field := range splitPath(s[m[4]:m[5]]) {
			next, ok := child(v, field)
			if !ok {
				fail(fmt.Sprintf("params%s refers to %s, but the answer of step %s has no %s there, so this step did not run.", ptr, text, step, field))
				return nil, false
			}
			v = next
		}
		return v, true
	}
	if len(matches) == 1 && matches[0][0] == 0 && matches[0][1] == len(s) {
		v, _ := lookup(matches[0])
		return v
	}
	var b strings.Builder
	last := 0
	for _, m := range matches {
		v, ok := lookup(m)
		if !ok {
			return s
		}
		b.WriteString(s[last:m[0]])
		if str, isStr := v.(string); isStr {
			b.WriteString(str)
		} else {
			enc, _ := json.Marshal(v)
			b.Write(enc)
		}
		last = m[1]
	}
	b.WriteString(s[last:])
	return b.String()
}

func splitPath(p string) []string {
	if p == "" {
		return nil
	}
	return strings.Split(strings.TrimPrefix(p, "."), ".")
}

// child is a field of an object, or an element of an array by its index.
func child(v any, field string) (any, bool) {
	switch x := v.(type) {
	case map[string]any:
		e, ok := x[field]
		return e, ok
	case []any:
		i, err := strconv.Atoi(field)
		if err != nil || i < 0 || i >= len(x) {
			return nil, false
		}
		return x[i], true
	}
	return nil, false
}
