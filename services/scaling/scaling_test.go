package scaling

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/jobs"
	"github.com/aidawg/jarvis/services/storage"
	"github.com/aidawg/jarvis/services/storage/storagetest"
)

func TestLimiterResizes(t *testing.T) {
	l := NewLimiter(2)
	require.True(t, l.TryAcquire())
	require.True(t, l.TryAcquire())
	assert.False(t, l.TryAcquire(), "both slots are taken")

	got := make(chan error, 1)
	go func() { got <- l.Acquire(context.Background()) }()
	require.Eventually(t, func() bool { return l.Usage().Waiting == 1 }, 5*time.Second, time.Millisecond)
	l.SetLimit(3)
	require.NoError(t, <-got, "raising the limit lets the waiter in")
	assert.Equal(t, Usage{Limit: 3, InUse: 3}, l.Usage())

	l.SetLimit(1)
	l.Release()
	assert.False(t, l.TryAcquire(), "2 in use, limit 1: the holders above it drain first")
	l.Release()
	assert.False(t, l.TryAcquire())
	l.Release()
	assert.True(t, l.TryAcquire(), "below the new limit again")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, l.Acquire(ctx), context.DeadlineExceeded)
	assert.Zero(t, l.Usage().Waiting)
}

func newService(t *testing.T, db *storage.DB, cfg Config) *Service {
	t.Helper()
	s, err := New(context.Background(), cfg, db, zerolog.Nop())
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// Jobs admitted concurrently never exceed their pools: one music generation at a time under a
// limit of 1, and at most the workers' limit in all.
func TestAdmitKeepsJobsWithinTheirPools(t *testing.T) {
	db := storagetest.Open(t, storagetest.SQLiteURL(t))
	s := newService(t, db, Config{Initial: map[string]int{Workers: 3, MusicGeneration: 1}, PollInterval: time.Second, Window: time.Minute})
	var music, all, maxMusic, maxAll atomic.Int32
	raise := func(v *atomic.Int32, n int32) {
		for {
			old := v.Load()
			if n <= old || v.CompareAndSwap(old, n) {
				return
			}
		}
	}
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			typ := jobs.TypeForecast
			if i%2 == 0 {
				typ = jobs.TypeMusicGeneration
			}
			for {
				release, ok := s.Admit(context.Background(), typ, time.Now())
				if !ok {
					continue
				}
				raise(&maxAll, all.Add(1))
				if typ == jobs.TypeMusicGeneration {
					raise(&maxMusic, music.Add(1))
				}
				time.Sleep(2 * time.Millisecond) // the job's work
				if typ == jobs.TypeMusicGeneration {
					music.Add(-1)
				}
				all.Add(-1)
				release()
				return
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, int32(1), maxMusic.Load(), "music generation ran one at a time")
	assert.LessOrEqual(t, maxAll.Load(), int32(3))
	assert.Equal(t, Usage{Limit: 3}, s.Limiter(Workers).Usage(), "every slot was given back")
}

// load is a synthetic demand of work units wanting a slot: the slots in use are the demand up
// to the limit.
func utilization(demand float64) func(name, metric string, limit int) (float64, bool) {
	return func(_, _ string, limit int) (float64, bool) {
		return math.Min(demand, float64(limit)) / float64(limit), true
	}
}

// Auto-optimize converges on a steady load, does not flap on a noisy one, and shrinks a pool
// only once the stabilisation window has passed since the higher recommendations.
func TestAutoOptimizeConvergesWithoutOscillating(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s := newService(t, db, Config{Initial: map[string]int{Workers: 4}, Bounds: map[string]Bounds{Workers: {1, 64}},
			PollInterval: time.Second, Window: time.Minute, Stabilization: 5 * time.Minute})
		clock := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
		s.now = func() time.Time { return clock }
		step := func(demand float64) int {
			clock = clock.Add(30 * time.Second)
			s.observe = utilization(demand)
			_, err := s.Manage(ctx, "test", Request{Action: "auto-optimize", Pool: Workers, TargetMetric: MetricUtilization})
			require.NoError(t, err)
			return s.Limiter(Workers).Usage().Limit
		}

		// Steady demand of 10: 4 -> 6 -> 9 -> 13, then within 10% of 0.7 and left alone.
		var path []int
		for range 12 {
			path = append(path, step(10))
		}
		assert.Equal(t, []int{6, 9, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13}, path)

		// Demand alternating 9 and 11: one step up for the peak, then held; never down and up again.
		path = nil
		for i := range 20 {
			path = append(path, step(9+2*float64(i%2)))
		}
		for i := 1; i < len(path); i++ {
			assert.GreaterOrEqual(t, path[i], path[i-1], "no scale-down while higher recommendations are recent: %v", path)
		}
		assert.Equal(t, 16, path[len(path)-1], "%v", path)

		// Demand falls to 2: the pool is held for the stabilisation window, then shrinks to fit.
		path = nil
		for range 16 {
			path = append(path, step(2))
		}
		held := 0
		for _, n := range path {
			if n == 16 {
				held++
			}
		}
		assert.Equal(t, 10, held, "held while the last high recommendation is within 5 minutes, its end included (30 s steps): %v", path)
		assert.Equal(t, 3, path[len(path)-1], "%v", path)
		for i := held; i < len(path); i++ {
			assert.Equal(t, 3, path[i], "stable once shrunk: %v", path)
		}

		rep, err := s.Manage(ctx, "test", Request{Action: "get-status", Pool: Workers})
		require.NoError(t, err)
		last := rep.History[0]
		assert.Equal(t, Change{Pool: Workers, From: 16, To: 3, Action: "auto-optimize", By: "test", At: last.At,
			Reason: "utilization 0.125 against a target of 0.7: ceil(16 × 0.125 / 0.7) = 3"}, last)
	})
}

