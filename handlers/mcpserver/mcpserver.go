// Package mcpserver serves the contract's operations as MCP tools. A tool call is not a second
// implementation of its action: it becomes the HTTP request of the operation and goes through
// the same layers (rate limits, scopes, memory of the user, idempotency, validation) to the same
// handler, and its answer comes back as the tool's result.
package mcpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/aidawg/jarvis/openapi"
	"github.com/aidawg/jarvis/services"
)

// NotExposed are the operations deliberately not offered as tools, with the reason.
var NotExposed = map[string]string{
	"getIntegrationInfo": "MCP clients learn the tools from tools/list and the server's instructions",
	"getJobStats":        "aggregate figures for dashboards, not a step of a conversation",
	"getUsage":           "administration, not for assistants",
	"getDataCoverage":    "administration, not for assistants",
	"importData":         "administration: its body is a file, not tool arguments",
	"listGrants":         "which apps a user signed in to is the user's own business, not an assistant's",
	"revokeGrant":        "an assistant should not revoke its own or another app's access",
}

// headerArgs names the header parameters a tool takes as arguments.
var headerArgs = map[string]string{"Idempotency-Key": "idempotencyKey"}

// tool is one operation offered as a tool.
type tool struct {
	op          *openapi.Operation
	def         *mcp.Tool
	pathParams  []string
	queryParams []string
	headers     map[string]string // argument name -> header
}

// Server builds the MCP door over an HTTP handler that serves the contract.
type Server struct {
	api      http.Handler
	tools    []*tool
	version  string
	mu       sync.Mutex
	byScopes map[string]*mcp.Server
}

// Instructions tell an assistant how Jarvis's tools fit together.
const Instructions = `Jarvis is the AI Dawg music platform's assistant gateway: make and analyse music, read marketing and engagement figures, run automation and check the platform's health.
Long actions (generateMusic, generateForecast, manageWorkflows execute) answer with their result when it is ready within about 20 seconds, otherwise with a job: tell the user, then call getJobStatus with job.id after pollAfterSeconds.
A failed call answers an error whose text says what was wrong and what to do; correct the arguments it names and call again.
getUserContext suggests next steps from what the user did before.`

// New builds the tools from the contract. api serves the contract's operations under the base
// path; each tool call is sent to it.
func New(spec *openapi.Spec, api http.Handler, version string) (*Server, error) {
	s := &Server{api: api, version: version, byScopes: map[string]*mcp.Server{}}
	inliner := newInliner(spec.Doc)
	for _, op := range spec.Operations {
		if _, skip := NotExposed[op.ID]; skip {
			continue
		}
		t, err := buildTool(op, inliner)
		if err != nil {
			return nil, fmt.Errorf("tool %s: %w", op.ID, err)
		}
		s.tools = append(s.tools, t)
	}
	return s, nil
}

// Handler is the streamable HTTP endpoint. It is stateless, so that any replica can answer any
// call. The request must already carry the caller's principal. protectLocalhost keeps the SDK's
// DNS-rebinding check, which a server reached through a reverse proxy must turn off.
func (s *Server) Handler(protectLocalhost bool) http.Handler {
	h := mcp.NewStreamableHTTPHandler(func(r *http.Request) *mcp.Server {
		p, _ := services.PrincipalFrom(r.Context())
		return s.serverFor(p.Scopes)
	}, &mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true, DisableLocalhostProtection: !protectLocalhost})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(&noStoreWriter{ResponseWriter: w}, r)
	})
}

// noStoreWriter keeps every answer of the MCP door out of caches: the SDK marks its answers
// no-cache, which lets a shared cache keep them, and what tools/list holds depends on the
// caller's scopes.
type noStoreWriter struct {
	http.ResponseWriter
	wrote bool
}

