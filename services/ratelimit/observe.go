package ratelimit

import (
	"github.com/prometheus/client_golang/prometheus"
)

// limiterMetrics are the limiter's Prometheus series.
type limiterMetrics struct {
	decisions   *prometheus.CounterVec // by class and decision
	storeErrors prometheus.Counter
}

// Instrument registers the limiter's metrics on reg: each call's decision by class (allowed,
// limited, or unavailable when the store failed under the deny policy; degraded_ for a
// decision taken by the store-error policy), and failures of the shared store.
func (l *Limiter) Instrument(reg prometheus.Registerer) error {
	m := &limiterMetrics{
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jarvis_ratelimit_decisions_total",
			Help: "Rate-limit decisions by class and decision: allowed, limited, unavailable (store down under the deny policy), with a degraded_ prefix while the store-error policy decides.",
		}, []string{"class", "decision"}),
		storeErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "jarvis_ratelimit_store_errors_total",
			Help: "Failed calls to the shared rate-limit store (Redis).",
		}),
	}
	for _, c := range []prometheus.Collector{m.decisions, m.storeErrors} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	l.metrics = m
	return nil
}

func (m *limiterMetrics) decided(class string, d Decision, err error) {
	if m == nil {
		return
	}
	word := "allowed"
	switch {
	case err != nil:
		m.decisions.WithLabelValues(class, "unavailable").Inc()
		return
	case !d.Allowed:
		word = "limited"
	}
	if d.Degraded {
		word = "degraded_" + word
	}
	m.decisions.WithLabelValues(class, word).Inc()
}

func (m *limiterMetrics) storeFailed() {
	if m != nil {
		m.storeErrors.Inc()
	}
}
