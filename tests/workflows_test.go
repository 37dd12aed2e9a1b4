package tests

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/gen/client"
	"github.com/aidawg/jarvis/services/keys"
)

// keyClient is a client of s that authenticates with an API key.
func keyClient(t *testing.T, s *server, key string) *client.ClientWithResponses {
	t.Helper()
	c, err := client.NewClientWithResponses(s.API, client.WithHTTPClient(s.HTTP),
		client.WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
			r.Header.Set("X-API-Key", key)
			return nil
		}))
	require.NoError(t, err)
	return c
}

func step(id, op string, params map[string]any) client.WorkflowStep {
	return client.WorkflowStep{Id: id, OperationId: op, Params: params}
}

func manage(t *testing.T, c *client.ClientWithResponses, req client.ManageWorkflowsRequest) *client.ManageWorkflowsResponse {
	t.Helper()
	resp, err := c.ManageWorkflowsWithResponse(context.Background(), nil, req)
	require.NoError(t, err)
	return resp
}

func create(t *testing.T, c *client.ClientWithResponses, name string, steps ...client.WorkflowStep) client.Workflow {
	t.Helper()
	resp := manage(t, c, client.ManageWorkflowsRequest{Action: client.ManageWorkflowsRequestActionCreate,
		Workflow: &client.WorkflowSpec{Name: name, Steps: steps}})
	require.NotNil(t, resp.JSON200, "status %d: %s", resp.StatusCode(), resp.Body)
	require.NotNil(t, resp.JSON200.Workflow)
	return *resp.JSON200.Workflow
}

func execute(t *testing.T, c *client.ClientWithResponses, id string) client.WorkflowRun {
	t.Helper()
	resp := manage(t, c, client.ManageWorkflowsRequest{Action: client.ManageWorkflowsRequestActionExecute, WorkflowId: &id})
	require.NotNil(t, resp.JSON200, "status %d: %s", resp.StatusCode(), resp.Body)
	require.NotNil(t, resp.JSON200.Run)
	return *resp.JSON200.Run
}

// Generate a track, validate the track it made, record what came of it: each step goes through
// the whole chain as the owner, takes an earlier answer by reference, and is remembered.
func TestWorkflowGeneratesValidatesAndRecords(t *testing.T) {
	t.Parallel()
	eachDatabase(t, nil, func(t *testing.T, s *server) {
		c := s.Client
		w := create(t, c, "render, check, remember",
			step("gen", "generateMusic", map[string]any{"prompt": "a calm piano sketch", "duration": 5, "key": "D minor", "tempo": 84, "seed": 11}),
			step("check", "validateMusic", map[string]any{"audioUrl": "${steps.gen.track.audio.url}", "standards": "streaming"}),
			step("record", "updatePreferences", map[string]any{
				"favouriteModules": []any{"music"},
				"defaultParams": []any{map[string]any{"operationId": "generateMusic",
					"params": map[string]any{"tempo": "${steps.gen.track.tempo}", "key": "${steps.gen.track.key}"}}},
			}),
		)
		assert.True(t, strings.HasPrefix(w.Id, "wf_"), w.Id)
		assert.Equal(t, client.Stop, *w.Steps[0].OnError)

		run := execute(t, c, w.Id)
		require.Len(t, run.Steps, 3)
		for _, st := range run.Steps {
			require.Equal(t, client.WorkflowStepRunStatusOk, st.Status, "%s: %+v", st.Id, st)
		}
		assert.Equal(t, client.WorkflowRunStatusSucceeded, run.Status)
		assert.Equal(t, client.WorkflowRunTriggerExecute, *run.Trigger)
		track := run.Steps[0].Result["track"].(map[string]any)
		assert.EqualValues(t, 84, track["tempo"])
		report := run.Steps[1].Result["report"].(map[string]any)
		assert.Equal(t, "streaming", report["standard"])
		assert.NotEmpty(t, report["checks"])

		// The preferences hold the generated track's figures, typed as the answer had them, and
		// each action step is in the owner's memory, as a call of its own.
		recorded := func(uc client.UserContext) bool {
			var ops []string
			for _, a := range uc.RecentActions {
				ops = append(ops, a.OperationId)
			}
			return slices.Contains(ops, "generateMusic") && slices.Contains(ops, "validateMusic")
		}
		uc := readContext(t, s, "", recorded)
		prefs := uc.Preferences
		require.NotNil(t, prefs)
		require.Len(t, prefs.DefaultParams, 1)
		assert.EqualValues(t, 84, prefs.DefaultParams[0].Params["tempo"])
		assert.Equal(t, track["key"], prefs.DefaultParams[0].Params["key"])
	})
}

