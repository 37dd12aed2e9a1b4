// Package workflows keeps workflows of Jarvis's own operations and runs them. A step is one
// operation of the contract with the arguments its MCP tool takes; a run sends each step through
// the same in-process HTTP pipeline as an MCP tool call (authorisation, rate limits, quotas,
// memory, validation, the handler), as the workflow's owner, and may hand a step's answer to
// later steps by reference. Runs are durable jobs; a schedule starts them from the job queue's
// periodic job.
package workflows

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/aidawg/jarvis/services"
)

// MaxSteps is the most steps a workflow may have, as the contract says.
const MaxSteps = 20

// What a step does when it fails.
const (
	OnErrorStop     = "stop"
	OnErrorContinue = "continue"
)

// Step is one operation of a workflow.
type Step struct {
	ID          string         `json:"id"`
	OperationID string         `json:"operationId"`
	Params      map[string]any `json:"params,omitempty"`
	OnError     string         `json:"onError"`
}

// Spec is what a caller defines.
type Spec struct {
	Name        string
	Description string
	Steps       []Step
	Schedule    string // five-field cron in UTC, "" for none
}

// Actor is who a workflow's runs act as: the API key that made or last changed it, checked
// again at each run, or for other credentials their method and scopes as they were then.
type Actor struct {
	KeyID  string
	Method string
	Scopes []string
}

// Workflow is a stored workflow.
type Workflow struct {
	ID    string
	Owner services.Owner
	Actor Actor
	Spec
	NextRunAt *time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Pipeline is the contract's operations as a step reaches them.
type Pipeline interface {
	// Offered reports whether callers are offered the operation (as an MCP tool).
	Offered(operationID string) bool
	// Check validates a step's arguments against the operation's request rules.
	Check(operationID string, args map[string]any) []services.FieldError
	// Call carries out the operation with args through the HTTP pipeline as the principal on
	// ctx, and returns the status and body it answered.
	Call(ctx context.Context, operationID string, args map[string]any, idempotencyKey string) (int, []byte, error)
}

// notStepOperations are operations callers are offered but a step may not run.
var notStepOperations = map[string]string{
	"manageWorkflows": "a workflow cannot manage or run workflows",
}

// refPattern is a reference to an earlier step's answer: ${steps.<id>.<field>.<field>...}.
var refPattern = regexp.MustCompile(`\$\{steps\.([A-Za-z][A-Za-z0-9_-]{0,39})((?:\.[A-Za-z0-9_-]+)*)\}`)

// refStart finds anything that means to be a reference, to report the malformed ones.
var refStart = regexp.MustCompile(`\$\{steps\.`)

var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow)

// parseSchedule reads a five-field cron expression, evaluated in UTC.
func parseSchedule(expr string) (cron.Schedule, error) {
	if strings.HasPrefix(strings.TrimSpace(expr), "TZ=") || strings.HasPrefix(strings.TrimSpace(expr), "CRON_TZ=") {
		return nil, errors.New("a schedule is always in UTC and takes no time zone")
	}
	return cronParser.Parse(expr)
}

// ref is one reference found in a step's params.
type ref struct {
	top  string   // the top-level argument it sits in
	ptr  string   // JSON pointer of the value within the params
	step string   // the step it names
	path []string // the fields within that step's answer
}

// references lists the references in params, and the malformed ones as messages.
func references(params map[string]any) ([]ref, []string) {
	var refs []ref
	var bad []string
	var walk func(top, ptr string, v any)
	walk = func(top, ptr string, v any) {
		switch x := v.(type) {
		case string:
			found := refPattern.FindAllStringSubmatchIndex(x, -1)
			for _, m := range found {
				path := strings.Split(strings.TrimPrefix(x[m[4]:m[5]], "."), ".")
				if m[4] == m[5] {
					path = nil
				}
				refs = append(refs, ref{top: top, ptr: ptr, step: x[m[2]:m[3]], path: path})
			}
			if n := len(refStart.FindAllStringIndex(x, -1)); n > len(found) {
				bad = append(bad, fmt.Sprintf("%s holds a reference that is not of the form ${steps.<id>.<field>...}", ptr))
			}
		case map[string]any:
			for k, e := range x {
				walk(top, ptr+"/"+escape(k), e)
			}
		case []any:
			for i, e := range x {
				walk(top, ptr+"/"+strconv.Itoa(i), e)
			}
		}
	}
	for k, v := range params {
		walk(k, "/"+escape(k), v)
	}
	return refs, bad
}

func escape(token string) string {
	return strings.ReplaceAll(strings.ReplaceAll(token, "~", "~0"), "/", "~1")
}

