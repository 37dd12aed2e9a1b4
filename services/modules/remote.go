package modules

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/sony/gobreaker/v2"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/aidawg/jarvis/gen/aidawg"
	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/telemetry"
)

// RemoteOptions configure the client of a remote AI Dawg backend.
type RemoteOptions struct {
	URL              string        // scheme, host and optional path prefix of the backend
	AttemptTimeout   time.Duration // each attempt's deadline
	Budget           time.Duration // the whole call's deadline, retries and waits included
	MaxAttempts      int
	BackoffBase      time.Duration // the first retry waits up to this; each later one up to twice as long
	BackoffMax       time.Duration // cap of the backoff before jitter
	MaxResponseBytes int64
	BreakerFailures  int           // consecutive failures that open a module's circuit
	BreakerCooldown  time.Duration // how long an open circuit fails fast before one probe call
	HTTPClient       *http.Client  // nil: a client of its own; its Timeout should be 0
	Log              zerolog.Logger
}

// DefaultRemoteOptions are the defaults app's settings document.
func DefaultRemoteOptions() RemoteOptions {
	return RemoteOptions{
		AttemptTimeout:   10 * time.Second,
		Budget:           30 * time.Second,
		MaxAttempts:      3,
		BackoffBase:      200 * time.Millisecond,
		BackoffMax:       2 * time.Second,
		MaxResponseBytes: 4_000_000, // 4M, as the setting reads it
		BreakerFailures:  5,
		BreakerCooldown:  30 * time.Second,
	}
}

// defaultRetryAfter is what Jarvis tells callers to wait when the backend gave no hint.
const defaultRetryAfter = 5 * time.Second

// Remote calls a remote AI Dawg backend over its contract: each command with a deadline per
// attempt, retries with backoff for failures worth retrying, a circuit breaker per module, and
// every answer size-capped and checked against the contract before it is used.
type Remote struct {
	opts     RemoteOptions
	contract *Contract
	client   *aidawg.Client
	breakers map[string]*breaker
	attempts *prometheus.CounterVec // by module and outcome; nil until the router is instrumented
}

type breaker struct {
	cb       *gobreaker.TwoStepCircuitBreaker[struct{}]
	openedAt atomic.Int64 // unix nanoseconds of the last opening
}

var (
	errCountedFailure = errors.New("remote failure")
	errNotCounted     = errors.New("outcome not counted")
)

// NewRemote makes the client of the backend at opts.URL.
func NewRemote(contract *Contract, opts RemoteOptions) (*Remote, error) {
	if opts.MaxAttempts < 1 || opts.AttemptTimeout <= 0 || opts.Budget <= 0 || opts.MaxResponseBytes <= 0 ||
		opts.BreakerFailures < 1 || opts.BreakerCooldown <= 0 || opts.BackoffBase < 0 || opts.BackoffMax < opts.BackoffBase {
		return nil, fmt.Errorf("aidawg remote: invalid options %+v", opts)
	}
	httpClient := opts.HTTPClient
	if httpClient == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 32
		httpClient = &http.Client{Transport: tr}
	}
	client, err := aidawg.NewClient(opts.URL, aidawg.WithHTTPClient(httpClient),
		aidawg.WithRequestEditorFn(func(ctx context.Context, req *http.Request) error {
			if id := services.RequestID(ctx); id != "" {
				req.Header.Set("X-Request-ID", id)
			}
			telemetry.Inject(ctx, req.Header)
			return nil
		}))
	if err != nil {
		return nil, fmt.Errorf("aidawg remote: %w", err)
	}
	r := &Remote{opts: opts, contract: contract, client: client, breakers: map[string]*breaker{}}
	for _, module := range contract.Modules() {
		b := &breaker{}
		b.cb = gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
			Name:        module,
			MaxRequests: 1,
			Timeout:     opts.BreakerCooldown,
			ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= uint32(opts.BreakerFailures) },
			IsExcluded:  func(err error) bool { return errors.Is(err, errNotCounted) },
			OnStateChange: func(name string, from, to gobreaker.State) {
				if to == gobreaker.StateOpen {
					b.openedAt.Store(time.Now().UnixNano())
				}
				opts.Log.Warn().Str("module", name).Str("from", from.String()).Str("to", to.String()).
					Msg("aidawg circuit changed state")
			},
		})
		r.breakers[module] = b
	}
	return r, nil
}

// URL is the backend's address.
func (r *Remote) URL() string { return r.opts.URL }

// failKind says what went wrong with a call to the backend.
type failKind int

