package modules

import (
	"context"
	"errors"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/telemetry"
)

// routerMetrics are the router's Prometheus series.
type routerMetrics struct {
	calls    *prometheus.CounterVec // by command, servedBy and outcome
	attempts *prometheus.CounterVec // remote attempts by module and outcome

	// Each call's counter is looked up once, since making its label costs an allocation.
	mu      sync.RWMutex
	counted map[callKey]prometheus.Counter
}

type callKey struct {
	ref Ref
	by  ServedBy
	out string
}

func (m *routerMetrics) called(ref Ref, by ServedBy, out string) {
	k := callKey{ref, by, out}
	m.mu.RLock()
	c, ok := m.counted[k]
	m.mu.RUnlock()
	if !ok {
		c = m.calls.WithLabelValues(ref.String(), string(by), out)
		m.mu.Lock()
		m.counted[k] = c
		m.mu.Unlock()
	}
	c.Inc()
}

// Instrument registers the router's metrics on reg: calls by command, who served them and
// their outcome; attempts at the remote backend by module and outcome; and each module's
// circuit state (0 closed, 1 half-open, 2 open) when there is a remote.
func (rt *Router) Instrument(reg prometheus.Registerer) error {
	m := &routerMetrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jarvis_aidawg_calls_total",
			Help: "Calls of AI Dawg commands through the module router, by command, what served them (embedded or remote) and outcome (ok or the error code).",
		}, []string{"command", "served_by", "outcome"}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jarvis_aidawg_remote_attempts_total",
			Help: "Attempts at the remote AI Dawg backend, by module and outcome (ok or what failed).",
		}, []string{"module", "outcome"}),
		counted: map[callKey]prometheus.Counter{},
	}
	cs := []prometheus.Collector{m.calls, m.attempts}
	if rt.remote != nil {
		for name, b := range rt.remote.breakers {
			cs = append(cs, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name:        "jarvis_aidawg_circuit_state",
				Help:        "State of a module's circuit breaker towards the remote AI Dawg: 0 closed, 1 half-open, 2 open.",
				ConstLabels: prometheus.Labels{"module": name},
			}, func() float64 { return float64(b.cb.State()) }))
		}
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	rt.metrics = m
	if rt.remote != nil {
		rt.remote.attempts = m.attempts
	}
	return nil
}

// outcome is the label of a call's result: ok, or its service error's code.
func outcome(err error) string {
	if err == nil {
		return "ok"
	}
	var se *services.Error
	if errors.As(err, &se) {
		return string(se.Code)
	}
	return string(services.CodeInternal)
}

// startCall opens the router's span of a command.
func startCall(ctx context.Context, ref Ref) (context.Context, trace.Span) {
	if !telemetry.Recording(ctx) {
		return ctx, trace.SpanFromContext(ctx)
	}
	return telemetry.Tracer().Start(ctx, "router "+ref.String(), trace.WithAttributes(
		attribute.String("aidawg.module", ref.Module), attribute.String("aidawg.action", ref.Action)))
}

// endCall records a command's outcome on its span and in the metrics.
func (rt *Router) endCall(span trace.Span, ref Ref, by ServedBy, err error) {
	out := outcome(err)
	if rt.metrics != nil {
		rt.metrics.called(ref, by, out)
	}
	if span.IsRecording() {
		span.SetAttributes(attribute.String("aidawg.served_by", string(by)), attribute.String("jarvis.outcome", out))
		telemetry.Fail(span, err)
		span.End()
	}
}

// invokeTraced runs the embedded module under a span of its own.
func invokeTraced[P, R any](ctx context.Context, rt *Runtime, cmd Command[P, R], p P) (R, *Failure) {
	if !telemetry.Recording(ctx) {
		return Invoke(ctx, rt, cmd, p)
	}
	ctx, span := telemetry.Tracer().Start(ctx, "embedded "+cmd.Ref.String())
	defer span.End()
	out, f := Invoke(ctx, rt, cmd, p)
	if f != nil {
		span.SetAttributes(attribute.String("aidawg.error_code", string(f.Code)))
		telemetry.Fail(span, f)
	}
	return out, f
}

// attemptOutcomes names each failKind in the attempt metrics and spans.
var attemptOutcomes = map[failKind]string{
	kindRefused: "refused", kindTransport: "transport", kindAttemptTimeout: "attempt_timeout", kindBudget: "budget",
	kindCanceled: "canceled", kindStatus: "status", kindUnavailable: "unavailable", kindRateLimited: "rate_limited",
	kindAnswered: "answered", kindMalformed: "malformed", kindCircuitOpen: "circuit_open",
}