// check validates a spec and returns it with defaults filled in, or an unprocessable error
// whose fields name each step at fault.
func check(p Pipeline, spec Spec) (Spec, error) {
	var fields []services.FieldError
	var first string
	fail := func(field, message, detail string) {
		fields = append(fields, services.FieldError{Field: field, Message: message})
		if first == "" {
			first = detail
		}
	}
	if len(spec.Steps) > MaxSteps {
		fail("/workflow/steps", fmt.Sprintf("has %d steps; at most %d are allowed", len(spec.Steps), MaxSteps),
			fmt.Sprintf("The workflow has %d steps; at most %d are allowed. Split it into several workflows.", len(spec.Steps), MaxSteps))
	}
	if spec.Schedule != "" {
		if _, err := parseSchedule(spec.Schedule); err != nil {
			fail("/workflow/schedule", "is not a five-field cron expression: "+err.Error(),
				fmt.Sprintf("The schedule %q is not a cron expression of five fields (minute hour day-of-month month day-of-week, in UTC): %v. Give one such as 0 9 * * 1.", spec.Schedule, err))
		}
	}
	index := map[string]int{}
	out := spec
	out.Steps = make([]Step, len(spec.Steps))
	for i, st := range spec.Steps {
		at := fmt.Sprintf("/workflow/steps/%d", i)
		name := fmt.Sprintf("Step %d (%s)", i+1, st.ID)
		if st.OnError == "" {
			st.OnError = OnErrorStop
		}
		if st.Params == nil {
			st.Params = map[string]any{}
		}
		out.Steps[i] = st
		if j, dup := index[st.ID]; dup {
			fail(at+"/id", fmt.Sprintf("repeats the id of step %d", j+1),
				fmt.Sprintf("%s has the same id as step %d. Give each step its own id.", name, j+1))
		} else {
			index[st.ID] = i
		}
		if why, no := notStepOperations[st.OperationID]; no {
			fail(at+"/operationId", "cannot be a step: "+why, fmt.Sprintf("%s runs %s, which cannot be a step: %s.", name, st.OperationID, why))
			continue
		}
		if !p.Offered(st.OperationID) {
			fail(at+"/operationId", "is not an operation callers are offered",
				fmt.Sprintf("%s runs %q, which is not an operation of this API offered to callers. Name one of the MCP tools that tools/list shows, such as generateMusic or validateMusic.", name, st.OperationID))
			continue
		}
		refs, bad := references(st.Params)
		for _, b := range bad {
			fail(at+"/params", b, fmt.Sprintf("%s: params%s. Write a reference as ${steps.<id>.<field>...}.", name, b))
		}
		aside := map[string]bool{}
		for _, r := range refs {
			aside[r.ptr] = true
			aside[r.top] = aside[r.top] || r.ptr == "/"+escape(r.top)
			j, known := index[r.step]
			switch {
			case !known && slices.ContainsFunc(spec.Steps[i:], func(s Step) bool { return s.ID == r.step }):
				fail(at+"/params"+r.ptr, "refers to step "+r.step+", which comes later",
					fmt.Sprintf("%s refers to step %s at params%s, which runs later. A step can use only the answers of the steps before it.", name, r.step, r.ptr))
			case !known:
				fail(at+"/params"+r.ptr, "refers to step "+r.step+", which the workflow does not have",
					fmt.Sprintf("%s refers to step %s at params%s, which the workflow does not have. Use the id of an earlier step.", name, r.step, r.ptr))
			case j == i:
				fail(at+"/params"+r.ptr, "refers to its own step", fmt.Sprintf("%s refers to its own answer at params%s. Use an earlier step's.", name, r.ptr))
			}
		}
		for _, f := range p.Check(st.OperationID, st.Params) {
			if setAside(f.Field, aside) {
				continue
			}
			field := at + "/params" + f.Field
			if strings.Contains(f.Field, ":") || f.Field == "" {
				field = at + "/params"
			}
			where := "params"
			if f.Field != "" {
				where += " " + f.Field
			}
			fail(field, f.Message, fmt.Sprintf("%s: %s %s, as %s's request rules say. Correct the step's params.", name, where, f.Message, st.OperationID))
		}
	}
	if len(fields) == 0 {
		return out, nil
	}
	detail := first
	if len(fields) > 1 {
		detail += fmt.Sprintf(" %d more problems are listed in errors.", len(fields)-1)
	}
	return Spec{}, &services.Error{Code: services.CodeUnprocessable, Detail: detail, Fields: fields}
}

// setAside reports whether a validation failure is at a value that holds a reference, or
// within it, or is of a parameter that does: its real value is known only at run time.
func setAside(field string, aside map[string]bool) bool {
	if _, name, ok := strings.Cut(field, ":"); ok {
		return aside[name]
	}
	for ptr := range aside {
		if !strings.HasPrefix(ptr, "/") {
			continue
		}
		if field == ptr || strings.HasPrefix(field, ptr+"/") {
			return true
		}
	}
	return false
}
