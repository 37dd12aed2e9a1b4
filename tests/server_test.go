package tests

import (
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	yaml "go.yaml.in/yaml/v3"

	"github.com/aidawg/jarvis/gen/client"
)

type problemBody struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	Code      string `json:"code"`
	RequestID string `json:"requestId"`
	Errors    []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
}

// send makes a raw request through the contract-checking client and decodes a problem body.
func send(t *testing.T, s *server, method, path, contentType, body string) (*http.Response, problemBody) {
	t.Helper()
	h := http.Header{}
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	resp, p, _ := sendWith(t, s, method, path, h, body)
	return resp, p
}

// sendWith makes a raw request with headers through the contract-checking client, checks and
// decodes a problem body, and returns the raw body too.
func sendWith(t *testing.T, s *server, method, path string, h http.Header, body string) (*http.Response, problemBody, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := s.HTTP.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var p problemBody
	if resp.StatusCode >= 400 {
		assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"), "body: %s", raw)
		require.NoError(t, json.Unmarshal(raw, &p), "body: %s", raw)
		assert.Equal(t, resp.StatusCode, p.Status)
		assert.NotEmpty(t, p.Detail)
		assert.Equal(t, resp.Header.Get("X-Request-ID"), p.RequestID)
		assert.Equal(t, "https://jarvis.aidawg.com/problems/"+p.Code, p.Type)
		assert.NotContains(t, string(raw), "Schema:", "a problem must not dump the schema")
	}
	return resp, p, raw
}

func fields(p problemBody) map[string]string {
	m := map[string]string{}
	for _, e := range p.Errors {
		m[e.Field] = e.Message
	}
	return m
}

const generate = "/integrations/chatgpt/actions/music/generate"

// The OpenAPI 3.1 constructs the contract relies on are enforced on requests.
func TestValidationEnforcesTheContract(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	cases := []struct {
		name       string
		body       string
		wantFields []string
	}{
		{"required field missing", `{"duration": 30}`, []string{"/prompt"}},
		{"unknown field", `{"prompt": "x", "bpm": 90}`, []string{"/bpm"}},
		{"below minimum", `{"prompt": "x", "duration": 2}`, []string{"/duration"}},
		{"above maximum", `{"prompt": "x", "tempo": 400}`, []string{"/tempo"}},
		{"string too short", `{"prompt": ""}`, []string{"/prompt"}},
		{"string too long", `{"prompt": "` + strings.Repeat("a", 1001) + `"}`, []string{"/prompt"}},
		{"wrong type", `{"prompt": "x", "duration": "long"}`, []string{"/duration"}},
		{"null where not allowed", `{"prompt": "x", "tempo": null}`, []string{"/tempo"}},
		{"type array rejects other types", `{"prompt": "x", "key": 7}`, []string{"/key"}},
		{"pattern", `{"prompt": "x", "key": "H minor"}`, []string{"/key"}},
		{"format uri", `{"prompt": "x", "callbackUrl": "not a url"}`, []string{"/callbackUrl"}},
		{"every failing field is named", `{"duration": 1, "tempo": 1, "x": 1}`, []string{"/duration", "/prompt", "/tempo", "/x"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, p := send(t, s, http.MethodPost, generate, "application/json", tc.body)
			require.Equal(t, http.StatusBadRequest, resp.StatusCode)
			assert.Equal(t, "validation_failed", p.Code)
			got := fields(p)
			assert.Len(t, got, len(tc.wantFields), "errors: %v", p.Errors)
			for _, f := range tc.wantFields {
				assert.Contains(t, got, f)
				assert.Contains(t, p.Detail, f)
			}
		})
	}

	t.Run("enum", func(t *testing.T) {
		resp, p := send(t, s, http.MethodPost, "/integrations/chatgpt/actions/testing/validate", "application/json", `{"validationType": "everything"}`)
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)
		assert.Contains(t, fields(p), "/validationType")
	})
	t.Run("array bounds", func(t *testing.T) {
		ids := `"c1"` + strings.Repeat(`,"c1"`, 50)
		resp, p := send(t, s, http.MethodPost, "/integrations/chatgpt/actions/marketing/metrics", "application/json", `{"campaigns": [`+ids+`]}`)
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)
		assert.Contains(t, fields(p), "/campaigns")
	})
	t.Run("nested field", func(t *testing.T) {
		resp, p := send(t, s, http.MethodPost, "/integrations/chatgpt/actions/marketing/campaigns", "application/json",
			`{"action": "create", "name": "x", "schedule": {"start": "2026-13-40"}}`)
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)
		assert.Contains(t, fields(p), "/schedule/start")
	})
	t.Run("query parameters", func(t *testing.T) {
		resp, p := send(t, s, http.MethodGet, "/integrations/chatgpt/jobs?limit=500&status=lost", "", "")
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)
		assert.Contains(t, fields(p), "query:limit")
		assert.Contains(t, fields(p), "query:status")
		resp, p = send(t, s, http.MethodGet, "/integrations/chatgpt/jobs?limit=ten", "", "")
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)
		assert.Equal(t, "validation_failed", p.Code)
		assert.Contains(t, fields(p), "query:limit")
	})
	t.Run("null allowed by a type array", func(t *testing.T) {
		resp, p := send(t, s, http.MethodPost, generate, "application/json", `{"prompt": "x", "key": null}`)
		assert.NotEqual(t, http.StatusBadRequest, resp.StatusCode, "problem: %+v", p)
	})
}