// A key that may write but not read runs the steps it may, fails the one it may not with 403,
// and the run stops there.
func TestWorkflowStepsHaveTheOwnersScopes(t *testing.T) {
	t.Parallel()
	s := startServer(t, production(nil))
	_, key := createKey(t, s, keys.NewKey{Scopes: []string{"actions:write"}})
	c := keyClient(t, s, key)
	w := create(t, c, "write, then read",
		step("prefs", "updatePreferences", map[string]any{"outputFormat": "concise"}),
		step("mood", "analyzeSentiment", map[string]any{"texts": []any{"love the chorus"}}),
		step("after", "updatePreferences", map[string]any{"outputFormat": "detailed"}),
	)
	run := execute(t, c, w.Id)
	assert.Equal(t, client.WorkflowRunStatusFailed, run.Status)
	require.Len(t, run.Steps, 3)
	assert.Equal(t, client.WorkflowStepRunStatusOk, run.Steps[0].Status)
	mood := run.Steps[1]
	assert.Equal(t, client.WorkflowStepRunStatusFailed, mood.Status)
	require.NotNil(t, mood.HttpStatus)
	assert.Equal(t, http.StatusForbidden, *mood.HttpStatus)
	require.NotNil(t, mood.Problem)
	assert.Equal(t, "forbidden", mood.Problem.Code)
	assert.Contains(t, mood.Problem.Detail, "actions:read")
	assert.Equal(t, client.WorkflowStepRunStatusSkipped, run.Steps[2].Status)
}

// A step that refers to a failed step fails, saying which; onError continue lets the rest run.
func TestWorkflowReferenceToAFailedStep(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	w := create(t, s.Client, "refused link",
		client.WorkflowStep{Id: "check", OperationId: "validateMusic", OnError: ptr(client.Continue),
			Params: map[string]any{"audioUrl": "http://10.0.0.8/a.wav"}},
		client.WorkflowStep{Id: "again", OperationId: "analyzeMusic", OnError: ptr(client.Continue),
			Params: map[string]any{"audioUrl": "${steps.check.report.standard}"}},
		step("me", "getUserContext", nil),
	)
	run := execute(t, s.Client, w.Id)
	assert.Equal(t, client.WorkflowRunStatusFailed, run.Status)
	require.Len(t, run.Steps, 3)
	assert.Equal(t, client.WorkflowStepRunStatusFailed, run.Steps[0].Status)
	assert.Equal(t, http.StatusUnprocessableEntity, *run.Steps[0].HttpStatus)
	again := run.Steps[1]
	assert.Equal(t, client.WorkflowStepRunStatusFailed, again.Status)
	assert.Nil(t, again.HttpStatus, "the step was not sent")
	require.NotNil(t, again.Problem)
	assert.Equal(t, "unprocessable", again.Problem.Code)
	assert.Contains(t, again.Problem.Detail, "${steps.check.report.standard}")
	assert.Contains(t, again.Problem.Detail, "step check failed")
	assert.Equal(t, client.WorkflowStepRunStatusOk, run.Steps[2].Status)
}