const (
	kindRefused        failKind = iota // no connection was made: the backend surely did not act
	kindTransport                      // the connection failed after the request was sent
	kindAttemptTimeout                 // an attempt ran out of time
	kindBudget                         // the call's whole time ran out
	kindCanceled                       // the caller went away
	kindStatus                         // an HTTP status the contract does not give the body for
	kindUnavailable                    // 503 or SERVICE_UNAVAILABLE
	kindRateLimited                    // 429 or RATE_LIMIT_EXCEEDED
	kindAnswered                       // a handled failure: INVALID_PARAMS, *_NOT_FOUND, EXECUTION_FAILED
	kindMalformed                      // not JSON, too large, or not what the contract says
	kindCircuitOpen                    // the module's circuit is open
)

// remoteError is a failed call to the backend.
type remoteError struct {
	kind       failKind
	status     int
	code       aidawg.ErrorCode
	message    string
	fields     []services.FieldError
	retryAfter time.Duration
	attempts   int
	err        error
}

func (e *remoteError) Error() string {
	return fmt.Sprintf("aidawg remote: kind %d status %d code %s: %s (%d attempts): %v",
		e.kind, e.status, e.code, e.message, e.attempts, e.err)
}

func (e *remoteError) Unwrap() error { return e.err }

// retryable says whether another attempt may succeed. A command with side effects is sent
// again only when the backend surely did not act on it.
func (e *remoteError) retryable(sideEffects bool) bool {
	switch e.kind {
	case kindRefused, kindUnavailable, kindRateLimited:
		return true
	case kindTransport, kindAttemptTimeout:
		return !sideEffects
	case kindStatus:
		return !sideEffects && (e.status == http.StatusBadGateway || e.status == http.StatusGatewayTimeout)
	}
	return false
}

// fallbackAllowed says whether the embedded module may serve the command instead: the remote
// is failing, and for a command with side effects, it surely did not act.
func (e *remoteError) fallbackAllowed(sideEffects bool) bool {
	switch e.kind {
	case kindRefused, kindUnavailable, kindRateLimited, kindCircuitOpen:
		return true
	case kindTransport, kindAttemptTimeout, kindBudget, kindStatus, kindMalformed:
		return !sideEffects
	}
	return false
}

// breakerOutcome is what the module's circuit counts for an attempt: failures of the backend
// count, answers (including handled failures) are successes, and being rate-limited or
// abandoned by the caller says nothing of the backend's health.
func breakerOutcome(e *remoteError) error {
	if e == nil {
		return nil
	}
	switch e.kind {
	case kindAnswered:
		return nil
	case kindRateLimited, kindCanceled:
		return errNotCounted
	case kindStatus:
		if e.status < 500 {
			return errNotCounted
		}
	}
	return errCountedFailure
}

type budgetKey struct{}

// WithBudget gives calls under ctx a time of their own instead of the remote's attempt
// timeout and call budget, which are sized for a caller waiting inline: a job's call of a long
// command (generate-music) may take as long as the job may.
func WithBudget(ctx context.Context, d time.Duration) context.Context {
	return context.WithValue(ctx, budgetKey{}, d)
}

// execute sends one command with retries and answers its result, checked against the
// contract.
func (r *Remote) execute(ctx context.Context, spec *Spec, params json.RawMessage) (json.RawMessage, *remoteError) {
	budget, attemptTimeout := r.opts.Budget, r.opts.AttemptTimeout
	if long, ok := ctx.Value(budgetKey{}).(time.Duration); ok {
		budget, attemptTimeout = long, long
	}
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	b := r.breakers[spec.Module]
	wait := &retryWait{exp: &backoff.ExponentialBackOff{
		// Full jitter: RandomizationFactor 1 spreads each wait uniformly over [0, 2×interval],
		// so half the base and half the cap make retry n wait up to min(base×2^(n-1), cap).
		InitialInterval: r.opts.BackoffBase / 2, RandomizationFactor: 1, Multiplier: 2, MaxInterval: r.opts.BackoffMax / 2,
	}}
	budgetLeft := budget
	if deadline, ok := ctx.Deadline(); ok {
		budgetLeft = time.Until(deadline)
	}
	var last *remoteError
	attempt := 0
	data, _ := backoff.Retry(ctx, func() (json.RawMessage, error) {
		attempt++
		actx, span := r.startAttempt(ctx, spec, attempt, b)
		done, err := b.cb.Allow()
		if err != nil {
			last = &remoteError{kind: kindCircuitOpen, attempts: attempt - 1, retryAfter: b.remaining(r.opts.BreakerCooldown),
				message: fmt.Sprintf("the %s module's circuit is open after repeated failures", spec.Module), err: err}
			r.endAttempt(span, spec, last)
			return nil, backoff.Permanent(last)
		}
		actx, acancel := context.WithTimeout(actx, attemptTimeout)
		data, rerr := r.attempt(actx, ctx, spec, params)
		acancel()
		done(breakerOutcome(rerr))
		r.endAttempt(span, spec, rerr)
		if rerr == nil {
			last = nil
			return data, nil
		}
		rerr.attempts = attempt
		last = rerr
		r.opts.Log.Debug().Str("command", spec.Ref.String()).Int("attempt", attempt).Err(rerr).Msg("aidawg attempt failed")
		if !rerr.retryable(spec.SideEffects) {
			return nil, backoff.Permanent(rerr)
		}
		wait.retryAfter = rerr.retryAfter
		return nil, rerr
	},
		backoff.WithBackOff(wait),
		backoff.WithMaxTries(uint(r.opts.MaxAttempts)),
		// No time left to wait and try again within the budget: the last failure is the answer.
		backoff.WithMaxElapsedTime(budgetLeft))
	if last != nil {
		return nil, last
	}
	return data, nil
}

