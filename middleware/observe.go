package middleware

import (
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"go.opentelemetry.io/otel/trace"

	"github.com/aidawg/jarvis/openapi"
	"github.com/aidawg/jarvis/services"
)

// Metrics are the request figures served at /metrics.
type Metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	// Totals of the contract's operations, for runHealthChecks' figures.
	total, errors atomic.Uint64
}

// RequestTotals counts the contract operations answered since start, and those answered
// with a 5xx status.
func (m *Metrics) RequestTotals() (total, errors uint64) {
	return m.total.Load(), m.errors.Load()
}

// NewMetrics registers the request metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jarvis_http_requests_total",
			Help: "HTTP requests by operation and status.",
		}, []string{"operation", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "jarvis_http_request_duration_seconds",
			Help:    "HTTP request latency by operation.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 20, 45},
		}, []string{"operation"}),
	}
	reg.MustRegister(m.requests, m.latency)
	return m
}

// Observe writes one access-log line and records metrics per request. An error from the
// chain is handed to the central error handler first, so that the logged status is the one
// the caller got; a panic is logged as 500 and passed on to the recover layer.
func Observe(log zerolog.Logger, m *Metrics, spec *openapi.Spec) echo.MiddlewareFunc {
	// Only the contract's operations become label values, so that arbitrary paths cannot
	// grow the metric series. Each operation's series are looked up once, not per request.
	other := &operationMetrics{name: "other", m: m}
	byOperation := make(map[*openapi.Operation]*operationMetrics, len(spec.Operations))
	for _, op := range spec.Operations {
		byOperation[op] = &operationMetrics{name: op.ID, m: m}
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			panicked := true
			defer func() {
				status := c.Response().Status
				if panicked {
					status = http.StatusInternalServerError
				}
				om := other
				if op, ok := spec.ByRoute(c.Request().Method, c.Path()); ok {
					om = byOperation[op]
				}
				record(log, om, c, status, time.Since(start))
			}()
			if err := next(c); err != nil {
				c.Error(err)
			}
			panicked = false
			return nil
		}
	}
}

// operationMetrics holds one operation's series once they exist; they are created on first use,
// as WithLabelValues would create them.
type operationMetrics struct {
	name     string
	m        *Metrics
	latency  atomic.Pointer[prometheus.Observer]
	byStatus [500]atomic.Pointer[prometheus.Counter] // by status - 100
}

func (om *operationMetrics) observe(status int, took time.Duration) {
	lat := om.latency.Load()
	if lat == nil {
		o := om.m.latency.WithLabelValues(om.name)
		lat = &o
		om.latency.Store(lat)
	}
	(*lat).Observe(took.Seconds())

	i := status - 100
	if i < 0 || i >= len(om.byStatus) {
		om.m.requests.WithLabelValues(om.name, strconv.Itoa(status)).Inc()
		return
	}
	cnt := om.byStatus[i].Load()
	if cnt == nil {
		c := om.m.requests.WithLabelValues(om.name, strconv.Itoa(status))
		cnt = &c
		om.byStatus[i].Store(cnt)
	}
	(*cnt).Inc()
}

func record(log zerolog.Logger, om *operationMetrics, c echo.Context, status int, took time.Duration) {
	req := c.Request()
	om.observe(status, took)
	if om.name != "other" {
		om.m.total.Add(1)
		if status >= 500 {
			om.m.errors.Add(1)
		}
	}

	ev := log.Info()
	if status >= 500 {
		ev = log.Error()
	}
	ev = ev.Str("requestId", services.RequestID(req.Context())).
		Str("method", req.Method).
		Str("route", c.Path()).
		Str("operation", om.name).
		Int("status", status).
		Float64("latencyMs", float64(took.Microseconds())/1000).
		Str("clientIp", c.RealIP())
	if sc := trace.SpanContextFromContext(req.Context()); sc.HasTraceID() {
		ev = ev.Str("traceId", sc.TraceID().String())
	}
	if p, ok := services.PrincipalFrom(req.Context()); ok {
		ev = ev.Str("authMethod", p.Method).Str("tenant", p.Tenant).Str("user", p.User)
		if p.KeyID != "" {
			ev = ev.Str("keyId", p.KeyID)
		}
	}
	if h := services.HintsFrom(req.Context()); h != (services.Hints{}) {
		ev = ev.Str("conversationIdHint", h.ConversationID).Str("ephemeralUserIdHint", h.EphemeralUserID)
	}
	ev.Msg("request")
}
