package mcpserver

import (
	"context"
	"maps"
	"net/http/httptest"

	"github.com/aidawg/jarvis/middleware/reqvalidate"
	"github.com/aidawg/jarvis/services"
)

// Pipeline carries out the contract's operations as the MCP door does, for callers in process
// such as workflow steps: the arguments a tool takes become the operation's HTTP request, which
// goes through every layer of the chain as the principal on the context.
type Pipeline struct {
	tools *Server
	rules *reqvalidate.Validator
}

// Pipeline is s's way of calling operations in process, checked against rules before they run.
func (s *Server) Pipeline(rules *reqvalidate.Validator) *Pipeline {
	return &Pipeline{tools: s, rules: rules}
}

func (s *Server) tool(operationID string) *tool {
	for _, t := range s.tools {
		if t.op.ID == operationID {
			return t
		}
	}
	return nil
}

// Offered reports whether the operation is one of the tools.
func (p *Pipeline) Offered(operationID string) bool { return p.tools.tool(operationID) != nil }

// pathValues are a request's path parameters, taken from the tool's arguments.
type pathValues map[string]string

func (v pathValues) Param(name string) string { return v[name] }

// Check validates a tool's arguments against the operation's request rules without calling it,
// naming body fields by JSON pointer and parameters as query:name or path:name.
func (p *Pipeline) Check(operationID string, args map[string]any) []services.FieldError {
	t := p.tools.tool(operationID)
	op, ok := p.rules.ByID(operationID)
	if t == nil || !ok {
		return []services.FieldError{{Field: "", Message: "is not an operation of this API"}}
	}
	path := pathValues{}
	for _, name := range t.pathParams {
		if v, ok := args[name]; ok {
			path[name] = scalar(v)
		}
	}
	req, err := t.request(context.Background(), maps.Clone(args))
	if err != nil {
		return []services.FieldError{{Field: "", Message: err.Error()}}
	}
	err = op.Check(req, path)
	if se, ok := services.AsError(err); ok && len(se.Fields) > 0 {
		return se.Fields
	}
	if err != nil {
		return []services.FieldError{{Field: "", Message: err.Error()}}
	}
	return nil
}

// Call sends the operation's request, built from a tool's arguments, through the chain as the
// principal on ctx, and returns the status and body it answered. idempotencyKey is sent as the
// operation's Idempotency-Key when it takes one, so that a repeated call answers as the first.
func (p *Pipeline) Call(ctx context.Context, operationID string, args map[string]any, idempotencyKey string) (int, []byte, error) {
	t := p.tools.tool(operationID)
	if t == nil {
		return 0, nil, services.Errorf(services.CodeNotFound, "%s is not an operation callers are offered.", operationID)
	}
	args = maps.Clone(args)
	for arg, header := range t.headers {
		if header == "Idempotency-Key" && idempotencyKey != "" {
			args[arg] = idempotencyKey
		}
	}
	req, err := t.request(ctx, args)
	if err != nil {
		return 0, nil, services.Errorf(services.CodeValidation, "%s", err.Error())
	}
	rec := httptest.NewRecorder()
	p.tools.api.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes(), nil
}
