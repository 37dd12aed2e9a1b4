package modules_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/gen/aidawg"
	"github.com/aidawg/jarvis/services/modules"
)

// The generic path answers as the backend does: the contract's codes for unknown modules and
// actions and for params off the contract.
func TestRuntimeExecute(t *testing.T) {
	t.Parallel()
	rt := newRuntime(t, &engagement{})
	ctx := context.Background()
	cases := []struct {
		name, module, action, params string
		code                         aidawg.ErrorCode
	}{
		{"unknown module", "mixing", "master", `{}`, aidawg.MODULENOTFOUND},
		{"unknown action", "engagement", "poll-listeners", `{}`, aidawg.ACTIONNOTFOUND},
		{"action in the contract, not carried out", "music", "generate-music", `{"prompt": "x"}`, aidawg.ACTIONNOTFOUND},
		{"params off the contract", "engagement", "analyze-sentiment", `{"texts": "one"}`, aidawg.INVALIDPARAMS},
		{"unknown param", "engagement", "analyze-sentiment", `{"mood": "sad"}`, aidawg.INVALIDPARAMS},
		{"params not an object", "engagement", "analyze-sentiment", `[1]`, aidawg.INVALIDPARAMS},
		{"module error", "engagement", "analyze-sentiment", `{"texts": ["fail"]}`, aidawg.EXECUTIONFAILED},
		{"module panic", "engagement", "analyze-sentiment", `{"texts": ["panic"]}`, aidawg.EXECUTIONFAILED},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, f := rt.Execute(ctx, tc.module, tc.action, json.RawMessage(tc.params))
			require.NotNil(t, f)
			assert.Equal(t, tc.code, f.Code, f.Message)
			assert.NotEmpty(t, f.Message)
		})
	}

	out, f := rt.Execute(ctx, "engagement", "analyze-sentiment", nil)
	require.Nil(t, f, "absent params are {}")
	assert.Equal(t, 0, out.(aidawg.AnalyzeSentimentResult).Sentiment.Overall.SampleSize)

	_, f = rt.Execute(ctx, "engagement", "analyze-sentiment", json.RawMessage(`{"texts": ["a", ""]}`))
	require.NotNil(t, f)
	require.Len(t, f.Fields, 1)
	assert.Equal(t, "/texts/1", f.Fields[0].Field)
}

type misregistering struct {
	name string
	reg  func(*modules.Registrar)
}

func (m misregistering) Name() string                  { return m.name }
func (m misregistering) Register(r *modules.Registrar) { m.reg(r) }

func TestRegistrationMistakesStopTheRuntime(t *testing.T) {
	t.Parallel()
	c, err := modules.LoadContract()
	require.NoError(t, err)
	noop := func(context.Context, aidawg.GenerateMusicParams) (aidawg.GenerateMusicResult, error) {
		return aidawg.GenerateMusicResult{}, nil
	}
	cases := map[string]modules.Module{
		"module not in the contract": misregistering{"mixing", func(*modules.Registrar) {}},
		"another module's command": misregistering{"marketing", func(r *modules.Registrar) {
			modules.Handle(r, modules.CmdGenerateMusic, noop)
		}},
		"a command twice": misregistering{"music", func(r *modules.Registrar) {
			modules.Handle(r, modules.CmdGenerateMusic, noop)
			modules.Handle(r, modules.CmdGenerateMusic, noop)
		}},
		"a command with other types": misregistering{"music", func(r *modules.Registrar) {
			modules.Handle(r, modules.Command[aidawg.AnalyzeTrackParams, aidawg.GenerateMusicResult]{Ref: modules.CmdGenerateMusic.Ref},
				func(context.Context, aidawg.AnalyzeTrackParams) (aidawg.GenerateMusicResult, error) {
					return aidawg.GenerateMusicResult{}, nil
				})
		}},
		"a command not in the contract": misregistering{"music", func(r *modules.Registrar) {
			modules.Handle(r, modules.Command[aidawg.GenerateMusicParams, aidawg.GenerateMusicResult]{Ref: modules.Ref{Module: "music", Action: "remix"}}, noop)
		}},
	}
	for name, m := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := modules.NewRuntime(c, zerolog.Nop(), m)
			assert.Error(t, err)
		})
	}
}

// The testing module reports the modules' health and validation from what they registered.
func TestTestingModule(t *testing.T) {
	t.Parallel()
	broken := misregistering{"marketing", func(r *modules.Registrar) {
		r.Probe("campaign-store", func(context.Context) error { return errors.New("store unreachable") })
		r.Rule("budgets-positive", func(context.Context) []modules.RuleIssue {
			return []modules.RuleIssue{{Severity: aidawg.SeverityCritical, Message: "Campaign cmp_1 has a negative budget."}}
		})
	}}
	rt := newRuntime(t, &engagement{}, broken)
	r := newRouter(t, rt, modules.RemoteOptions{}, false)
	ctx := context.Background()

	h, _, err := modules.Call(ctx, r, modules.CmdRunHealthChecks, aidawg.RunHealthChecksParams{})
	require.NoError(t, err)
	byName := map[string]aidawg.HealthCheck{}
	for _, c := range h.Health.Checks {
		byName[c.Name] = c
	}
	assert.Equal(t, aidawg.HealthStatusDegraded, h.Health.Status)
	assert.Equal(t, aidawg.HealthStatusHealthy, byName["module:engagement"].Status)
	assert.Contains(t, byName["module:engagement"].Detail, "2 of 4 commands")
	assert.Equal(t, aidawg.HealthStatusDown, byName["module:marketing"].Status)
	assert.Contains(t, byName["module:marketing"].Detail, "store unreachable")
	assert.NotContains(t, byName, "module:music", "a module with nothing registered is not checked")

	infra := aidawg.HealthScopeInfrastructure
	h, _, err = modules.Call(ctx, r, modules.CmdRunHealthChecks, aidawg.RunHealthChecksParams{Scope: &infra})
	require.NoError(t, err)
	assert.Empty(t, h.Health.Checks)

	v, _, err := modules.Call(ctx, r, modules.CmdRunValidation, aidawg.RunValidationParams{ValidationType: aidawg.ValidationTypeBusinessRules})
	require.NoError(t, err)
	assert.False(t, v.Validation.Valid, "a critical issue makes it invalid")
	assert.Equal(t, 2, v.Validation.ChecksRun)
	require.Len(t, v.Validation.Issues, 2)

	critical := aidawg.RunValidationParamsSeverityCritical
	v, _, err = modules.Call(ctx, r, modules.CmdRunValidation, aidawg.RunValidationParams{ValidationType: aidawg.ValidationTypeAll, Severity: &critical})
	require.NoError(t, err)
	assert.False(t, v.Validation.Valid)
	require.Len(t, v.Validation.Issues, 1)
	assert.Equal(t, "marketing/budgets-positive", v.Validation.Issues[0].Check)

	v, _, err = modules.Call(ctx, r, modules.CmdRunValidation, aidawg.RunValidationParams{ValidationType: aidawg.ValidationTypeApi})
	require.NoError(t, err)
	assert.True(t, v.Validation.Valid)
	assert.Equal(t, 25, v.Validation.ChecksRun, "one check per command of the contract")
	var checks []string
	for _, i := range v.Validation.Issues {
		checks = append(checks, i.Check)
		assert.Equal(t, aidawg.SeverityInfo, i.Severity)
	}
	assert.ElementsMatch(t, []string{"commands:music", "commands:marketing", "commands:engagement", "commands:automation"}, checks)
}