// Each kind of bad workflow is refused at create, with a problem that names the step at fault.
func TestWorkflowRefusedAtCreate(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	ok := step("ok", "getUserContext", nil)
	cases := []struct {
		name     string
		spec     client.WorkflowSpec
		status   int
		field    string
		inDetail string
	}{
		{"unknown operation", client.WorkflowSpec{Steps: []client.WorkflowStep{ok, step("x", "makeCoffee", nil)}},
			422, "/workflow/steps/1/operationId", "Step 2 (x)"},
		{"operation not offered", client.WorkflowSpec{Steps: []client.WorkflowStep{step("u", "getUsage", nil)}},
			422, "/workflow/steps/0/operationId", "not an operation of this API offered"},
		{"a workflow in a workflow", client.WorkflowSpec{Steps: []client.WorkflowStep{step("w", "manageWorkflows", map[string]any{"action": "list"})}},
			422, "/workflow/steps/0/operationId", "cannot be a step"},
		{"params off the schema", client.WorkflowSpec{Steps: []client.WorkflowStep{step("gen", "generateMusic", map[string]any{"prompt": "x", "duration": 2})}},
			422, "/workflow/steps/0/params/duration", "Step 1 (gen)"},
		{"unknown param", client.WorkflowSpec{Steps: []client.WorkflowStep{step("gen", "generateMusic", map[string]any{"prompt": "x", "loudness": 3})}},
			422, "/workflow/steps/0/params/loudness", "generateMusic"},
		{"reference to a later step", client.WorkflowSpec{Steps: []client.WorkflowStep{
			step("check", "validateMusic", map[string]any{"audioUrl": "${steps.gen.track.audio.url}"}),
			step("gen", "generateMusic", map[string]any{"prompt": "x"})}},
			422, "/workflow/steps/0/params/audioUrl", "runs later"},
		{"reference to no step", client.WorkflowSpec{Steps: []client.WorkflowStep{ok,
			step("check", "validateMusic", map[string]any{"audioUrl": "${steps.render.track.audio.url}"})}},
			422, "/workflow/steps/1/params/audioUrl", "does not have"},
		{"malformed reference", client.WorkflowSpec{Steps: []client.WorkflowStep{ok,
			step("check", "validateMusic", map[string]any{"audioUrl": "${steps.ok track}"})}},
			422, "/workflow/steps/1/params", "not of the form"},
		{"two steps of one id", client.WorkflowSpec{Steps: []client.WorkflowStep{ok, ok}},
			422, "/workflow/steps/1/id", "same id as step 1"},
		{"schedule off cron", client.WorkflowSpec{Steps: []client.WorkflowStep{ok}, Schedule: ptr("61 * * * *")},
			422, "/workflow/schedule", "five fields"},
		{"schedule of six fields", client.WorkflowSpec{Steps: []client.WorkflowStep{ok}, Schedule: ptr("0 0 9 * * 1")},
			422, "/workflow/schedule", "five fields"},
		{"more steps than allowed", client.WorkflowSpec{Steps: manySteps(21)},
			400, "/workflow/steps", "want 20"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.spec.Name = tc.name
			resp := manage(t, s.Client, client.ManageWorkflowsRequest{Action: client.ManageWorkflowsRequestActionCreate, Workflow: &tc.spec})
			require.Equal(t, tc.status, resp.StatusCode(), "%s", resp.Body)
			p := resp.ApplicationproblemJSON422
			if tc.status == 400 {
				p = resp.ApplicationproblemJSON400
			}
			require.NotNil(t, p)
			require.NotEmpty(t, p.Errors)
			assert.Equal(t, tc.field, p.Errors[0].Field)
			assert.Contains(t, p.Detail+" "+p.Errors[0].Message, tc.inDetail)
		})
	}
	list := manage(t, s.Client, client.ManageWorkflowsRequest{Action: client.ManageWorkflowsRequestActionList})
	require.NotNil(t, list.JSON200)
	assert.Empty(t, list.JSON200.Workflows, "nothing refused was stored")
}

func manySteps(n int) []client.WorkflowStep {
	out := make([]client.WorkflowStep, n)
	for i := range out {
		out[i] = step(fmt.Sprintf("s%d", i), "getUserContext", nil)
	}
	return out
}

// Workflows belong to their tenant and user: another's id is not found, whatever the action.
func TestWorkflowOfAnotherTenantIsNotFound(t *testing.T) {
	t.Parallel()
	s := startServer(t, production(nil))
	_, mine := createKey(t, s, keys.NewKey{Tenant: "acme", Scopes: []string{"actions:read", "actions:write"}})
	_, theirs := createKey(t, s, keys.NewKey{Tenant: "other", Scopes: []string{"actions:read", "actions:write"}})
	me, them := keyClient(t, s, mine), keyClient(t, s, theirs)
	w := create(t, me, "mine", step("me", "getUserContext", nil))
	spec := client.WorkflowSpec{Name: "taken", Steps: []client.WorkflowStep{step("me", "getUserContext", nil)}}
	for _, action := range []client.ManageWorkflowsRequestAction{client.ManageWorkflowsRequestActionGet, client.ManageWorkflowsRequestActionExecute,
		client.ManageWorkflowsRequestActionUpdate, client.ManageWorkflowsRequestActionDelete} {
		resp := manage(t, them, client.ManageWorkflowsRequest{Action: action, WorkflowId: &w.Id, Workflow: &spec})
		require.NotNil(t, resp.ApplicationproblemJSON404, "%s: status %d: %s", action, resp.StatusCode(), resp.Body)
		assert.Contains(t, resp.ApplicationproblemJSON404.Detail, w.Id)
	}
	list := manage(t, them, client.ManageWorkflowsRequest{Action: client.ManageWorkflowsRequestActionList})
	require.NotNil(t, list.JSON200)
	assert.Empty(t, list.JSON200.Workflows)
	got := manage(t, me, client.ManageWorkflowsRequest{Action: client.ManageWorkflowsRequestActionGet, WorkflowId: &w.Id})
	require.NotNil(t, got.JSON200, "status %d: %s", got.StatusCode(), got.Body)
	assert.Equal(t, "mine", got.JSON200.Workflow.Name, "the other tenant's update changed nothing")
}