// retryWait is the wait before a retry: the exponential backoff's, or the backend's
// Retry-After when that is longer.
type retryWait struct {
	exp        *backoff.ExponentialBackOff
	retryAfter time.Duration
}

func (w *retryWait) NextBackOff() time.Duration { return max(w.exp.NextBackOff(), w.retryAfter) }

func (w *retryWait) Reset() { w.exp.Reset() }

// startAttempt opens the span of one attempt, which names the module's circuit state as the
// attempt begins.
func (r *Remote) startAttempt(ctx context.Context, spec *Spec, n int, b *breaker) (context.Context, trace.Span) {
	if !telemetry.Recording(ctx) {
		return ctx, trace.SpanFromContext(ctx)
	}
	return telemetry.Tracer().Start(ctx, "aidawg.attempt", trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		attribute.String("aidawg.command", spec.Ref.String()), attribute.Int("aidawg.attempt", n),
		attribute.String("aidawg.circuit_state", b.cb.State().String())))
}

// endAttempt records an attempt's outcome on its span and in the metrics.
func (r *Remote) endAttempt(span trace.Span, spec *Spec, rerr *remoteError) {
	out := "ok"
	if rerr != nil {
		out = attemptOutcomes[rerr.kind]
	}
	if r.attempts != nil {
		r.attempts.WithLabelValues(spec.Module, out).Inc()
	}
	if span.IsRecording() {
		span.SetAttributes(attribute.String("jarvis.outcome", out))
		if rerr != nil {
			if rerr.status != 0 {
				span.SetAttributes(attribute.Int("http.response.status_code", rerr.status))
			}
			telemetry.Fail(span, rerr)
		}
		span.End()
	}
}

func (b *breaker) remaining(cooldown time.Duration) time.Duration {
	opened := b.openedAt.Load()
	if opened == 0 {
		return cooldown
	}
	left := cooldown - time.Since(time.Unix(0, opened))
	if left < time.Second {
		left = time.Second
	}
	return left
}

// callerOf names the caller to the backend, whose data and records are per tenant.
func callerOf(ctx context.Context) *aidawg.ExecuteParams {
	p, ok := services.PrincipalFrom(ctx)
	if !ok {
		return &aidawg.ExecuteParams{}
	}
	actor := p.Actor()
	return &aidawg.ExecuteParams{XAIDawgTenant: &p.Tenant, XAIDawgActor: &actor}
}

// attempt makes one call. ctx is the attempt's, call the whole call's.
func (r *Remote) attempt(ctx, call context.Context, spec *Spec, params json.RawMessage) (json.RawMessage, *remoteError) {
	resp, err := r.client.Execute(ctx, callerOf(call), aidawg.CommandRequest{Module: spec.Module, Action: spec.Action, Params: params})
	if err != nil {
		return nil, transportError(ctx, call, err)
	}
	defer resp.Body.Close()
	body, err := readCapped(resp, r.opts.MaxResponseBytes)
	if err != nil {
		if errors.Is(err, errTooLarge) {
			return nil, &remoteError{kind: kindMalformed, status: resp.StatusCode, err: err,
				message: fmt.Sprintf("an answer larger than %d bytes", r.opts.MaxResponseBytes)}
		}
		return nil, transportError(ctx, call, err)
	}
	return r.interpret(spec, resp, body)
}

func transportError(attempt, call context.Context, err error) *remoteError {
	switch {
	case errors.Is(call.Err(), context.Canceled):
		return &remoteError{kind: kindCanceled, message: "the caller went away", err: err}
	case call.Err() != nil:
		return &remoteError{kind: kindBudget, message: "no answer within the time allowed for the call", err: err}
	case attempt.Err() != nil:
		return &remoteError{kind: kindAttemptTimeout, message: "no answer within the time allowed for an attempt", err: err}
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return &remoteError{kind: kindRefused, message: "the connection was refused", err: err}
	}
	return &remoteError{kind: kindTransport, message: "the connection failed", err: err}
}

