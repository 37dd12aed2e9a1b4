package tests

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/handlers/mcpserver"
	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/keys"
)

// bearerTransport adds a bearer token to every request.
type bearerTransport struct {
	token string
	next  http.RoundTripper
}

func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	if b.token != "" {
		r.Header.Set("Authorization", "Bearer "+b.token)
	}
	return b.next.RoundTrip(r)
}

// mcpSession connects the SDK's client to the server's /mcp with token ("" for none).
func mcpSession(t *testing.T, s *server, token string) *mcp.ClientSession {
	t.Helper()
	c := mcp.NewClient(&mcp.Implementation{Name: "jarvis-tests", Version: "1"}, nil)
	transport := &mcp.StreamableClientTransport{
		Endpoint:   s.URL + "/mcp",
		HTTPClient: &http.Client{Timeout: 30 * time.Second, Transport: bearerTransport{token, http.DefaultTransport}},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	session, err := c.Connect(ctx, transport, nil)
	require.NoError(t, err)
	t.Cleanup(func() { session.Close() })
	return session
}

func toolNames(t *testing.T, session *mcp.ClientSession) []string {
	t.Helper()
	res, err := session.ListTools(context.Background(), nil)
	require.NoError(t, err)
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
	}
	sort.Strings(names)
	return names
}

func callTool(t *testing.T, session *mcp.ClientSession, name string, args map[string]any) *mcp.CallToolResult {
	t.Helper()
	res, err := session.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	require.NoError(t, err)
	return res
}

func text(res *mcp.CallToolResult) string {
	var parts []string
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			parts = append(parts, tc.Text)
		}
	}
	return strings.Join(parts, "\n")
}

// The HTTP answer to tools/list is not to be kept by any cache: its tools depend on the
// caller's scopes.
func TestMCPToolListIsNotPubliclyCacheable(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	req, err := http.NewRequest(http.MethodPost, s.URL+"/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	assert.NotContains(t, string(body), `"cacheScope":"public"`)
}

// Every operation of the contract is a tool or deliberately not exposed, and every tool's
// input schema is plain JSON Schema that compiles.
func TestMCPToolsComeFromTheContract(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	session := mcpSession(t, s, "")
	res, err := session.ListTools(context.Background(), nil)
	require.NoError(t, err)
	assert.Equal(t, "private", res.CacheScope, "the list depends on the caller's scopes")
	tools := map[string]*mcp.Tool{}
	for _, tool := range res.Tools {
		tools[tool.Name] = tool
	}
	for id := range wantOperations {
		_, isTool := tools[id]
		_, skipped := mcpserver.NotExposed[id]
		assert.True(t, isTool != skipped, "%s must be either a tool or listed as not exposed", id)
	}
	for name, tool := range tools {
		raw, err := json.Marshal(tool.InputSchema)
		require.NoError(t, err)
		assert.NotContains(t, string(raw), "$ref", "%s input schema has a reference", name)
		var doc any
		require.NoError(t, json.Unmarshal(raw, &doc))
		c := jsonschema.NewCompiler()
		require.NoError(t, c.AddResource("tool.json", doc), name)
		_, err = c.Compile("tool.json")
		assert.NoError(t, err, "%s input schema does not compile", name)
		assert.NotEmpty(t, tool.Description, name)
	}
	gen := tools["generateMusic"]
	require.NotNil(t, gen)
	assert.True(t, *gen.Annotations.DestructiveHint, "consequential operations are destructive")
	assert.False(t, gen.Annotations.ReadOnlyHint)
	assert.Contains(t, gen.InputSchema.(map[string]any)["properties"], "idempotencyKey")
	assert.True(t, tools["runValidation"].Annotations.ReadOnlyHint, "analyses are read-only")
	assert.False(t, *tools["runValidation"].Annotations.DestructiveHint)
	assert.True(t, tools["getJobStatus"].Annotations.ReadOnlyHint)
	assert.NotNil(t, gen.OutputSchema, "the 2xx answer is the output schema")
}

// A tool call goes through the same pipeline as HTTP: a result, or a job to check.
func TestMCPCallsWorkEndToEnd(t *testing.T) {
	t.Parallel()
	s := startServer(t, env{"JARVIS_SYNC_WAIT": "50ms", "JARVIS_EMBEDDED_MUSIC_SPEED": "20"})
	session := mcpSession(t, s, "")

	v := callTool(t, session, "runValidation", map[string]any{"validationType": "config"})
	require.False(t, v.IsError, text(v))
	report, ok := v.StructuredContent.(map[string]any)["validation"].(map[string]any)
	require.True(t, ok, "structured content: %v", v.StructuredContent)
	assert.Equal(t, "config", report["validationType"])

	// An action whose module is not on this server says so, as over HTTP.
	sent := callTool(t, session, "analyzeSentiment", map[string]any{"texts": []any{"great chorus"}})
	if sent.IsError {
		assert.Contains(t, text(sent), "analyzeSentiment")
	} else {
		assert.Contains(t, sent.StructuredContent.(map[string]any), "sentiment")
	}

	g := callTool(t, session, "generateMusic", map[string]any{"prompt": "a song made over MCP", "duration": 40})
	require.False(t, g.IsError, text(g))
	job := g.StructuredContent.(map[string]any)["job"].(map[string]any)
	id := job["id"].(string)
	assert.Contains(t, g.StructuredContent.(map[string]any)["message"], "getJobStatus")
	deadline := time.Now().Add(30 * time.Second)
	for {
		st := callTool(t, session, "getJobStatus", map[string]any{"jobId": id})
		require.False(t, st.IsError, text(st))
		j := st.StructuredContent.(map[string]any)
		if j["status"] == "completed" {
			track := j["result"].(map[string]any)["track"].(map[string]any)
			assert.EqualValues(t, 40, track["durationSeconds"])
			break
		}
		require.False(t, time.Now().After(deadline), "job still %v", j["status"])
		time.Sleep(50 * time.Millisecond)
	}

	// A bad argument comes back as a tool error naming the field, for the model to correct.
	bad := callTool(t, session, "generateMusic", map[string]any{"prompt": "x", "duration": 2})
	require.True(t, bad.IsError)
	assert.Contains(t, text(bad), "/duration")
	missing := callTool(t, session, "getJobStatus", map[string]any{})
	require.True(t, missing.IsError)
	assert.Contains(t, text(missing), "jobId")
}

func TestMCPAuthentication(t *testing.T) {
	t.Parallel()
	s := startServer(t, production(nil))

	resp, err := http.Post(s.URL+"/mcp", "application/json", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("WWW-Authenticate"), `resource_metadata="`+s.URL+`/.well-known/oauth-protected-resource/mcp"`)
	meta, err := http.Get(s.URL + "/.well-known/oauth-protected-resource/mcp")
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, json.NewDecoder(meta.Body).Decode(&doc))
	meta.Body.Close()
	assert.Equal(t, s.URL+"/mcp", doc["resource"])

	// A read-only key does not see the tools that change things.
	_, readOnly := createKey(t, s, keys.NewKey{User: "reader", Scopes: []string{services.ScopeActionsRead, services.ScopeJobs}})
	names := toolNames(t, mcpSession(t, s, readOnly))
	assert.Contains(t, names, "runValidation")
	assert.Contains(t, names, "getJobStatus")
	for _, consequential := range []string{"generateMusic", "manageCampaigns", "createReEngagement", "manageWorkflows", "manageScaling"} {
		assert.NotContains(t, names, consequential)
	}
	_, writer := createKey(t, s, keys.NewKey{User: "writer", Scopes: []string{services.ScopeActionsRead, services.ScopeActionsWrite, services.ScopeJobs}})
	assert.Contains(t, toolNames(t, mcpSession(t, s, writer)), "generateMusic")
}