func TestBadRequestsAnswerProblems(t *testing.T) {
	t.Parallel()
	s := startServer(t, env{"JARVIS_BODY_LIMIT": "64K"})
	cases := []struct {
		name, method, path, contentType, body string
		status                                int
		code                                  string
	}{
		{"malformed JSON", http.MethodPost, generate, "application/json", `{"prompt": `, 400, "malformed_json"},
		{"not an object", http.MethodPost, generate, "application/json", `["prompt"]`, 400, "validation_failed"},
		{"missing body", http.MethodPost, generate, "application/json", ``, 400, "validation_failed"},
		{"wrong content type", http.MethodPost, generate, "text/plain", `prompt=x`, 415, "unsupported_media_type"},
		{"form content type", http.MethodPost, generate, "application/x-www-form-urlencoded", `prompt=x`, 415, "unsupported_media_type"},
		{"oversize body", http.MethodPost, generate, "application/json", `{"prompt": "` + strings.Repeat("a", 70_000) + `"}`, 413, "payload_too_large"},
		{"unknown route", http.MethodGet, "/integrations/chatgpt/actions/music/remix", "", "", 404, "not_found"},
		{"unknown route outside the API", http.MethodGet, "/wp-admin", "", "", 404, "not_found"},
		{"wrong method", http.MethodGet, generate, "", "", 405, "method_not_allowed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, p := send(t, s, tc.method, tc.path, tc.contentType, tc.body)
			assert.Equal(t, tc.status, resp.StatusCode, "problem: %+v", p)
			assert.Equal(t, tc.code, p.Code)
		})
	}
}

func TestIntegrationInfoListsTheLiveContract(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	resp, err := s.Client.GetIntegrationInfoWithResponse(context.Background())
	require.NoError(t, err)
	require.NotNil(t, resp.JSON200, "status %d: %s", resp.StatusCode(), resp.Body)
	info := resp.JSON200
	assert.Equal(t, "Jarvis", info.Name)
	got := map[string]string{}
	modules := map[string]bool{}
	for _, m := range info.Modules {
		modules[m.Name] = true
		for _, o := range m.Operations {
			got[o.OperationId] = o.Method + " " + o.Path
		}
	}
	assert.Equal(t, wantOperations, got)
	for _, m := range []string{"music", "marketing", "engagement", "automation", "testing", "jobs"} {
		assert.True(t, modules[m], "module %s", m)
	}
	assert.Equal(t, s.URL+"/openapi.yaml", info.Links.Openapi)

	// The base path without its trailing slash is the same operation.
	r, err := s.HTTP.Get(s.API)
	require.NoError(t, err)
	r.Body.Close()
	assert.Equal(t, http.StatusOK, r.StatusCode)
}

// Operations whose services are not on this server answer a problem the model can act on.
func TestUnavailableOperationsAnswerNotImplemented(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	info, err := s.Client.GetIntegrationInfoWithResponse(context.Background())
	require.NoError(t, err)
	unavailable := 0
	for _, m := range info.JSON200.Modules {
		for _, o := range m.Operations {
			if o.Available == nil || *o.Available {
				continue
			}
			unavailable++
			path := "/integrations/chatgpt" + strings.NewReplacer("{jobId}", "job_missing", "{grantId}", "gr_missing").Replace(o.Path)
			body, ct := "", ""
			if o.Method == http.MethodPost && !strings.HasPrefix(o.Path, "/jobs") {
				body, ct = exampleBody(t, o.OperationId), "application/json"
			}
			resp, p := send(t, s, o.Method, path, ct, body)
			assert.Equal(t, http.StatusNotImplemented, resp.StatusCode, "%s: %+v", o.OperationId, p)
			assert.Equal(t, "not_implemented", p.Code, o.OperationId)
			assert.Contains(t, p.Detail, o.OperationId)
		}
	}
	t.Logf("%d operations not available yet", unavailable)
}

func exampleBody(t *testing.T, operationID string) string {
	t.Helper()
	o, ok := loadSpec(t).ByID(operationID)
	require.True(t, ok)
	b, err := json.Marshal(o.Op.RequestBody.Value.Content.Get("application/json").Example)
	require.NoError(t, err)
	return string(b)
}

