package checks

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/services"
)

func fixed(s Status, detail string) func(context.Context) (Status, string) {
	return func(context.Context) (Status, string) { return s, detail }
}

type counter struct{ total, errors uint64 }

func (c counter) RequestTotals() (uint64, uint64) { return c.total, c.errors }

type fakeJobs struct{}

func (fakeJobs) JobCounts(context.Context) (JobCounts, error) {
	return JobCounts{Running: 2, Completed: 5}, nil
}

func TestHealthRatesTheWhole(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cases := []struct {
		name   string
		probes []Probe
		want   Status
	}{
		{"nothing registered", nil, Healthy},
		{"all healthy", []Probe{{Name: "a", Scope: ScopeServices, Critical: true, Check: fixed(Healthy, "ok")}}, Healthy},
		{"non-critical down", []Probe{
			{Name: "a", Scope: ScopeServices, Critical: true, Check: fixed(Healthy, "ok")},
			{Name: "b", Scope: ScopeDependencies, Check: fixed(Down, "gone")},
		}, Degraded},
		{"critical degraded", []Probe{{Name: "a", Scope: ScopeServices, Critical: true, Check: fixed(Degraded, "slow")}}, Degraded},
		{"critical down", []Probe{
			{Name: "a", Scope: ScopeInfrastructure, Critical: true, Check: fixed(Down, "gone")},
			{Name: "b", Scope: ScopeDependencies, Check: fixed(Degraded, "slow")},
		}, Down},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := New(time.Second)
			for _, p := range tc.probes {
				r.AddProbe(p)
			}
			rep := r.Health(ctx, ScopeAll, false)
			assert.Equal(t, tc.want, rep.Status)
			assert.Len(t, rep.Checks, len(tc.probes))
			assert.Nil(t, rep.Requests)
		})
	}
}

func TestHealthScopesTimeoutsAndMetrics(t *testing.T) {
	t.Parallel()
	r := New(100 * time.Millisecond)
	r.AddProbe(Probe{Name: "db", Scope: ScopeInfrastructure, Critical: true, Check: func(ctx context.Context) (Status, string) {
		<-ctx.Done()
		return Healthy, "answered too late"
	}})
	r.AddProbe(Probe{Name: "mods", Scope: ScopeServices, Check: func(context.Context) (Status, string) { panic("boom") }})
	r.AddProbe(Probe{Name: "remote", Scope: ScopeDependencies, Check: fixed(Healthy, "ok")})
	r.SetRequestCounter(counter{total: 10, errors: 1})

	rep := r.Health(context.Background(), ScopeAll, true)
	byName := map[string]CheckResult{}
	for _, c := range rep.Checks {
		byName[c.Name] = c
	}
	assert.Equal(t, Down, rep.Status)
	assert.Equal(t, Down, byName["db"].Status)
	assert.Contains(t, byName["db"].Detail, "no answer within")
	assert.Equal(t, Down, byName["mods"].Status)
	assert.Contains(t, byName["mods"].Detail, "boom")
	require.NotNil(t, rep.Requests)
	assert.Equal(t, RequestFigures{Total: 10, Errors: 1}, *rep.Requests)
	assert.Nil(t, rep.Jobs, "no job queue registered")

	rep = r.Health(context.Background(), ScopeDependencies, true)
	require.Len(t, rep.Checks, 1)
	assert.Equal(t, "remote", rep.Checks[0].Name)
	assert.Equal(t, Healthy, rep.Status)

	r.SetJobCounter(fakeJobs{})
	rep = r.Health(context.Background(), ScopeDependencies, true)
	require.NotNil(t, rep.Jobs)
	assert.Equal(t, 2, rep.Jobs.Running)
}

func TestValidate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := New(time.Second)
	r.AddValidator(Validator{Name: "settings", Category: Config, Run: func(context.Context) (Outcome, error) {
		return Outcome{Checks: 3, Issues: []Issue{
			{Check: "public-url", Severity: Warning, Message: "http"},
			{Check: "env", Severity: Critical, Message: "bad"},
		}}, nil
	}})
	r.AddValidator(Validator{Name: "rules", Category: BusinessRules, Run: func(context.Context) (Outcome, error) {
		return Outcome{}, services.Errorf(services.CodeUnavailable, "AI Dawg is unavailable.")
	}})

	rep, err := r.Validate(ctx, "config", false)
	require.NoError(t, err)
	assert.False(t, rep.Valid)
	assert.Equal(t, 3, rep.ChecksRun)
	assert.Len(t, rep.Issues, 2)
	assert.Equal(t, Config, rep.Issues[0].Category, "a validator's category fills in its issues")

	rep, err = r.Validate(ctx, "config", true)
	require.NoError(t, err)
	assert.False(t, rep.Valid)
	require.Len(t, rep.Issues, 1)
	assert.Equal(t, Critical, rep.Issues[0].Severity)

	_, err = r.Validate(ctx, "business-rules", false)
	se, ok := services.AsError(err)
	require.True(t, ok, "asked alone, a validator that cannot run answers its error")
	assert.Equal(t, services.CodeUnavailable, se.Code)

	rep, err = r.Validate(ctx, "all", false)
	require.NoError(t, err)
	var rules, data *Issue
	for i := range rep.Issues {
		switch rep.Issues[i].Check {
		case "rules":
			rules = &rep.Issues[i]
		case "data":
			data = &rep.Issues[i]
		}
	}
	require.NotNil(t, rules)
	assert.Equal(t, Warning, rules.Severity)
	assert.Contains(t, rules.Message, "AI Dawg is unavailable.")
	require.NotNil(t, data, "a category with nothing registered says so")
	assert.Equal(t, Info, data.Severity)
}