// Calls over MCP and over HTTP count against one limit.
func TestMCPAndHTTPShareRateLimits(t *testing.T) {
	t.Parallel()
	s := startServer(t, production(env{"JARVIS_RATE_LIMITS": "*=100000,testing.validate=3"}))
	_, key := createKey(t, s, keys.NewKey{User: "limited", Scopes: []string{services.ScopeActionsRead}})
	h := hdr("Authorization", "Bearer "+key, "Content-Type", "application/json")
	for range 2 {
		resp, p, _ := sendWith(t, s, http.MethodPost, "/integrations/chatgpt/actions/testing/validate", h, `{"validationType": "config"}`)
		require.Equal(t, http.StatusOK, resp.StatusCode, "%+v", p)
	}
	session := mcpSession(t, s, key)
	third := callTool(t, session, "runValidation", map[string]any{"validationType": "config"})
	require.False(t, third.IsError, text(third))
	fourth := callTool(t, session, "runValidation", map[string]any{"validationType": "config"})
	require.True(t, fourth.IsError, "the fourth call in the hour is over the limit of 3")
	assert.Contains(t, text(fourth), "testing.validate")
	assert.Contains(t, text(fourth), "retry")
	resp, p, _ := sendWith(t, s, http.MethodPost, "/integrations/chatgpt/actions/testing/validate", h, `{"validationType": "config"}`)
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "%+v", p)
}

// The GPT builder settings are made from the live contract and the server's configuration.
func TestGPTConfigFollowsTheContract(t *testing.T) {
	t.Parallel()
	s := startServer(t, env{"JARVIS_PUBLIC_URL": "https://jarvis.example.com", "JARVIS_PRIVACY_POLICY_URL": "https://example.com/privacy"})
	resp, err := http.Get(s.URL + "/gpt-config.json")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var cfg struct {
		Name                 string   `json:"name"`
		Instructions         string   `json:"instructions"`
		ConversationStarters []string `json:"conversationStarters"`
		SchemaURL            string   `json:"schemaUrl"`
		PrivacyPolicyURL     string   `json:"privacyPolicyUrl"`
		Authentication       []struct {
			Type string `json:"type"`
		} `json:"authentication"`
		Actions []struct {
			OperationID string `json:"operationId"`
		} `json:"actions"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&cfg))
	assert.Equal(t, "https://jarvis.example.com/openapi.yaml", cfg.SchemaURL)
	assert.Equal(t, "https://example.com/privacy", cfg.PrivacyPolicyURL)
	assert.Len(t, cfg.ConversationStarters, 4)
	assert.LessOrEqual(t, len(cfg.Instructions), 8000, "the GPT builder's limit")
	assert.Contains(t, cfg.Instructions, "getJobStatus")
	available := availableOperations(t, s)
	listed := map[string]bool{}
	for _, a := range cfg.Actions {
		listed[a.OperationID] = true
		assert.True(t, available[a.OperationID], "%s is listed but not available", a.OperationID)
		assert.Contains(t, cfg.Instructions, "- "+a.OperationID+":")
	}
	for op, ok := range available {
		assert.Equal(t, ok, listed[op], op)
	}
	require.NotEmpty(t, cfg.Authentication)
	assert.Equal(t, "apiKey", cfg.Authentication[0].Type)
}
