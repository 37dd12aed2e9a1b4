package modules

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode"

	"github.com/rs/zerolog"

	"github.com/aidawg/jarvis/gen/aidawg"
	"github.com/aidawg/jarvis/services"
)

// ServedBy names what carried a command out; the response's meta.servedBy says it.
type ServedBy string

const (
	ServedByEmbedded ServedBy = "embedded"
	ServedByRemote   ServedBy = "remote"
)

// Router sends each command to the remote backend when one is configured, else to the
// embedded modules. With fallback on, a command the embedded modules carry out is served by
// them while the remote is failing or its circuit is open.
type Router struct {
	embedded *Runtime
	remote   *Remote
	fallback bool
	log      zerolog.Logger
	metrics  *routerMetrics // nil until Instrument
}

// NewRouter makes the router. remote may be nil: the embedded modules serve everything.
func NewRouter(embedded *Runtime, remote *Remote, fallback bool, log zerolog.Logger) *Router {
	return &Router{embedded: embedded, remote: remote, fallback: fallback, log: log}
}

// Embedded is the embedded modules.
func (rt *Router) Embedded() *Runtime { return rt.embedded }

// Remote is the remote backend's client, or nil when there is none.
func (rt *Router) Remote() *Remote { return rt.remote }

// Fallback reports whether the embedded modules stand in while the remote fails.
func (rt *Router) Fallback() bool { return rt.fallback }

// Serves reports whether a call of the command can be carried out: the embedded modules
// implement it, or a remote backend, which is taken to offer every command of the contract,
// is configured.
func (rt *Router) Serves(ref Ref) bool {
	return rt.remote != nil || rt.embedded.Implements(ref)
}

// Call carries out cmd with params p. Errors are *services.Error.
func Call[P, R any](ctx context.Context, rt *Router, cmd Command[P, R], p P) (R, ServedBy, error) {
	ctx, span := startCall(ctx, cmd.Ref)
	out, by, err := call(ctx, rt, cmd, p)
	rt.endCall(span, cmd.Ref, by, err)
	return out, by, err
}

func call[P, R any](ctx context.Context, rt *Router, cmd Command[P, R], p P) (R, ServedBy, error) {
	var zero R
	if rt.remote == nil {
		out, f := invokeTraced(ctx, rt.embedded, cmd, p)
		if f != nil {
			return zero, ServedByEmbedded, failureError(cmd.Ref, f)
		}
		return out, ServedByEmbedded, nil
	}

	spec, ok := rt.embedded.contract.Spec(cmd.Ref)
	if !ok {
		return zero, "", &services.Error{Code: services.CodeInternal, Detail: "An unknown AI Dawg command was called.",
			Err: fmt.Errorf("%s is not in the contract", cmd.Ref)}
	}
	params, err := json.Marshal(p)
	if err != nil {
		return zero, "", &services.Error{Code: services.CodeInternal, Detail: "The params of an AI Dawg command could not be encoded.", Err: err}
	}
	data, rerr := rt.remote.execute(ctx, spec, params)
	if rerr == nil {
		var out R
		if err := json.Unmarshal(data, &out); err != nil {
			return zero, ServedByRemote, &services.Error{Code: services.CodeBadGateway, Err: err,
				Detail: fmt.Sprintf("AI Dawg's result of %s could not be read. Retry once; if it fails again, tell the user the action is unavailable.", cmd.Ref)}
		}
		return out, ServedByRemote, nil
	}

	if rt.fallback && rt.embedded.Implements(cmd.Ref) && rerr.fallbackAllowed(spec.SideEffects) && ctx.Err() == nil {
		rt.log.Warn().Str("command", cmd.Ref.String()).Str("requestId", services.RequestID(ctx)).
			Int("attempts", rerr.attempts).Str("remoteFailure", rerr.message).
			Msg("aidawg remote failed; the embedded module serves the command")
		out, f := invokeTraced(ctx, rt.embedded, cmd, p)
		if f != nil {
			return zero, ServedByEmbedded, failureError(cmd.Ref, f)
		}
		return out, ServedByEmbedded, nil
	}
	return zero, ServedByRemote, rerr.serviceError(cmd.Ref, rt.remote.opts)
}

// failureError is the service error for a handled AI Dawg failure.
func failureError(ref Ref, f *Failure) *services.Error {
	return codeError(ref, f.Code, f.Message, f.Fields, f.RetryAfter, f)
}

