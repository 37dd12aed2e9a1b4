package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aidawg/jarvis/gen/jarvis"
	"github.com/aidawg/jarvis/middleware/problem"
	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/jobs"
	"github.com/aidawg/jarvis/services/workflows"
)

// WorkflowService keeps the callers' workflows.
type WorkflowService interface {
	Create(ctx context.Context, p services.Principal, spec workflows.Spec) (workflows.Workflow, error)
	Update(ctx context.Context, p services.Principal, id string, spec workflows.Spec) (workflows.Workflow, error)
	Get(ctx context.Context, owner services.Owner, id string) (workflows.Workflow, error)
	Delete(ctx context.Context, owner services.Owner, id string) error
	List(ctx context.Context, owner services.Owner, cursor string, limit int) (workflows.Page, error)
}

// ManageWorkflows keeps the caller's workflows, and runs one as a job on execute, answered
// inline when the run ends within the wait.
func (s *Server) ManageWorkflows(ctx context.Context, req jarvis.ManageWorkflowsRequestObject) (jarvis.ManageWorkflowsResponseObject, error) {
	started := time.Now()
	p, ok := services.PrincipalFrom(ctx)
	if !ok {
		return problemOf(ctx, services.Errorf(services.CodeUnauthorized, "Authenticate with a bearer token or an API key.")), nil
	}
	b := req.Body
	action := jarvis.ManageWorkflowsResultAction(b.Action)
	out := jarvis.ManageWorkflowsResult{Action: action}
	answer := func() (jarvis.ManageWorkflowsResponseObject, error) {
		out.Meta = meta(ctx, jarvis.Jarvis, started)
		return jarvis.ManageWorkflows200JSONResponse(out), nil
	}
	id := ""
	if b.WorkflowId != nil {
		id = *b.WorkflowId
	}
	if b.Action != jarvis.ManageWorkflowsRequestActionCreate && b.Action != jarvis.ManageWorkflowsRequestActionList && id == "" {
		return problemOf(ctx, missing("/workflowId", fmt.Sprintf("%s needs workflowId: give the id create answered, or call list to find it.", b.Action))), nil
	}
	if (b.Action == jarvis.ManageWorkflowsRequestActionCreate || b.Action == jarvis.ManageWorkflowsRequestActionUpdate) && b.Workflow == nil {
		return problemOf(ctx, missing("/workflow", fmt.Sprintf("%s needs workflow: its name and steps, each with an id, an operationId and its params.", b.Action))), nil
	}
	switch b.Action {
	case jarvis.ManageWorkflowsRequestActionCreate, jarvis.ManageWorkflowsRequestActionUpdate:
		spec := specOf(*b.Workflow)
		var w workflows.Workflow
		var err error
		if b.Action == jarvis.ManageWorkflowsRequestActionCreate {
			w, err = s.deps.Workflows.Create(ctx, p, spec)
		} else {
			w, err = s.deps.Workflows.Update(ctx, p, id, spec)
		}
		if err != nil {
			return failed(ctx, err)
		}
		aw := apiWorkflow(w)
		out.Workflow = &aw
	case jarvis.ManageWorkflowsRequestActionGet:
		w, err := s.deps.Workflows.Get(ctx, p.Owner(), id)
		if err != nil {
			return failed(ctx, err)
		}
		aw := apiWorkflow(w)
		out.Workflow = &aw
	case jarvis.ManageWorkflowsRequestActionDelete:
		if err := s.deps.Workflows.Delete(ctx, p.Owner(), id); err != nil {
			return failed(ctx, err)
		}
		deleted := true
		out.Deleted = &deleted
	case jarvis.ManageWorkflowsRequestActionList:
		cursor, limit := "", 20
		if b.Cursor != nil {
			cursor = *b.Cursor
		}
		if b.Limit != nil {
			limit = *b.Limit
		}
		page, err := s.deps.Workflows.List(ctx, p.Owner(), cursor, limit)
		if err != nil {
			return failed(ctx, err)
		}
		out.Workflows = make([]jarvis.Workflow, len(page.Workflows))
		for i, w := range page.Workflows {
			out.Workflows[i] = apiWorkflow(w)
		}
		if page.NextCursor != "" {
			out.NextCursor = &page.NextCursor
		}
	case jarvis.ManageWorkflowsRequestActionExecute:
		// Refused at once for an id that is not the caller's, rather than as a failed job.
		if _, err := s.deps.Workflows.Get(ctx, p.Owner(), id); err != nil {
			return failed(ctx, err)
		}
		j, err := s.runLong(ctx, jobs.TypeWorkflowRun, workflows.RunParams{WorkflowID: id, Trigger: workflows.TriggerExecute}, b.CallbackUrl)
		if err != nil {
			return failed(ctx, err)
		}
		services.NoteJob(ctx, j.ID)
		if !j.Status.Finished() {
			acc, err := s.accepted(j, "The workflow run")
			if err != nil {
				return nil, err
			}
			return jarvis.ManageWorkflows202JSONResponse{JobAcceptedJSONResponse: jarvis.JobAcceptedJSONResponse(acc)}, nil
		}
		run, err := runOf(j)
		if err != nil {
			return nil, err
		}
		out.Run = &run
	}
	return answer()
}