func (w *noStoreWriter) WriteHeader(code int) {
	if !w.wrote {
		w.wrote = true
		w.Header().Set("Cache-Control", "no-store")
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *noStoreWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Flush passes streamed answers on as they come.
func (w *noStoreWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *noStoreWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// serverFor is the MCP server offering the tools that scopes allow; a caller only sees what
// it may call. Servers are built once per set of scopes.
func (s *Server) serverFor(scopes []string) *mcp.Server {
	key := append([]string(nil), scopes...)
	sort.Strings(key)
	k := strings.Join(key, " ")
	s.mu.Lock()
	defer s.mu.Unlock()
	if srv, ok := s.byScopes[k]; ok {
		return srv
	}
	p := services.Principal{Scopes: key}
	srv := mcp.NewServer(&mcp.Implementation{Name: "jarvis", Title: "Jarvis for AI Dawg", Version: s.version},
		&mcp.ServerOptions{Instructions: Instructions, SetCacheable: privateLists})
	for _, t := range s.tools {
		if scope := t.op.Scope(); scope == "" || p.Has(scope) {
			srv.AddTool(t.def, s.handle(t))
		}
	}
	s.byScopes[k] = srv
	return srv
}

// privateLists marks every list the server answers as the caller's own: which tools it holds
// depends on the caller's scopes, so no shared cache may serve one caller's list to another
// (the protocol's default is public).
func privateLists(_ context.Context, _ mcp.Request, c *mcp.Cacheable) {
	c.CacheScope = "private"
}

// handle sends a tool call through the operation's HTTP pipeline.
func (s *Server) handle(t *tool) mcp.ToolHandler {
	return func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		if _, ok := services.PrincipalFrom(ctx); !ok {
			return errorResult("The call carries no credentials. Connect with a bearer token."), nil
		}
		args := map[string]any{}
		if len(req.Params.Arguments) > 0 {
			if err := json.Unmarshal(req.Params.Arguments, &args); err != nil {
				return errorResult("The arguments are not a JSON object: " + err.Error()), nil
			}
		}
		httpReq, err := t.request(ctx, args)
		if err != nil {
			return errorResult(err.Error()), nil
		}
		rec := httptest.NewRecorder()
		s.api.ServeHTTP(rec, httpReq)
		return result(t, rec), nil
	}
}

// request builds the operation's HTTP request from the tool's arguments.
func (t *tool) request(ctx context.Context, args map[string]any) (*http.Request, error) {
	path := t.op.Path
	for _, name := range t.pathParams {
		v, ok := args[name]
		if !ok {
			return nil, fmt.Errorf("%s is required: give the %s argument", name, name)
		}
		path = strings.Replace(path, "{"+name+"}", url.PathEscape(fmt.Sprint(v)), 1)
		delete(args, name)
	}
	q := url.Values{}
	for _, name := range t.queryParams {
		if v, ok := args[name]; ok {
			q.Set(name, scalar(v))
			delete(args, name)
		}
	}
	header := http.Header{}
	for arg, h := range t.headers {
		if v, ok := args[arg]; ok {
			header.Set(h, scalar(v))
			delete(args, arg)
		}
	}
	target := openapi.BasePath + path
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	var body *bytes.Reader
	if t.op.HasBody {
		b, err := json.Marshal(args)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
		header.Set("Content-Type", "application/json")
	} else if len(args) > 0 {
		names := make([]string, 0, len(args))
		for k := range args {
			names = append(names, k)
		}
		sort.Strings(names)
		return nil, fmt.Errorf("%s takes no argument %s", t.op.ID, strings.Join(names, ", "))
	}
	// A request from a server always has a body, empty or not; the layers rely on that.
	var reader io.Reader = http.NoBody
	if body != nil {
		reader = body
	}
	r, err := http.NewRequestWithContext(ctx, t.op.Method, target, reader)
	if err != nil {
		return nil, err
	}
	r.Header = header
	r.RemoteAddr = "127.0.0.1:0"
	return r, nil
}

// scalar writes a parameter value as a query string or header carries it.
func scalar(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		if x == float64(int64(x)) {
			return fmt.Sprint(int64(x))
		}
	}
	return fmt.Sprint(v)
}

// result turns the operation's answer into the tool's: the body as structured content on
// success, the problem's detail as an error the model can act on otherwise.
func result(t *tool, rec *httptest.ResponseRecorder) *mcp.CallToolResult {
	body := rec.Body.Bytes()
	if rec.Code >= 400 {
		// The detail names the fields at fault; it is written for the model to act on.
		var p struct {
			Detail string `json:"detail"`
		}
		text := fmt.Sprintf("%s failed with status %d.", t.op.ID, rec.Code)
		if json.Unmarshal(body, &p) == nil && p.Detail != "" {
			text = p.Detail
		}
		return errorResult(text)
	}
	if rec.Code == http.StatusNoContent || len(bytes.TrimSpace(body)) == 0 {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "Done."}}}
	}
	var structured map[string]any
	if err := json.Unmarshal(body, &structured); err != nil {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: string(body)}}}
	}
	return &mcp.CallToolResult{
		Content:           []mcp.Content{&mcp.TextContent{Text: string(bytes.TrimSpace(body))}},
		StructuredContent: structured,
	}
}

