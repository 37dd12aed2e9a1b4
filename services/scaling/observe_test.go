package scaling

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/services/storage/storagetest"
)

// The p95 over the window comes from the difference of the histogram across it, interpolated
// within its bucket; work older than the window no longer counts.
func TestP95OverTheWindow(t *testing.T) {
	db := storagetest.Open(t, storagetest.SQLiteURL(t))
	s := newService(t, db, Config{PollInterval: time.Second, Window: time.Minute})
	clock := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return clock }
	reg := prometheus.NewRegistry()
	reg.MustRegister(s.Collector())
	s.obs = newObserver(s, reg)
	ctx := context.Background()

	// Work from before the window starts is the baseline, not part of the figure.
	for range 50 {
		s.held.WithLabelValues(AudioAnalysis).Observe(100)
	}
	s.obs.sample(ctx)
	assert.Nil(t, s.obs.p95(AudioAnalysis), "nothing observed within the window yet")

	clock = clock.Add(30 * time.Second)
	for range 90 {
		s.held.WithLabelValues(AudioAnalysis).Observe(0.03) // bucket (0.025, 0.05]
	}
	for range 10 {
		s.held.WithLabelValues(AudioAnalysis).Observe(3) // bucket (2.5, 5]
	}
	s.obs.sample(ctx)
	p := s.obs.p95(AudioAnalysis)
	require.NotNil(t, p)
	// Rank 95 of 100 is the 5th of the 10 in (2.5, 5]: 2.5 + 2.5 × 5/10.
	assert.InDelta(t, 3.75, p.Seconds(), 1e-9)
	ms, ok := s.obs.observed(AudioAnalysis, MetricLatency, 4)
	require.True(t, ok)
	assert.InDelta(t, 3750, ms, 1e-6)

	// In use over the window: every sample had 0 of 4 slots taken.
	u, ok := s.obs.observed(AudioAnalysis, MetricUtilization, 4)
	require.True(t, ok)
	assert.Zero(t, u)

	clock = clock.Add(2 * time.Minute)
	s.obs.sample(ctx)
	assert.Nil(t, s.obs.p95(AudioAnalysis), "the work has left the window")
}
