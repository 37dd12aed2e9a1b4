package reqvalidate_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/middleware/problem"
	"github.com/aidawg/jarvis/middleware/reqvalidate"
	"github.com/aidawg/jarvis/openapi"
	"github.com/aidawg/jarvis/services"
)

func newValidator(t *testing.T) *reqvalidate.Validator {
	t.Helper()
	spec, err := openapi.Load()
	require.NoError(t, err)
	v, err := reqvalidate.New(spec)
	require.NoError(t, err)
	return v
}

type pathParams map[string]string

func (p pathParams) Param(name string) string { return p[name] }

// check sends a request to the operation at method and contract path.
func check(t *testing.T, v *reqvalidate.Validator, method, path, target, body string, params pathParams) (*http.Request, error) {
	t.Helper()
	op, ok := v.Operation(method, openapi.EchoPath(path))
	require.True(t, ok, "%s %s", method, path)
	req := httptest.NewRequest(method, openapi.BasePath+target, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, op.Check(req, params)
}

func validated(t *testing.T, req *http.Request) any {
	t.Helper()
	vb, ok := req.Body.(interface{ ValidatedValue() any })
	require.True(t, ok, "the body carries no validated value")
	return vb.ValidatedValue()
}

func fieldsOf(t *testing.T, err error) map[string]string {
	t.Helper()
	se, ok := services.AsError(err)
	require.True(t, ok, "%v", err)
	out := map[string]string{}
	for _, f := range se.Fields {
		out[f.Field] = f.Message
	}
	return out
}

func TestDefaultsAreFilledIn(t *testing.T) {
	t.Parallel()
	v := newValidator(t)

	// kin-openapi fills no defaults in for a schema without references; the handlers get them all the same.
	req, err := check(t, v, http.MethodPost, "/actions/testing/validate", "/actions/testing/validate", `{"validationType":"config"}`, nil)
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"validationType": "config", "severity": "all"}, validated(t, req))
	raw, err := io.ReadAll(req.Body)
	require.NoError(t, err)
	assert.JSONEq(t, `{"validationType":"config"}`, string(raw), "the body reads as sent")

	// A null property with a default takes the default where kin-openapi's 3.0 visitor checks the schema ...
	req, err = check(t, v, http.MethodPost, "/actions/marketing/campaigns", "/actions/marketing/campaigns", `{"action":"list","limit":null}`, nil)
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"action": "list", "limit": float64(20)}, validated(t, req))

	// ... and is refused where its JSON Schema 2020-12 validator does.
	_, err = check(t, v, http.MethodPost, "/actions/music/generate", "/actions/music/generate", `{"prompt":"x","duration":null}`, nil)
	assert.Contains(t, fieldsOf(t, err), "/duration")
}

func TestQueryDefaultsAreWrittenIntoTheRequest(t *testing.T) {
	t.Parallel()
	v := newValidator(t)
	req, err := check(t, v, http.MethodGet, "/jobs", "/jobs?status=running", "", nil)
	require.NoError(t, err)
	assert.Equal(t, "limit=20&status=running", req.URL.RawQuery)

	req, err = check(t, v, http.MethodGet, "/jobs", "/jobs?limit=5", "", nil)
	require.NoError(t, err)
	assert.Equal(t, "limit=5", req.URL.RawQuery)
}

func TestEveryFailingFieldIsNamed(t *testing.T) {
	t.Parallel()
	v := newValidator(t)
	_, err := check(t, v, http.MethodPost, "/actions/music/generate", "/actions/music/generate", `{"duration":1,"tempo":1,"x":1}`, nil)
	fields := fieldsOf(t, err)
	assert.Equal(t, []string{"/duration", "/prompt", "/tempo", "/x"}, sortedKeys(fields))
	assert.Equal(t, "is required", fields["/prompt"])
	assert.Equal(t, "is not a field of this request", fields["/x"])
	se, _ := services.AsError(err)
	assert.Equal(t, services.CodeValidation, se.Code)
	assert.Contains(t, se.Detail, "/duration")

	_, err = check(t, v, http.MethodGet, "/jobs", "/jobs?limit=ten&status=lost&cursor=", "", nil)
	fields = fieldsOf(t, err)
	assert.Equal(t, []string{"query:cursor", "query:limit", "query:status"}, sortedKeys(fields))
	assert.Equal(t, "is not a valid integer", fields["query:limit"])

	op, ok := v.Operation(http.MethodPost, openapi.EchoPath("/actions/music/generate"))
	require.True(t, ok)
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"prompt":"x"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", strings.Repeat("k", 256))
	assert.Contains(t, fieldsOf(t, op.Check(req, nil)), "header:Idempotency-Key")

	_, err = check(t, v, http.MethodGet, "/jobs/{jobId}", "/jobs/x", "", pathParams{"jobId": strings.Repeat("j", 101)})
	assert.Contains(t, fieldsOf(t, err), "path:jobId")
}

