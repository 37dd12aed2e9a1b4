package workflows

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/services"
)

func TestResolvePutsAnswersInPlace(t *testing.T) {
	answers := map[string]any{"check": map[string]any{
		"report": map[string]any{"score": 75.0, "checks": []any{map[string]any{"code": "true-peak"}, map[string]any{"code": "clipping"}}},
	}}
	params := map[string]any{
		"whole":  "${steps.check}",
		"score":  "${steps.check.report.score}",
		"second": "${steps.check.report.checks.1.code}",
		"text":   "score ${steps.check.report.score} of ${steps.check.report.checks.0.code}",
		"nested": []any{map[string]any{"code": "${steps.check.report.checks.0.code}"}},
		"plain":  "no reference",
	}
	out, perr := resolve(params, answers, nil)
	require.Nil(t, perr)
	assert.Equal(t, answers["check"], out["whole"])
	assert.Equal(t, 75.0, out["score"], "a whole-string reference keeps the JSON type")
	assert.Equal(t, "clipping", out["second"])
	assert.Equal(t, "score 75 of true-peak", out["text"])
	assert.Equal(t, []any{map[string]any{"code": "true-peak"}}, out["nested"])
	assert.Equal(t, "no reference", out["plain"])
	assert.Equal(t, "${steps.check.report.score}", params["score"], "the step's own params are left as written")

	for _, tc := range []struct{ name, value, want string }{
		{"missing field", "${steps.check.report.loudness}", "has no loudness"},
		{"index past the end", "${steps.check.report.checks.5}", "has no 5"},
		{"failed step", "${steps.gen.track.id}", "step gen failed"},
		{"step that did not run", "${steps.later.x}", "step later did not run"},
	} {
		_, perr := resolve(map[string]any{"audioUrl": tc.value}, answers, map[string]bool{"gen": true})
		require.NotNil(t, perr, tc.name)
		assert.Equal(t, services.CodeUnprocessable, perr.Code, tc.name)
		assert.Contains(t, perr.Detail, tc.want, tc.name)
		assert.Equal(t, "params/audioUrl", perr.Fields[0].Field, tc.name)
	}
}

func TestReferencesAreFoundAndMalformedOnesReported(t *testing.T) {
	refs, bad := references(map[string]any{
		"a": "${steps.gen.track.audio.url}",
		"b": []any{"x ${steps.check.report.score} y"},
		"c": "${steps.gen track}",
		"d": "${steps.gen}",
	})
	assert.Len(t, bad, 1)
	assert.Contains(t, bad[0], "/c")
	byPtr := map[string]ref{}
	for _, r := range refs {
		byPtr[r.ptr] = r
	}
	assert.Equal(t, ref{top: "a", ptr: "/a", step: "gen", path: []string{"track", "audio", "url"}}, byPtr["/a"])
	assert.Equal(t, ref{top: "b", ptr: "/b/0", step: "check", path: []string{"report", "score"}}, byPtr["/b/0"])
	assert.Equal(t, ref{top: "d", ptr: "/d", step: "gen"}, byPtr["/d"])
}

func TestSetAsideCoversTheReferencedValueOnly(t *testing.T) {
	aside := map[string]bool{"/audioUrl": true, "audioUrl": true, "/defaultParams/0/params/tempo": true, "limit": true}
	assert.True(t, setAside("/audioUrl", aside))
	assert.True(t, setAside("/defaultParams/0/params/tempo", aside))
	assert.True(t, setAside("query:limit", aside))
	assert.False(t, setAside("/audioUrlx", aside))
	assert.False(t, setAside("/defaultParams/0/params", aside))
	assert.False(t, setAside("/standards", aside))
	assert.False(t, setAside("", aside))
}