var errTooLarge = errors.New("answer exceeds the size limit")

func readCapped(resp *http.Response, limit int64) ([]byte, error) {
	if resp.ContentLength > limit {
		return nil, errTooLarge
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, errTooLarge
	}
	return b, nil
}

// interpret checks an answer against the contract and returns the result, or the failure.
func (r *Remote) interpret(spec *Spec, resp *http.Response, body []byte) (json.RawMessage, *remoteError) {
	status := resp.StatusCode
	retryAfter := parseRetryAfter(resp.Header.Get("Retry-After"))
	switch status {
	case http.StatusOK, http.StatusBadRequest, http.StatusNotFound, http.StatusInternalServerError:
	case http.StatusServiceUnavailable:
		return nil, &remoteError{kind: kindUnavailable, status: status, retryAfter: retryAfter,
			message: "AI Dawg answered 503 Service Unavailable" + backendMessage(body)}
	case http.StatusTooManyRequests:
		return nil, &remoteError{kind: kindRateLimited, status: status, retryAfter: retryAfter,
			message: "AI Dawg is rate-limiting Jarvis" + backendMessage(body)}
	default:
		return nil, &remoteError{kind: kindStatus, status: status,
			message: fmt.Sprintf("HTTP %d %s", status, http.StatusText(status))}
	}
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return nil, &remoteError{kind: kindMalformed, status: status,
			message: fmt.Sprintf("HTTP %d with a %q body instead of JSON", status, resp.Header.Get("Content-Type"))}
	}
	v, err := decode(body)
	if err != nil {
		return nil, &remoteError{kind: kindMalformed, status: status, message: "a body that is not valid JSON", err: err}
	}
	if err := r.contract.response.Validate(v); err != nil {
		return nil, &remoteError{kind: kindMalformed, status: status, err: err,
			message: "an answer off the contract: " + describe(err)}
	}
	var cr aidawg.CommandResponse
	if err := json.Unmarshal(body, &cr); err != nil {
		return nil, &remoteError{kind: kindMalformed, status: status, message: "an answer off the contract", err: err}
	}
	if !cr.Success {
		e := &remoteError{kind: kindAnswered, status: status, code: *cr.Code, message: *cr.Error, retryAfter: retryAfter}
		switch *cr.Code {
		case aidawg.RATELIMITEXCEEDED:
			e.kind = kindRateLimited
		case aidawg.SERVICEUNAVAILABLE:
			e.kind = kindUnavailable
		}
		if cr.Details != nil {
			for _, f := range cr.Details.Fields {
				e.fields = append(e.fields, services.FieldError{Field: f.Field, Message: f.Message})
			}
		}
		return nil, e
	}
	if status != http.StatusOK {
		return nil, &remoteError{kind: kindMalformed, status: status,
			message: fmt.Sprintf("success with HTTP %d", status)}
	}
	if err := spec.result.Validate(v.(map[string]any)["data"]); err != nil {
		return nil, &remoteError{kind: kindMalformed, status: status, err: err,
			message: fmt.Sprintf("a result of %s off the contract: %s", spec.Ref, describe(err))}
	}
	return *cr.Data, nil
}

// backendMessage quotes the error of a body that follows the contract, if it has one.
func backendMessage(body []byte) string {
	var cr struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &cr) != nil || cr.Error == "" {
		return ""
	}
	return ": " + cr.Error
}

// parseRetryAfter reads a Retry-After header as seconds or an HTTP date; 0 when absent or
// unreadable.
func parseRetryAfter(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}

// Circuits reports each module's circuit: closed, half-open or open.
func (r *Remote) Circuits() map[string]string {
	out := make(map[string]string, len(r.breakers))
	for name, b := range r.breakers {
		out[name] = b.cb.State().String()
	}
	return out
}

// Health asks the backend's health endpoint, checking its answer against the contract.
func (r *Remote) Health(ctx context.Context) (aidawg.DesktopHealthStatus, error) {
	resp, err := r.client.GetDesktopHealth(ctx)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := readCapped(resp, r.opts.MaxResponseBytes)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusServiceUnavailable {
		return "", fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	v, err := decode(body)
	if err != nil {
		return "", fmt.Errorf("HTTP %d with a body that is not JSON", resp.StatusCode)
	}
	if err := r.contract.health.Validate(v); err != nil {
		return "", fmt.Errorf("an answer off the contract: %s", describe(err))
	}
	var h aidawg.DesktopHealth
	if err := json.Unmarshal(body, &h); err != nil {
		return "", fmt.Errorf("an answer off the contract: %w", err)
	}
	return h.Status, nil
}
