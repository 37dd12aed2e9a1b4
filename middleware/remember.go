package middleware

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"

	"github.com/aidawg/jarvis/middleware/reqvalidate"
	"github.com/aidawg/jarvis/openapi"
	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/usercontext"
)

// Contexts is what Remember needs of the user-context service.
type Contexts interface {
	Preferences(ctx context.Context, owner services.Owner) (usercontext.Preferences, error)
	Remember(owner services.Owner, a usercontext.Action) error
}

// Remember makes every action personal and remembered: before the action, the caller's
// default params fill the optional fields the request left out (so validation and the handler
// see them); after it, concise callers get the answer without its verbose parts, and the
// action is queued for the caller's history without waiting for the database.
func Remember(spec *openapi.Spec, contexts Contexts, log zerolog.Logger) echo.MiddlewareFunc {
	verbose := map[string][][]string{}
	for _, o := range spec.Operations {
		if strings.HasPrefix(o.Path, "/actions/") {
			verbose[o.ID] = verbosePaths(o.Op)
		}
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			op, ok := spec.ByRoute(req.Method, c.Path())
			if !ok || !strings.HasPrefix(op.Path, "/actions/") {
				return next(c)
			}
			p, ok := services.PrincipalFrom(req.Context())
			if !ok {
				return next(c)
			}
			owner := p.Owner()
			note := call(c).Note()
			req = c.Request()
			prefs, err := contexts.Preferences(req.Context(), owner)
			if err != nil {
				log.Warn().Err(err).Msg("read preferences; going on without them")
				prefs = usercontext.DefaultPreferences()
			}

			raw, err := reqvalidate.ReadBody(req)
			if err != nil {
				return err
			}
			// The body is parsed here only to fill defaults; the history's summary is taken from
			// the value validation decoded, so a valid request is parsed once.
			var body map[string]any
			if prefs.HasDefaults(op.ID) && json.Unmarshal(raw, &body) == nil {
				if applied := prefs.FillDefaults(op.ID, body); len(applied) > 0 {
					if filled, err := json.Marshal(body); err == nil {
						raw = filled
						note.SetDefaultsApplied(applied)
						req.ContentLength = int64(len(raw))
						req.Header.Set(echo.HeaderContentLength, strconv.Itoa(len(raw)))
					}
				}
			}
			req.Body = reqvalidate.NewBody(raw)

			cw := &captureWriter{ResponseWriter: c.Response().Writer, buffer: prefs.OutputFormat == "concise" && len(verbose[op.ID]) > 0}
			c.Response().Writer = cw
			start := time.Now()
			if err := next(c); err != nil {
				c.Error(err)
			}
			c.Response().Writer = cw.ResponseWriter
			if cw.buffer {
				out := cw.body.Bytes()
				if cw.status < 300 {
					out = dropPaths(out, verbose[op.ID])
				}
				cw.ResponseWriter.WriteHeader(cw.status)
				if _, err := cw.ResponseWriter.Write(out); err != nil {
					log.Debug().Err(err).Msg("write concise answer")
				}
			}

			if vb, ok := c.Request().Body.(interface{ ValidatedValue() any }); ok {
				if v, ok := vb.ValidatedValue().(map[string]any); ok {
					body = v
				}
			}
			if body == nil {
				_ = json.Unmarshal(raw, &body) // refused by validation: summarise what was sent
			}
			jobID, follow := note.Read()
			a := usercontext.Action{
				At: start, OperationID: op.ID, Module: op.Module, Params: body,
				Status: cw.status, ProblemCode: problemCode(cw.status, cw.body.Bytes()), Duration: time.Since(start),
				JobID: jobID, Follow: follow, ConversationID: req.Header.Get(HeaderConversationID),
			}
			if err := contexts.Remember(owner, a); err != nil {
				log.Warn().Err(err).Str("operation", op.ID).Msg("record action")
			}
			return nil
		}
	}
}

// problemCode is the code of the problem a failed answer carries, if it carries one.
func problemCode(status int, body []byte) string {
	if status < 400 {
		return ""
	}
	var p struct {
		Code string `json:"code"`
	}
	_ = json.Unmarshal(body, &p)
	return p.Code
}

// captureWriter keeps the status and, for problems, the body; when buffering, it holds the
// whole answer back so that it can be rewritten.
type captureWriter struct {
	http.ResponseWriter
	buffer bool
	status int
	body   bytes.Buffer
}

func (w *captureWriter) WriteHeader(code int) {
	w.status = code
	if !w.buffer {
		w.ResponseWriter.WriteHeader(code)
	}
}

func (w *captureWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.buffer {
		return w.body.Write(b)
	}
	if w.status >= 400 && w.body.Len() < 8<<10 {
		w.body.Write(b)
	}
	return w.ResponseWriter.Write(b)
}

// verbosePaths finds the optional response fields the contract marks x-jarvis-verbose in the
// operation's 200 answer, as paths of property names.
func verbosePaths(op *openapi3.Operation) [][]string {
	resp := op.Responses.Value("200")
	if resp == nil || resp.Value == nil {
		return nil
	}
	mt := resp.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil {
		return nil
	}
	var out [][]string
	var walk func(s *openapi3.Schema, path []string, depth int)
	walk = func(s *openapi3.Schema, path []string, depth int) {
		if s == nil || depth > 6 {
			return
		}
		for name, prop := range s.Properties {
			if prop == nil || prop.Value == nil {
				continue
			}
			p := append(append([]string{}, path...), name)
			if v, _ := prop.Value.Extensions["x-jarvis-verbose"].(bool); v {
				out = append(out, p)
				continue
			}
			walk(prop.Value, p, depth+1)
		}
	}
	walk(mt.Schema.Value, nil, 0)
	return out
}

// dropPaths removes the fields at paths from a JSON object; anything else is left as it is.
func dropPaths(body []byte, paths [][]string) []byte {
	var doc map[string]any
	if json.Unmarshal(body, &doc) != nil {
		return body
	}
	for _, p := range paths {
		m := doc
		for i, key := range p {
			if i == len(p)-1 {
				delete(m, key)
				break
			}
			next, ok := m[key].(map[string]any)
			if !ok {
				break
			}
			m = next
		}
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return body
	}
	return append(out, '\n')
}