func codeError(ref Ref, code aidawg.ErrorCode, message string, fields []services.FieldError, retryAfter time.Duration, cause error) *services.Error {
	msg := quote(message)
	switch code {
	case aidawg.INVALIDPARAMS:
		return &services.Error{Code: services.CodeUnprocessable, Fields: fields, Err: cause,
			Detail: fmt.Sprintf("AI Dawg refused the parameters of %s: %s Correct them and call again.", ref, msg)}
	case aidawg.UNSUPPORTEDMEDIA:
		return &services.Error{Code: services.CodeUnsupportedMedia, Fields: fields, Err: cause,
			Detail: fmt.Sprintf("AI Dawg cannot read the media given to %s: %s", ref, msg)}
	case aidawg.NOTFOUND:
		return &services.Error{Code: services.CodeNotFound, Fields: fields, Err: cause, Detail: message}
	case aidawg.CONFLICT:
		return &services.Error{Code: services.CodeConflict, Fields: fields, Err: cause, Detail: message}
	case aidawg.ACTIONNOTFOUND, aidawg.MODULENOTFOUND:
		return &services.Error{Code: services.CodeNotImplemented, Err: cause,
			Detail: fmt.Sprintf("AI Dawg does not carry out %s on this server: %s Call getIntegrationInfo to see which operations are available.", ref, msg)}
	case aidawg.RATELIMITEXCEEDED, aidawg.SERVICEUNAVAILABLE:
		ra := seconds(retryAfter, defaultRetryAfter)
		return &services.Error{Code: services.CodeUnavailable, RetryAfter: ra, Err: cause,
			Detail: fmt.Sprintf("AI Dawg cannot carry out %s right now: %s Retry after %d seconds.", ref, msg, ra)}
	}
	return &services.Error{Code: services.CodeBadGateway, Err: cause,
		Detail: fmt.Sprintf("AI Dawg could not carry out %s: %s Retry once; if it fails again, tell the user the action failed.", ref, msg)}
}

// serviceError is the service error for a failed call to the remote backend.
func (e *remoteError) serviceError(ref Ref, opts RemoteOptions) *services.Error {
	tries := "once"
	if e.attempts > 1 {
		tries = fmt.Sprintf("%d times", e.attempts)
	}
	switch e.kind {
	case kindAnswered:
		return codeError(ref, e.code, e.message, e.fields, e.retryAfter, e)
	case kindRefused, kindTransport, kindUnavailable, kindRateLimited:
		ra := seconds(e.retryAfter, defaultRetryAfter)
		return &services.Error{Code: services.CodeUnavailable, RetryAfter: ra, Err: e,
			Detail: fmt.Sprintf("AI Dawg is unavailable for %s (%s; tried %s). Retry after %d seconds.", ref, clean(e.message), tries, ra)}
	case kindCircuitOpen:
		ra := seconds(e.retryAfter, opts.BreakerCooldown)
		return &services.Error{Code: services.CodeUnavailable, RetryAfter: ra, Err: e,
			Detail: fmt.Sprintf("AI Dawg's %s module is failing, so Jarvis is not calling it for now. Retry after %d seconds.", ref.Module, ra)}
	case kindAttemptTimeout, kindBudget, kindCanceled:
		return &services.Error{Code: services.CodeTimeout, Err: e,
			Detail: fmt.Sprintf("AI Dawg did not answer %s in time (tried %s, up to %s each). Retry later; the platform may be busy.", ref, tries, opts.AttemptTimeout)}
	case kindStatus:
		if e.status == 504 {
			return &services.Error{Code: services.CodeTimeout, Err: e,
				Detail: fmt.Sprintf("AI Dawg's gateway timed out on %s (tried %s). Retry later; the platform may be busy.", ref, tries)}
		}
	}
	return &services.Error{Code: services.CodeBadGateway, Err: e,
		Detail: fmt.Sprintf("AI Dawg answered %s with %s (tried %s). Retry once; if it fails again, tell the user the action is unavailable.", ref, clean(e.message), tries)}
}

// seconds rounds d up to whole seconds, at least 1, using def when d is zero.
func seconds(d, def time.Duration) int {
	if d <= 0 {
		d = def
	}
	return max(1, int(math.Ceil(d.Seconds())))
}

// quote makes text from the backend fit to end a sentence of a problem's detail.
func quote(s string) string {
	s = clean(s)
	if s == "" {
		return "no reason given."
	}
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// clean makes text from the backend fit for a problem's detail: one line, bounded, with no
// full stop at the end.
func clean(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.TrimSpace(s))
	if r := []rune(s); len(r) > 300 {
		s = string(r[:300]) + "…"
	}
	return strings.TrimRight(s, ". ")
}