// Queue depth counts the work waiting as well as running: one step to the demand.
func TestAutoOptimizeByQueueDepthAndCost(t *testing.T) {
	db := storagetest.Open(t, storagetest.SQLiteURL(t))
	s := newService(t, db, Config{Initial: map[string]int{MusicGeneration: 2}, Costs: map[string]float64{MusicGeneration: 0.5},
		PollInterval: time.Second, Window: time.Minute, Stabilization: time.Minute})
	s.observe = func(_, _ string, limit int) (float64, bool) { return 12 / float64(limit), true }
	rep, err := s.Manage(context.Background(), "test", Request{Action: "auto-optimize", Pool: MusicGeneration, TargetMetric: MetricQueueDepth,
		MaxCost: ptr(4.0)})
	require.NoError(t, err)
	require.Len(t, rep.Changes, 1)
	assert.Equal(t, 8, rep.Changes[0].To, "12 wanted, 8 slots are all maxCost 4 buys at 0.5")
	assert.Contains(t, rep.Changes[0].Reason, "maxCost")
	assert.InDelta(t, 4.0, rep.Resources[0].CostPerHour, 1e-9)

	s.observe = func(string, string, int) (float64, bool) { return 0, false }
	rep, err = s.Manage(context.Background(), "test", Request{Action: "auto-optimize", Pool: MusicGeneration, TargetMetric: MetricLatency, TargetValue: ptr(500.0)})
	require.NoError(t, err)
	assert.Empty(t, rep.Changes)
	assert.Equal(t, []string{"music-generation: no latency observed within the last 1m0s, no change."}, rep.Notes)
}

func TestOutOfBoundsNamesTheField(t *testing.T) {
	db := storagetest.Open(t, storagetest.SQLiteURL(t))
	s := newService(t, db, Config{Initial: map[string]int{API: 10}, Bounds: map[string]Bounds{API: {5, 20}}, PollInterval: time.Second, Window: time.Minute})
	for _, tc := range []struct {
		r     Request
		field string
	}{
		{Request{Action: "scale-up", Pool: API, Instances: ptr(21)}, "/instances"},
		{Request{Action: "scale-down", Pool: API, Instances: ptr(4)}, "/instances"},
		{Request{Action: "scale-down", Pool: API, Instances: ptr(11)}, "/instances"},
		{Request{Action: "scale-up", Pool: API, MaxInstances: ptr(10)}, "/action"},
		{Request{Action: "scale-up", Pool: API, MinInstances: ptr(9), MaxInstances: ptr(8)}, "/constraints/minInstances"},
		{Request{Action: "scale-up"}, "/resource"},
	} {
		_, err := s.Manage(context.Background(), "test", tc.r)
		se, ok := services.AsError(err)
		require.True(t, ok, "%+v: %v", tc.r, err)
		assert.Equal(t, services.CodeValidation, se.Code)
		assert.Equal(t, tc.field, se.Fields[0].Field, "%+v: %s", tc.r, se.Detail)
	}
	assert.Equal(t, 10, s.Limiter(API).Usage().Limit, "nothing changed")
}

func TestParseSettings(t *testing.T) {
	b, err := ParseBounds("workers=2-8, api=10-10")
	require.NoError(t, err)
	assert.Equal(t, map[string]Bounds{Workers: {2, 8}, API: {10, 10}}, b)
	for _, bad := range []string{"workers=8-2", "cpu=1-2", "workers", "workers=1-2,workers=1-3", "workers=0-2"} {
		_, err := ParseBounds(bad)
		assert.Error(t, err, bad)
	}
	c, err := ParseCounts("api=256")
	require.NoError(t, err)
	assert.Equal(t, map[string]int{API: 256}, c)
	_, err = ParseCosts("music-generation=-1")
	assert.Error(t, err)
}

func ptr[T any](v T) *T { return &v }
