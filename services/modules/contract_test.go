package modules

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func loadContract(t testing.TB) *Contract {
	t.Helper()
	c, err := LoadContract()
	require.NoError(t, err)
	return c
}

// Every command of the contract has a typed Go descriptor whose params and result types are
// the generated types of the schemas the contract names, and no descriptor is left over.
func TestCommandsMatchTheContract(t *testing.T) {
	c := loadContract(t)
	assert.Equal(t, []string{"music", "marketing", "engagement", "automation", "testing"}, c.Modules())

	described := map[Ref]Described{}
	for _, d := range AllCommands() {
		_, dup := described[d.CommandRef()]
		assert.False(t, dup, "%s is described twice", d.CommandRef())
		described[d.CommandRef()] = d
	}
	for _, s := range c.Commands() {
		d, ok := described[s.Ref]
		if !assert.True(t, ok, "%s has no Go descriptor", s.Ref) {
			continue
		}
		params, result := d.Types()
		assert.Equal(t, s.Params, params.Name(), "%s params", s.Ref)
		assert.Equal(t, s.Result, result.Name(), "%s result", s.Ref)
		assert.Equal(t, "github.com/aidawg/jarvis/gen/aidawg", params.PkgPath(), "%s params", s.Ref)
		delete(described, s.Ref)
	}
	assert.Empty(t, described, "descriptors of commands the contract does not list")
}

// The existing backend's commands are all in the contract.
func TestContractKeepsTheBackendsCommands(t *testing.T) {
	c := loadContract(t)
	for _, ref := range []Ref{
		{"music", "generate-music"}, {"music", "analyze-vocal"}, {"music", "validate-quality"},
		{"music", "get-usage-stats"}, {"music", "get-model-health"},
		{"marketing", "get-metrics"}, {"marketing", "run-campaign"}, {"marketing", "analyze-growth"},
		{"marketing", "forecast-revenue"}, {"marketing", "get-revenue"}, {"marketing", "generate-report"},
		{"engagement", "analyze-sentiment"}, {"engagement", "check-churn-risk"}, {"engagement", "get-churn-users"},
		{"engagement", "send-engagement"},
		{"automation", "generate-forecast"}, {"automation", "execute-workflow"}, {"automation", "scale-resources"},
		{"automation", "aggregate-metrics"},
	} {
		_, ok := c.Spec(ref)
		assert.True(t, ok, "%s", ref)
	}
}

func TestContractSchemasCheckTheWire(t *testing.T) {
	c := loadContract(t)
	valid := func(t *testing.T, s interface{ Validate(any) error }, doc string) error {
		t.Helper()
		v, err := decode([]byte(doc))
		require.NoError(t, err)
		return s.Validate(v)
	}
	cases := []struct {
		name string
		doc  string
		ok   bool
	}{
		{"success with data", `{"success": true, "data": {}, "timestamp": "2026-11-28T18:00:00Z"}`, true},
		{"success without data", `{"success": true, "timestamp": "2026-11-28T18:00:00Z"}`, false},
		{"failure with code and error", `{"success": false, "error": "no", "code": "INVALID_PARAMS", "timestamp": "2026-11-28T18:00:00Z"}`, true},
		{"failure without code", `{"success": false, "error": "no", "timestamp": "2026-11-28T18:00:00Z"}`, false},
		{"unknown code", `{"success": false, "error": "no", "code": "TEAPOT", "timestamp": "2026-11-28T18:00:00Z"}`, false},
		{"bad timestamp", `{"success": true, "data": {}, "timestamp": "yesterday"}`, false},
		{"data not an object", `{"success": true, "data": [1], "timestamp": "2026-11-28T18:00:00Z"}`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := valid(t, c.response, tc.doc)
			if tc.ok {
				assert.NoError(t, err)
			} else {
				assert.Error(t, err)
			}
		})
	}

	gen, ok := c.Spec(CmdGenerateMusic.Ref)
	require.True(t, ok)
	assert.True(t, gen.SideEffects)
	assert.NoError(t, valid(t, gen.params, `{"prompt": "lo-fi", "key": null, "duration": 60}`))
	assert.Error(t, valid(t, gen.params, `{"duration": 60}`), "prompt is required")
	assert.Error(t, valid(t, gen.params, `{"prompt": "x", "bpm": 60}`), "unknown params are refused")
	assert.Error(t, valid(t, gen.params, `{"prompt": "x", "key": "H minor"}`), "pattern")
	analyze, _ := c.Spec(CmdAnalyzeTrack.Ref)
	assert.False(t, analyze.SideEffects)
	assert.Error(t, valid(t, analyze.params, `{"audioUrl": "not a uri"}`), "format uri is asserted")
}