func errorResult(text string) *mcp.CallToolResult {
	return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: text}}}
}

// buildTool describes an operation as a tool: its parameters and body fields merged into one
// object schema, every $ref inlined, and its 2xx answer as the output schema.
func buildTool(op *openapi.Operation, in *inliner) (*tool, error) {
	t := &tool{op: op, headers: map[string]string{}}
	props := map[string]any{}
	var required []string
	for _, pr := range op.Op.Parameters {
		p := pr.Value
		name := p.Name
		switch p.In {
		case "path":
			t.pathParams = append(t.pathParams, name)
		case "query":
			t.queryParams = append(t.queryParams, name)
		case "header":
			arg, ok := headerArgs[p.Name]
			if !ok {
				continue
			}
			t.headers[arg] = p.Name
			name = arg
		default:
			continue
		}
		schema := in.schema(p.Schema)
		if p.Description != "" {
			schema["description"] = p.Description
		}
		props[name] = schema
		if p.Required {
			required = append(required, name)
		}
	}
	if op.HasBody {
		body := in.schema(op.Op.RequestBody.Value.Content.Get("application/json").Schema)
		bodyProps, _ := body["properties"].(map[string]any)
		for k, v := range bodyProps {
			if _, clash := props[k]; clash {
				return nil, fmt.Errorf("body field %s has the name of a parameter", k)
			}
			props[k] = v
		}
		if req, ok := body["required"].([]any); ok {
			for _, r := range req {
				required = append(required, fmt.Sprint(r))
			}
		}
	}
	input := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		sort.Strings(required)
		input["required"] = required
	}

	var outputs []any
	for _, code := range []string{"200", "202"} {
		if r := op.Op.Responses.Value(code); r != nil && r.Value != nil {
			if mt := r.Value.Content.Get("application/json"); mt != nil && mt.Schema != nil {
				outputs = append(outputs, in.schema(mt.Schema))
			}
		}
	}

	readOnly := op.Method == http.MethodGet || isTrue(op.Op.Extensions["x-jarvis-readOnly"])
	destructive := op.Consequential || op.Method == http.MethodDelete
	openWorld := slices.Contains([]string{"music", "marketing", "engagement", "automation"}, op.Module)
	description := op.Summary
	if op.Description != "" {
		description += " " + op.Description
	}
	t.def = &mcp.Tool{
		Name:        op.ID,
		Title:       op.Summary,
		Description: description,
		InputSchema: input,
		Annotations: &mcp.ToolAnnotations{
			Title:           op.Summary,
			ReadOnlyHint:    readOnly,
			DestructiveHint: &destructive,
			OpenWorldHint:   &openWorld,
			IdempotentHint:  readOnly,
		},
	}
	switch len(outputs) {
	case 1:
		t.def.OutputSchema = outputs[0]
	case 2:
		t.def.OutputSchema = map[string]any{"type": "object", "anyOf": outputs}
	}
	return t, nil
}

func isTrue(v any) bool { b, _ := v.(bool); return b }

// inliner writes schemas as plain JSON Schema with every component reference replaced by the
// component itself, since MCP clients resolve no references.
type inliner struct {
	components map[string]map[string]any
}

func newInliner(doc *openapi3.T) *inliner {
	in := &inliner{components: map[string]map[string]any{}}
	for name, ref := range doc.Components.Schemas {
		in.components[name] = toMap(ref.Value)
	}
	return in
}

func toMap(s *openapi3.Schema) map[string]any {
	b, _ := json.Marshal(s)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

func (in *inliner) schema(ref *openapi3.SchemaRef) map[string]any {
	var m map[string]any
	if name, ok := strings.CutPrefix(ref.Ref, "#/components/schemas/"); ok {
		m = in.components[name]
	} else {
		m = toMap(ref.Value)
	}
	out, _ := in.resolve(m, 0).(map[string]any)
	return out
}

// resolve copies v with references replaced; the contract has no recursive schemas, and the
// depth bound keeps a future one from looping.
func (in *inliner) resolve(v any, depth int) any {
	switch x := v.(type) {
	case map[string]any:
		if ref, ok := x["$ref"].(string); ok && depth < 32 {
			if name, ok := strings.CutPrefix(ref, "#/components/schemas/"); ok {
				return in.resolve(in.components[name], depth+1)
			}
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			if k == "example" || strings.HasPrefix(k, "x-") {
				continue
			}
			out[k] = in.resolve(e, depth+1)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = in.resolve(e, depth+1)
		}
		return out
	}
	return v
}