// The served contract names the configured public URL, in YAML and JSON, at the root and
// under the base path.
func TestServedContractFollowsPublicURL(t *testing.T) {
	t.Parallel()
	s := startServer(t, env{"JARVIS_PUBLIC_URL": "https://jarvis.example.com/"})
	want := "https://jarvis.example.com/integrations/chatgpt"
	for _, path := range []string{"/openapi.yaml", "/openapi.json", "/integrations/chatgpt/openapi.yaml"} {
		resp, err := s.HTTP.Get(s.URL + path)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		var doc struct {
			OpenAPI string `yaml:"openapi" json:"openapi"`
			Servers []struct {
				URL string `yaml:"url" json:"url"`
			} `yaml:"servers" json:"servers"`
			Paths map[string]any `yaml:"paths" json:"paths"`
		}
		if strings.HasSuffix(path, ".json") {
			assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
			require.NoError(t, json.Unmarshal(body, &doc))
		} else {
			require.NoError(t, yaml.Unmarshal(body, &doc))
		}
		assert.Equal(t, "3.1.0", doc.OpenAPI, path)
		require.Len(t, doc.Servers, 1, path)
		assert.Equal(t, want, doc.Servers[0].URL, path)
		paths := map[string]bool{}
		for _, mp := range wantOperations {
			paths[strings.SplitN(mp, " ", 2)[1]] = true
		}
		assert.Equal(t, len(paths), len(doc.Paths), path)
	}
}

// Validation routes on the path alone: a request reaching Jarvis under another Host (as
// behind a proxy) is still matched to its operation.
func TestValidationIgnoresHost(t *testing.T) {
	t.Parallel()
	s := startServer(t, env{"JARVIS_PUBLIC_URL": "https://jarvis.example.com"})
	req, err := http.NewRequest(http.MethodGet, s.API+"/", nil)
	require.NoError(t, err)
	req.Host = "proxy.internal:8443"
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestHealthReadyAndMetrics(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	for _, path := range []string{"/health", "/ready"} {
		resp, err := s.HTTP.Get(s.URL + path)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode, path)
	}
	_, err := s.Client.GetIntegrationInfoWithResponse(context.Background())
	require.NoError(t, err)
	send(t, s, http.MethodPost, generate, "application/json", `{}`)

	resp, err := s.HTTP.Get(s.URL + "/metrics")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	text := string(body)
	assert.Contains(t, text, `jarvis_http_requests_total{operation="getIntegrationInfo",status="200"} 1`)
	assert.Contains(t, text, `jarvis_http_requests_total{operation="generateMusic",status="400"} 1`)
	assert.Contains(t, text, `jarvis_http_request_duration_seconds_bucket{operation="getIntegrationInfo"`)
}

// Each request writes one JSON access-log line with its id, route, status and latency.
func TestAccessLog(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	req, err := http.NewRequest(http.MethodGet, s.API+"/", nil)
	require.NoError(t, err)
	req.Header.Set("X-Request-ID", "trace-abc.123")
	resp, err := s.HTTP.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, "trace-abc.123", resp.Header.Get("X-Request-ID"))

	var line map[string]any
	for _, l := range strings.Split(s.Logs.String(), "\n") {
		if strings.Contains(l, "trace-abc.123") {
			require.NoError(t, json.Unmarshal([]byte(l), &line))
		}
	}
	require.NotNil(t, line, "no access-log line for the request")
	assert.Equal(t, "GET", line["method"])
	assert.Equal(t, "/integrations/chatgpt/", line["route"])
	assert.Equal(t, "getIntegrationInfo", line["operation"])
	assert.EqualValues(t, 200, line["status"])
	assert.Contains(t, line, "latencyMs")
}

// The data dir holds the database, artifacts and secrets: none of it is for other users of the
// machine, whatever the umask.
func TestDataDirIsForTheServiceUserOnly(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	s := startServer(t, env{"JARVIS_DATA_DIR": dir, "JARVIS_DATABASE_URL": ""})
	made, err := s.Client.GenerateMusicWithResponse(context.Background(), nil, client.GenerateMusicRequest{Prompt: "a song", Duration: ptr(5)})
	require.NoError(t, err)
	require.NotNil(t, made.JSON200, "status %d: %s", made.StatusCode(), made.Body)

	seen := map[string]bool{}
	require.NoError(t, filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		require.NoError(t, err)
		info, err := d.Info()
		require.NoError(t, err)
		rel, _ := filepath.Rel(dir, path)
		seen[rel] = true
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		}
		assert.Equal(t, want, info.Mode().Perm(), "%s", rel)
		return nil
	}))
	for _, p := range []string{".", "jarvis.db", "jarvis.db-wal", "artifacts", "keys", "keys/artifact.key"} {
		assert.True(t, seen[p], "%s exists", p)
	}
}
