package jobs

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/aidawg/jarvis/services/telemetry"
)

// jobMetrics are the job engine's Prometheus series; a nil *jobMetrics records nothing.
type jobMetrics struct {
	queuedTotal *prometheus.CounterVec   // by type
	runningNow  *prometheus.GaugeVec     // by type
	duration    *prometheus.HistogramVec // by type and outcome
	failures    *prometheus.CounterVec   // failed attempts by type and code
}

// Instrument registers the job metrics on reg: jobs queued, attempts running, the duration of
// each attempt by type and outcome, and failed attempts by type and error code.
func (s *Service) Instrument(reg prometheus.Registerer) error {
	m := &jobMetrics{
		queuedTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jarvis_jobs_queued_total", Help: "Jobs created and queued, by type.",
		}, []string{"type"}),
		runningNow: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "jarvis_jobs_running", Help: "Job attempts this process is running, by type.",
		}, []string{"type"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "jarvis_job_duration_seconds", Help: "Duration of job attempts, by type and outcome (ok, cancelled or the error code).",
			Buckets: []float64{.01, .05, .1, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600},
		}, []string{"type", "outcome"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jarvis_job_failures_total", Help: "Failed job attempts, by type and error code; retried attempts included.",
		}, []string{"type", "code"}),
	}
	for _, c := range []prometheus.Collector{m.queuedTotal, m.runningNow, m.duration, m.failures} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	s.metrics = m
	return nil
}

func (m *jobMetrics) queued(typ string) {
	if m != nil {
		m.queuedTotal.WithLabelValues(typ).Inc()
	}
}

// running counts an attempt of a job of typ as running until the returned function is called
// with the attempt's outcome.
func (m *jobMetrics) running(typ string) func(error) {
	if m == nil {
		return func(error) {}
	}
	start := time.Now()
	m.runningNow.WithLabelValues(typ).Inc()
	return func(err error) {
		m.runningNow.WithLabelValues(typ).Dec()
		out := "ok"
		switch {
		case errors.Is(err, ErrCancelRequested):
			out = "cancelled"
		case err != nil:
			out = string(problemOf(err).Code)
			m.failures.WithLabelValues(typ, out).Inc()
		}
		m.duration.WithLabelValues(typ, out).Observe(time.Since(start).Seconds())
	}
}

// startSpan opens a child span of ctx's span, when that one records.
func startSpan(ctx context.Context, name string, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	if !telemetry.Recording(ctx) {
		return ctx, trace.SpanFromContext(ctx)
	}
	return telemetry.Tracer().Start(ctx, name, trace.WithAttributes(attrs...))
}
