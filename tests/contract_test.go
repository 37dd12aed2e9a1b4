package tests

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	yaml "go.yaml.in/yaml/v3"

	"github.com/aidawg/jarvis/openapi"
)

// The operations the contract must have, with their methods and paths.
var wantOperations = map[string]string{
	"generateMusic":       "POST /actions/music/generate",
	"analyzeMusic":        "POST /actions/music/analyze",
	"validateMusic":       "POST /actions/music/validate",
	"getMarketingMetrics": "POST /actions/marketing/metrics",
	"manageCampaigns":     "POST /actions/marketing/campaigns",
	"analyzeGrowth":       "POST /actions/marketing/growth-analysis",
	"analyzeSentiment":    "POST /actions/engagement/sentiment",
	"detectChurn":         "POST /actions/engagement/churn",
	"createReEngagement":  "POST /actions/engagement/re-engage",
	"manageWorkflows":     "POST /actions/automation/workflows",
	"generateForecast":    "POST /actions/automation/forecasts",
	"manageScaling":       "POST /actions/automation/scaling",
	"runHealthChecks":     "POST /actions/testing/health",
	"runValidation":       "POST /actions/testing/validate",
	"getJobStatus":        "GET /jobs/{jobId}",
	"listJobs":            "GET /jobs",
	"getJobStats":         "GET /jobs-stats",
	"cancelJob":           "POST /jobs/{jobId}/cancel",
	"getIntegrationInfo":  "GET /",
	"getUserContext":      "GET /context",
	"deleteUserContext":   "DELETE /context",
	"updatePreferences":   "PUT /context/preferences",
	"getUsage":            "GET /admin/usage",
	"getDataCoverage":     "GET /admin/data",
	"importData":          "POST /admin/data/{kind}",
	"listGrants":          "GET /account/grants",
	"revokeGrant":         "DELETE /account/grants/{grantId}",
}

func loadSpec(t *testing.T) *openapi.Spec {
	t.Helper()
	spec, err := openapi.Load()
	require.NoError(t, err)
	return spec
}

func TestContractHasEveryOperation(t *testing.T) {
	spec := loadSpec(t)
	got := map[string]string{}
	for _, o := range spec.Operations {
		got[o.ID] = o.Method + " " + o.Path
	}
	assert.Equal(t, wantOperations, got)
	assert.Equal(t, "3.1.0", spec.Doc.OpenAPI)
}

// ChatGPT's Action importer rejects or mishandles documents that break these rules.
func TestContractMeetsGPTActionImportRules(t *testing.T) {
	spec := loadSpec(t)
	idPattern := regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	seen := map[string]bool{}
	for _, o := range spec.Operations {
		t.Run(o.ID, func(t *testing.T) {
			assert.Regexp(t, idPattern, o.ID)
			assert.False(t, seen[o.ID], "operationId is not unique")
			seen[o.ID] = true
			assert.NotEmpty(t, o.Summary)
			assert.LessOrEqual(t, len(o.Summary), 300, "summary")
			assert.LessOrEqual(t, len(o.Description), 300, "description")
			v, ok := o.Op.Extensions["x-openai-isConsequential"]
			assert.True(t, ok, "x-openai-isConsequential is missing")
			_, isBool := v.(bool)
			assert.True(t, isBool, "x-openai-isConsequential must be a boolean")
			for _, p := range o.Op.Parameters {
				assert.LessOrEqual(t, len(p.Value.Description), 700, "parameter %s description", p.Value.Name)
				if p.Value.In == "query" {
					types := p.Value.Schema.Value.Type.Slice()
					assert.NotContains(t, types, "array", "array query parameter %s: send arrays in a JSON body", p.Value.Name)
				}
			}
		})
	}
	require.NotEmpty(t, spec.Doc.Servers, "a servers entry is required")
	assert.NotEmpty(t, spec.Doc.Servers[0].URL)

	// Refs are resolved once loaded, so look for $ref in parameters in the document as written.
	var raw map[string]any
	require.NoError(t, yaml.Unmarshal(openapi.JarvisYAML, &raw))
	for path, item := range raw["paths"].(map[string]any) {
		for method, op := range item.(map[string]any) {
			params, _ := op.(map[string]any)["parameters"].([]any)
			for i, p := range params {
				assert.NotContains(t, fmt.Sprint(p), "$ref", "%s %s parameter %d uses $ref", method, path, i)
			}
		}
	}
}

