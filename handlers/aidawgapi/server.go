// Package aidawgapi serves the embedded AI Dawg modules over HTTP on the AI Dawg contract, so
// that they can stand in for the real backend (`jarvis aidawg serve`, and the tests' remote).
package aidawgapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/rs/zerolog"

	"github.com/aidawg/jarvis/gen/aidawg"
	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/modules"
)

// DefaultBodyLimit bounds an execute request's body.
const DefaultBodyLimit = 1 << 20

// Server implements the AI Dawg contract over the embedded modules.
type Server struct {
	rt  *modules.Runtime
	log zerolog.Logger
}

var _ aidawg.StrictServerInterface = (*Server)(nil)

// Handler serves the contract's endpoints. Bodies larger than bodyLimit are refused.
func Handler(rt *modules.Runtime, log zerolog.Logger, bodyLimit int64) http.Handler {
	s := &Server{rt: rt, log: log}
	strict := aidawg.NewStrictHandlerWithOptions(s, nil, aidawg.StrictHTTPServerOptions{
		RequestErrorHandlerFunc: func(w http.ResponseWriter, r *http.Request, err error) {
			msg := "The body is not an execute request: send {module, action, params} as JSON."
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				msg = "The body is larger than this server accepts."
			}
			writeFailure(w, http.StatusBadRequest, aidawg.INVALIDPARAMS, msg)
		},
		ResponseErrorHandlerFunc: func(w http.ResponseWriter, r *http.Request, err error) {
			log.Error().Err(err).Str("path", r.URL.Path).Msg("aidawg answer failed")
			writeFailure(w, http.StatusInternalServerError, aidawg.EXECUTIONFAILED, "The command failed.")
		},
	})
	api := aidawg.Handler(strict)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, bodyLimit)
		ctx := r.Context()
		if id := r.Header.Get("X-Request-ID"); id != "" && len(id) <= 64 {
			ctx, _ = services.NewCall(ctx, id)
		}
		api.ServeHTTP(w, r.WithContext(ctx))
	})
}

// Execute runs one command. Handled failures answer 200 with success false, as the backend
// does, except RATE_LIMIT_EXCEEDED (429) and SERVICE_UNAVAILABLE (503).
func (s *Server) Execute(ctx context.Context, req aidawg.ExecuteRequestObject) (aidawg.ExecuteResponseObject, error) {
	if t := req.Params.XAIDawgTenant; t != nil {
		p := services.Principal{Tenant: *t, Method: services.MethodRelayed}
		if a := req.Params.XAIDawgActor; a != nil {
			p.User = *a
		}
		ctx = services.WithPrincipal(ctx, p)
	}
	out, f := s.rt.Execute(ctx, req.Body.Module, req.Body.Action, req.Body.Params)
	if f == nil {
		data, err := json.Marshal(out)
		if err != nil {
			s.log.Error().Err(err).Str("module", req.Body.Module).Str("action", req.Body.Action).Msg("encode result")
			f = modules.ExecutionFailed("The result could not be encoded.", err)
		} else {
			raw := json.RawMessage(data)
			return aidawg.Execute200JSONResponse{Success: true, Data: &raw, Timestamp: time.Now().UTC()}, nil
		}
	}
	body := failureBody(f)
	switch f.Code {
	case aidawg.RATELIMITEXCEEDED:
		return aidawg.Execute429JSONResponse{Body: body, Headers: aidawg.Execute429ResponseHeaders{RetryAfter: retryAfter(f)}}, nil
	case aidawg.SERVICEUNAVAILABLE:
		return aidawg.Execute503JSONResponse{Body: body, Headers: aidawg.Execute503ResponseHeaders{RetryAfter: retryAfter(f)}}, nil
	}
	return aidawg.Execute200JSONResponse(body), nil
}

// GetDesktopHealth answers the modules' health: healthy, degraded, or unhealthy with 503.
func (s *Server) GetDesktopHealth(ctx context.Context, _ aidawg.GetDesktopHealthRequestObject) (aidawg.GetDesktopHealthResponseObject, error) {
	report := s.rt.Health(ctx, aidawg.HealthScopeAll)
	now := time.Now().UTC()
	switch report.Status {
	case aidawg.HealthStatusHealthy:
		return aidawg.GetDesktopHealth200JSONResponse{Status: aidawg.DesktopHealthStatusHealthy, Timestamp: now}, nil
	case aidawg.HealthStatusDegraded:
		return aidawg.GetDesktopHealth200JSONResponse{Status: aidawg.DesktopHealthStatusDegraded, Timestamp: now}, nil
	}
	return aidawg.GetDesktopHealth503JSONResponse{Status: aidawg.DesktopHealthStatusUnhealthy, Timestamp: now}, nil
}

func failureBody(f *modules.Failure) aidawg.CommandResponse {
	code, msg := f.Code, f.Message
	body := aidawg.CommandResponse{Success: false, Code: &code, Error: &msg, Timestamp: time.Now().UTC()}
	if len(f.Fields) > 0 {
		fields := make([]aidawg.ParamError, len(f.Fields))
		for i, fe := range f.Fields {
			fields[i] = aidawg.ParamError{Field: fe.Field, Message: fe.Message}
		}
		body.Details = &aidawg.ErrorDetails{Fields: fields}
	}
	return body
}

func retryAfter(f *modules.Failure) *int {
	s := max(1, int((f.RetryAfter+time.Second-1)/time.Second))
	return &s
}

func writeFailure(w http.ResponseWriter, status int, code aidawg.ErrorCode, msg string) {
	body, _ := json.Marshal(aidawg.CommandResponse{Success: false, Code: &code, Error: &msg, Timestamp: time.Now().UTC()})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