// Create, update, list in pages, delete; a schedule gives the next run.
func TestWorkflowLifecycle(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	c := s.Client
	var ids []string
	for i := range 3 {
		ids = append(ids, create(t, c, fmt.Sprintf("wf %d", i), step("me", "getUserContext", nil)).Id)
	}
	upd := manage(t, c, client.ManageWorkflowsRequest{Action: client.ManageWorkflowsRequestActionUpdate, WorkflowId: &ids[0],
		Workflow: &client.WorkflowSpec{Name: "weekly", Schedule: ptr("0 9 * * 1"), Steps: []client.WorkflowStep{step("me", "getUserContext", nil)}}})
	require.NotNil(t, upd.JSON200, "status %d: %s", upd.StatusCode(), upd.Body)
	wf := upd.JSON200.Workflow
	assert.Equal(t, "weekly", wf.Name)
	require.NotNil(t, wf.NextRunAt)
	assert.Equal(t, "Monday 09:00", wf.NextRunAt.UTC().Format("Monday 15:04"))

	page := manage(t, c, client.ManageWorkflowsRequest{Action: client.ManageWorkflowsRequestActionList, Limit: ptr(2)})
	require.NotNil(t, page.JSON200)
	require.Len(t, page.JSON200.Workflows, 2)
	assert.Equal(t, ids[2], page.JSON200.Workflows[0].Id, "newest first")
	require.NotNil(t, page.JSON200.NextCursor)
	rest := manage(t, c, client.ManageWorkflowsRequest{Action: client.ManageWorkflowsRequestActionList, Limit: ptr(2), Cursor: page.JSON200.NextCursor})
	require.NotNil(t, rest.JSON200)
	require.Len(t, rest.JSON200.Workflows, 1)
	assert.Equal(t, ids[0], rest.JSON200.Workflows[0].Id)
	assert.Nil(t, rest.JSON200.NextCursor)

	del := manage(t, c, client.ManageWorkflowsRequest{Action: client.ManageWorkflowsRequestActionDelete, WorkflowId: &ids[1]})
	require.NotNil(t, del.JSON200)
	assert.True(t, *del.JSON200.Deleted)
	gone := manage(t, c, client.ManageWorkflowsRequest{Action: client.ManageWorkflowsRequestActionGet, WorkflowId: &ids[1]})
	require.NotNil(t, gone.ApplicationproblemJSON404, "status %d", gone.StatusCode())

	missing := manage(t, c, client.ManageWorkflowsRequest{Action: client.ManageWorkflowsRequestActionExecute})
	require.NotNil(t, missing.ApplicationproblemJSON400, "status %d", missing.StatusCode())
	assert.Equal(t, "/workflowId", missing.ApplicationproblemJSON400.Errors[0].Field)
}

// A run longer than the wait answers 202 with its job, whose result is the run. With a single
// job worker the run still finishes: runs have a queue of their own, so the generation job the
// run waits for is not stuck behind it.
func TestWorkflowRunAnswersWithAJob(t *testing.T) {
	t.Parallel()
	s := startServer(t, env{"JARVIS_SYNC_WAIT": "100ms", "JARVIS_EMBEDDED_MUSIC_SPEED": "10", "JARVIS_JOB_WORKERS": "1"})
	w := create(t, s.Client, "slow render",
		step("gen", "generateMusic", map[string]any{"prompt": "a slow swell", "duration": 5}),
		step("check", "validateMusic", map[string]any{"audioUrl": "${steps.gen.track.audio.url}"}),
	)
	resp := manage(t, s.Client, client.ManageWorkflowsRequest{Action: client.ManageWorkflowsRequestActionExecute, WorkflowId: &w.Id})
	require.NotNil(t, resp.JSON202, "status %d: %s", resp.StatusCode(), resp.Body)
	job := resp.JSON202.Job
	assert.Equal(t, client.JobTypeWorkflowRun, job.Type)
	done := pollJob(t, s, job.Id, func(j client.Job) bool {
		return j.Status == client.JobStatusValueCompleted || j.Status == client.JobStatusValueFailed
	})
	require.Equal(t, client.JobStatusValueCompleted, done.Status, "%+v", done.Problem)
	require.NotNil(t, done.Result)
	require.NotNil(t, done.Result.Run)
	run := done.Result.Run
	assert.Equal(t, client.WorkflowRunStatusSucceeded, run.Status)
	require.Len(t, run.Steps, 2)
	assert.Equal(t, client.WorkflowStepRunStatusOk, run.Steps[1].Status, "%+v", run.Steps[1])
}