// Operations that change things outside Jarvis or cost money are marked consequential, so
// that ChatGPT asks the user before calling them; reads and analyses are not.
func TestContractConsequentialOperations(t *testing.T) {
	spec := loadSpec(t)
	want := map[string]bool{
		"generateMusic": true, "manageCampaigns": true, "createReEngagement": true,
		"manageWorkflows": true, "manageScaling": true, "importData": true,
	}
	for _, o := range spec.Operations {
		assert.Equal(t, want[o.ID], o.Consequential, o.ID)
	}
}

// Every operation documents every error a caller can get, as a problem.
func TestContractDeclaresErrors(t *testing.T) {
	spec := loadSpec(t)
	common := []string{"400", "401", "403", "429", "500", "502", "503", "504"}
	for _, o := range spec.Operations {
		want := append([]string{}, common...)
		if strings.Contains(o.Path, "{jobId}") {
			want = append(want, "404")
		}
		if o.HasBody {
			want = append(want, "413", "415")
		}
		if o.Long {
			want = append(want, "202", "409", "422")
		}
		for _, status := range want {
			r := o.Op.Responses.Value(status)
			if !assert.NotNil(t, r, "%s lacks %s", o.ID, status) {
				continue
			}
			if status == "202" {
				continue
			}
			mt := r.Value.Content.Get("application/problem+json")
			if assert.NotNil(t, mt, "%s %s is not a problem", o.ID, status) {
				assert.Equal(t, "#/components/schemas/Problem", mt.Schema.Ref, "%s %s", o.ID, status)
			}
		}
	}
}

// Every request body and 2xx response has an example, and each example is valid against its
// own schema, so the documentation never shows a call that would be refused.
func TestContractExamplesAreValid(t *testing.T) {
	spec := loadSpec(t)
	opts := append(openapi.SchemaValidationOptions(), openapi3.EnableJSONSchema2020())
	check := func(t *testing.T, where string, mt *openapi3.MediaType) {
		t.Helper()
		if !assert.NotNil(t, mt, "%s has no JSON content", where) {
			return
		}
		if !assert.NotNil(t, mt.Example, "%s has no example", where) {
			return
		}
		// Round-trip through JSON so numbers are float64, as on the wire.
		b, err := json.Marshal(mt.Example)
		require.NoError(t, err)
		var v any
		require.NoError(t, json.Unmarshal(b, &v))
		assert.NoError(t, mt.Schema.Value.VisitJSON(v, opts...), "%s example", where)
		assert.Less(t, len(b), 100_000, "%s example", where)
	}
	for _, o := range spec.Operations {
		if content := o.Op.RequestBody; o.HasBody && content.Value.Content.Get("application/json") == nil {
			// A body of files: each media type shows a file, as text.
			for mt, m := range content.Value.Content {
				ex, ok := m.Example.(string)
				assert.True(t, ok && ex != "", "%s request %s has no example file", o.ID, mt)
			}
		} else if o.HasBody {
			check(t, o.ID+" request", o.Op.RequestBody.Value.Content.Get("application/json"))
		}
		codes := make([]string, 0)
		for code := range o.Op.Responses.Map() {
			codes = append(codes, code)
		}
		sort.Strings(codes)
		for _, code := range codes {
			if code[0] == '2' && code != "204" {
				check(t, o.ID+" "+code, o.Op.Responses.Value(code).Value.Content.Get("application/json"))
			}
		}
	}
}

// Lists are paginated with a bounded page, so that no answer nears ChatGPT's 100,000
// character limit.
func TestContractListsArePaginated(t *testing.T) {
	spec := loadSpec(t)
	o, ok := spec.ByID("listJobs")
	require.True(t, ok)
	limit := o.Op.Parameters.GetByInAndName("query", "limit")
	require.NotNil(t, limit)
	require.NotNil(t, limit.Schema.Value.Max)
	assert.LessOrEqual(t, *limit.Schema.Value.Max, 100.0)
	for _, name := range []string{"ManageCampaignsRequest", "ManageWorkflowsRequest"} {
		s := spec.Doc.Components.Schemas[name].Value.Properties["limit"]
		require.NotNil(t, s, name)
		assert.LessOrEqual(t, *s.Value.Max, 100.0, name)
	}
}