func missing(field, detail string) *services.Error {
	return &services.Error{Code: services.CodeValidation, Detail: detail, Fields: []services.FieldError{{Field: field, Message: "is required for this action"}}}
}

func specOf(w jarvis.WorkflowSpec) workflows.Spec {
	spec := workflows.Spec{Name: w.Name, Steps: make([]workflows.Step, len(w.Steps))}
	if w.Description != nil {
		spec.Description = *w.Description
	}
	if w.Schedule != nil {
		spec.Schedule = *w.Schedule
	}
	for i, st := range w.Steps {
		spec.Steps[i] = workflows.Step{ID: st.Id, OperationID: st.OperationId, Params: st.Params}
		if st.OnError != nil {
			spec.Steps[i].OnError = string(*st.OnError)
		}
	}
	return spec
}

func apiWorkflow(w workflows.Workflow) jarvis.Workflow {
	out := jarvis.Workflow{Id: w.ID, Name: w.Name, Steps: make([]jarvis.WorkflowStep, len(w.Steps)), NextRunAt: w.NextRunAt,
		CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt}
	if w.Description != "" {
		d := w.Description
		out.Description = &d
	}
	if w.Schedule != "" {
		sc := w.Schedule
		out.Schedule = &sc
	}
	for i, st := range w.Steps {
		onError := jarvis.WorkflowStepOnError(st.OnError)
		out.Steps[i] = jarvis.WorkflowStep{Id: st.ID, OperationId: st.OperationID, Params: st.Params, OnError: &onError}
	}
	return out
}

// runOf is a finished run job's run, as the contract gives it.
func runOf(j jobs.Job) (jarvis.WorkflowRun, error) {
	var r workflows.Run
	if err := json.Unmarshal(j.Result, &r); err != nil {
		return jarvis.WorkflowRun{}, fmt.Errorf("job %s: stored run: %w", j.ID, err)
	}
	trigger := jarvis.WorkflowRunTrigger(r.Trigger)
	out := jarvis.WorkflowRun{WorkflowId: r.WorkflowID, Trigger: &trigger, Status: jarvis.WorkflowRunStatus(r.Status),
		StartedAt: r.StartedAt, FinishedAt: r.FinishedAt, Steps: make([]jarvis.WorkflowStepRun, len(r.Steps))}
	for i, st := range r.Steps {
		sr := jarvis.WorkflowStepRun{Id: st.ID, OperationId: st.OperationID, Status: jarvis.WorkflowStepRunStatus(st.Status), Result: st.Result}
		if st.Status != workflows.StepSkipped {
			ms := int(st.DurationMs)
			sr.DurationMs = &ms
		}
		if st.HTTPStatus != 0 {
			code := st.HTTPStatus
			sr.HttpStatus = &code
		}
		if st.Summary != "" {
			sum := st.Summary
			sr.Summary = &sum
		}
		if st.Problem != nil {
			p := problem.New("", "", &services.Error{Code: st.Problem.Code, Detail: st.Problem.Detail, Fields: st.Problem.Fields})
			sr.Problem = &p
		}
		out.Steps[i] = sr
	}
	return out, nil
}