func TestBodiesThatAreNotJSONObjects(t *testing.T) {
	t.Parallel()
	v := newValidator(t)
	_, err := check(t, v, http.MethodPost, "/actions/music/generate", "/actions/music/generate", `{"prompt": `, nil)
	se, ok := services.AsError(err)
	require.True(t, ok)
	assert.Equal(t, problem.CodeMalformedJSON, se.Code)

	_, err = check(t, v, http.MethodPost, "/actions/music/generate", "/actions/music/generate", ``, nil)
	assert.Equal(t, map[string]string{"": "is required but missing"}, fieldsOf(t, err))

	_, err = check(t, v, http.MethodPost, "/actions/music/generate", "/actions/music/generate", `["prompt"]`, nil)
	assert.Contains(t, fieldsOf(t, err), "")
}

func TestABodyThatCannotBeReadKeepsItsError(t *testing.T) {
	t.Parallel()
	v := newValidator(t)
	op, ok := v.Operation(http.MethodPost, openapi.EchoPath("/actions/testing/validate"))
	require.True(t, ok)
	tooLarge := errors.New("too large")
	req := httptest.NewRequest(http.MethodPost, "/", io.MultiReader(strings.NewReader(`{"valid`), failingReader{tooLarge}))
	req.Header.Set("Content-Type", "application/json")
	err := op.Check(req, nil)
	assert.ErrorIs(t, err, tooLarge)
}

type failingReader struct{ err error }

func (r failingReader) Read([]byte) (int, error) { return 0, r.err }

func TestRoutesOfTheContract(t *testing.T) {
	t.Parallel()
	v := newValidator(t)
	assert.True(t, v.HasPath(openapi.BasePath+"/jobs/job_1/cancel"))
	assert.True(t, v.HasPath(openapi.BasePath+"/"))
	assert.False(t, v.HasPath(openapi.BasePath+"/jobs//cancel"))
	assert.False(t, v.HasPath(openapi.BasePath+"/jobs/a/b"))
	_, ok := v.Operation(http.MethodGet, openapi.EchoPath("/actions/music/generate"))
	assert.False(t, ok)
}

// What the validator cannot check as kin-openapi does stops the server at start.
func TestNewRefusesWhatItCannotCheck(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"cookie parameter": `
      parameters:
        - { name: session, in: cookie, schema: { type: string } }`,
		"array parameter": `
      parameters:
        - { name: ids, in: query, schema: { type: array, items: { type: string } } }`,
		"styled parameter": `
      parameters:
        - { name: ids, in: query, style: form, explode: false, schema: { type: string } }`,
		"content parameter": `
      parameters:
        - { name: q, in: query, content: { application/json: { schema: { type: object } } } }`,
		"form body": `
      requestBody:
        content:
          application/x-www-form-urlencoded: { schema: { type: object } }`,
	}
	for name, operation := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			doc, err := openapi3.NewLoader().LoadFromData([]byte(`openapi: 3.1.0
info: { title: t, version: "1" }
paths:
  /x:
    post:
      operationId: x` + operation + `
      responses:
        "200": { description: ok }
`))
			require.NoError(t, err)
			require.NoError(t, doc.Validate(t.Context()))
			op := doc.Paths.Value("/x").Post
			spec := &openapi.Spec{Doc: doc, Operations: []*openapi.Operation{{
				ID: "x", Method: http.MethodPost, Path: "/x", EchoPath: openapi.EchoPath("/x"), Op: op}}}
			_, err = reqvalidate.New(spec)
			assert.Error(t, err)
		})
	}
}
