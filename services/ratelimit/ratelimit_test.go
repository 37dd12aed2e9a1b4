package ratelimit

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/ulule/limiter/v3"

	"github.com/aidawg/jarvis/services"
)

var caller = services.Principal{Tenant: "t", User: "u", KeyID: "abcdefgh2345", Method: services.MethodAPIKey}

func rates(s string) map[string]services.Rate {
	o, err := ParseRates(s)
	if err != nil {
		panic(err)
	}
	return ResolveRates(o)
}

func TestResolveRates(t *testing.T) {
	r := rates("")
	assert.Equal(t, services.Rate{Limit: 10, Period: time.Hour}, r["music.generate"])
	assert.Equal(t, services.Rate{Limit: 1000, Period: time.Hour}, r["jobs.read"])
	assert.Equal(t, services.Rate{Limit: 100, Period: time.Hour}, r[DefaultClass])
	r = rates("*=7/1m,music.generate=3")
	assert.Equal(t, services.Rate{Limit: 3, Period: time.Hour}, r["music.generate"])
	assert.Equal(t, services.Rate{Limit: 7, Period: time.Minute}, r["jobs.read"])
	assert.Equal(t, services.Rate{Limit: 7, Period: time.Minute}, r[DefaultClass])
}

func TestTakeCountsPerCallerAndClass(t *testing.T) {
	t.Parallel()
	l := NewMemory(Config{Rates: rates("music.generate=3")}, zerolog.Nop())
	ctx := context.Background()
	for i := 2; i >= 0; i-- {
		res, err := l.Take(ctx, caller, "music.generate", false)
		require.NoError(t, err)
		assert.True(t, res.Allowed())
		assert.Equal(t, int64(i), res.Limit.Remaining)
		assert.Equal(t, int64(3), res.Limit.Rate.Limit)
		assert.WithinDuration(t, time.Now().Add(time.Hour), res.Limit.Reset, 2*time.Second)
	}
	res, err := l.Take(ctx, caller, "music.generate", false)
	require.NoError(t, err)
	assert.False(t, res.Allowed())
	assert.Equal(t, int64(0), res.Limit.Remaining)
	assert.InDelta(t, 3600, res.Limit.RetryAfter(time.Now()), 2)

	// Another class and another caller have counts of their own.
	res, err = l.Take(ctx, caller, "music.analyze", false)
	require.NoError(t, err)
	assert.True(t, res.Allowed())
	other := caller
	other.KeyID = "bbbbbbbbbbbb"
	res, err = l.Take(ctx, other, "music.generate", false)
	require.NoError(t, err)
	assert.True(t, res.Allowed())

	status, err := l.Status(ctx, caller, []string{"music.generate", "music.analyze", "jobs.read"})
	require.NoError(t, err)
	require.Len(t, status, 3)
	assert.Equal(t, int64(0), status[0].Remaining)
	assert.Equal(t, int64(99), status[1].Remaining)
	assert.Equal(t, int64(1000), status[2].Remaining)
}

func TestKeyOverridesAndQuota(t *testing.T) {
	t.Parallel()
	l := NewMemory(Config{Rates: rates(""), DailyQuota: 100}, zerolog.Nop())
	ctx := context.Background()
	p := caller
	p.Limits = map[string]services.Rate{"*": {Limit: 50, Period: time.Hour}, "music.generate": {Limit: 5, Period: time.Minute}}
	p.DailyQuota = 2
	assert.Equal(t, services.Rate{Limit: 5, Period: time.Minute}, l.Rate(p, "music.generate"))
	assert.Equal(t, services.Rate{Limit: 50, Period: time.Hour}, l.Rate(p, "jobs.read"))
	assert.Equal(t, int64(2), l.Quota(p))
	assert.Equal(t, int64(100), l.Quota(caller))

	first, err := l.Take(ctx, p, "music.generate", true)
	require.NoError(t, err)
	require.NotNil(t, first.Quota)
	assert.Equal(t, QuotaClass, first.Quota.Class)
	assert.Equal(t, int64(1), first.Quota.Remaining)
	midnight := time.Now().UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
	assert.Equal(t, midnight, first.Quota.Reset.UTC())

	// A failed call gives its quota back.
	l.Refund(ctx, p, first)
	res, err := l.Take(ctx, p, "music.generate", true)
	require.NoError(t, err)
	assert.Equal(t, int64(1), res.Quota.Remaining)
	res, err = l.Take(ctx, p, "automation.forecasts", true)
	require.NoError(t, err)
	assert.True(t, res.Allowed())
	assert.Equal(t, int64(0), res.Quota.Remaining)
	res, err = l.Take(ctx, p, "automation.forecasts", true)
	require.NoError(t, err)
	assert.False(t, res.Allowed())
	assert.True(t, res.Limit.Allowed, "the class limit still had room")
	assert.False(t, res.Quota.Allowed)

	// Calls that are not costly do not touch the quota.
	res, err = l.Take(ctx, p, "jobs.read", false)
	require.NoError(t, err)
	assert.True(t, res.Allowed())
	assert.Nil(t, res.Quota)
}

func TestTakeInvalidMovesTheCallToTheInvalidBudget(t *testing.T) {
	t.Parallel()
	l := NewMemory(Config{Rates: rates("music.generate=2,invalid=2")}, zerolog.Nop())
	ctx := context.Background()
	assert.Equal(t, services.Rate{Limit: 100, Period: time.Hour}, rates("")[InvalidClass])
	for i := 1; i >= 0; i-- {
		res, err := l.Take(ctx, caller, "music.generate", false)
		require.NoError(t, err)
		require.True(t, res.Allowed())
		d, err := l.TakeInvalid(ctx, caller, "music.generate")
		require.NoError(t, err)
		assert.Equal(t, InvalidClass, d.Class)
		assert.True(t, d.Allowed)
		assert.Equal(t, int64(i), d.Remaining)
	}
	res, err := l.Take(ctx, caller, "music.generate", false)
	require.NoError(t, err)
	require.True(t, res.Allowed())
	d, err := l.TakeInvalid(ctx, caller, "music.generate")
	require.NoError(t, err)
	assert.False(t, d.Allowed, "past the invalid budget")

	// Every invalid call gave its count back: the class still has both of its calls.
	status, err := l.Status(ctx, caller, []string{"music.generate"})
	require.NoError(t, err)
	assert.Equal(t, int64(2), status[0].Remaining)
}

func TestAuthFailuresPerAddress(t *testing.T) {
	t.Parallel()
	l := NewMemory(Config{AuthFailures: services.Rate{Limit: 2, Period: time.Minute}}, zerolog.Nop())
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		d, err := l.AuthAllowed(ctx, "192.0.2.1")
		require.NoError(t, err)
		assert.True(t, d.Allowed)
		_, err = l.AuthFailed(ctx, "192.0.2.1")
		require.NoError(t, err)
	}
	d, err := l.AuthAllowed(ctx, "192.0.2.1")
	require.NoError(t, err)
	assert.False(t, d.Allowed)
	d, err = l.AuthAllowed(ctx, "192.0.2.2")
	require.NoError(t, err)
	assert.True(t, d.Allowed)
}

// failingStore fails while down is set, and counts the calls that reached it.
type failingStore struct {
	limiter.Store
	down  atomic.Bool
	calls atomic.Int64
}

func (s *failingStore) Get(ctx context.Context, key string, r limiter.Rate) (limiter.Context, error) {
	s.calls.Add(1)
	if s.down.Load() {
		return limiter.Context{}, errors.New("connection refused")
	}
	return s.Store.Get(ctx, key, r)
}

func (s *failingStore) Peek(ctx context.Context, key string, r limiter.Rate) (limiter.Context, error) {
	s.calls.Add(1)
	if s.down.Load() {
		return limiter.Context{}, errors.New("connection refused")
	}
	return s.Store.Peek(ctx, key, r)
}

func TestStoreErrorPolicies(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	newLimited := func(p Policy) (*Limiter, *failingStore) {
		fs := &failingStore{Store: newMemoryStore()}
		fs.down.Store(true)
		return newLimiter(Config{Rates: rates("music.generate=2"), OnStoreError: p, StoreRetry: time.Hour}, zerolog.Nop(), fs, true), fs
	}

	t.Run("memory", func(t *testing.T) {
		l, fs := newLimited(PolicyMemory)
		var allowed int
		for i := 0; i < 5; i++ {
			res, err := l.Take(ctx, caller, "music.generate", false)
			require.NoError(t, err)
			assert.True(t, res.Limit.Degraded)
			if res.Allowed() {
				allowed++
			}
		}
		assert.Equal(t, 2, allowed)
		assert.Equal(t, int64(1), fs.calls.Load(), "the failed store is left alone for StoreRetry")
	})
	t.Run("allow", func(t *testing.T) {
		l, _ := newLimited(PolicyAllow)
		for i := 0; i < 5; i++ {
			res, err := l.Take(ctx, caller, "music.generate", false)
			require.NoError(t, err)
			assert.True(t, res.Allowed())
		}
	})
	t.Run("deny", func(t *testing.T) {
		l, _ := newLimited(PolicyDeny)
		_, err := l.Take(ctx, caller, "music.generate", false)
		se, ok := services.AsError(err)
		require.True(t, ok, "%v", err)
		assert.Equal(t, services.CodeUnavailable, se.Code)
		assert.Positive(t, se.RetryAfter)
	})
	t.Run("recovers", func(t *testing.T) {
		fs := &failingStore{Store: newMemoryStore()}
		fs.down.Store(true)
		l := newLimiter(Config{Rates: rates(""), StoreRetry: time.Millisecond}, zerolog.Nop(), fs, true)
		res, err := l.Take(ctx, caller, "jobs.read", false)
		require.NoError(t, err)
		assert.True(t, res.Limit.Degraded)
		fs.down.Store(false)
		deadline := time.Now().Add(5 * time.Second)
		for res.Limit.Degraded && time.Now().Before(deadline) {
			res, err = l.Take(ctx, caller, "jobs.read", false)
			require.NoError(t, err)
		}
		assert.False(t, res.Limit.Degraded, "the store is used again once it answers")
	})
}

// Only addresses that failed here look up the shared failure count.
func TestAuthAllowedLooksUpOnlySuspects(t *testing.T) {
	t.Parallel()
	fs := &failingStore{Store: newMemoryStore()}
	l := newLimiter(Config{AuthFailures: services.Rate{Limit: 1, Period: time.Minute}}, zerolog.Nop(), fs, true)
	ctx := context.Background()
	d, err := l.AuthAllowed(ctx, "192.0.2.1")
	require.NoError(t, err)
	assert.True(t, d.Allowed)
	assert.Equal(t, int64(0), fs.calls.Load())

	// Another replica's failures are in the shared store; this one looks them up once the
	// address has failed here too.
	_, err = fs.Store.Get(ctx, "a:192.0.2.1", limiter.Rate{Limit: 1, Period: time.Minute})
	require.NoError(t, err)
	_, err = l.AuthFailed(ctx, "192.0.2.1")
	require.NoError(t, err)
	d, err = l.AuthAllowed(ctx, "192.0.2.1")
	require.NoError(t, err)
	assert.False(t, d.Allowed)
	assert.Equal(t, int64(2), fs.calls.Load())
}

// Decisions are counted by class, and each failure of the shared store once.
func TestLimiterMetrics(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fs := &failingStore{Store: newMemoryStore()}
	l := newLimiter(Config{Rates: rates("music.generate=1"), StoreRetry: time.Millisecond}, zerolog.Nop(), fs, true)
	reg := prometheus.NewRegistry()
	require.NoError(t, l.Instrument(reg))

	for range 2 {
		_, err := l.Take(ctx, caller, "music.generate", false)
		require.NoError(t, err)
	}
	fs.down.Store(true)
	_, err := l.Take(ctx, caller, "music.generate", false)
	require.NoError(t, err)

	assert.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP jarvis_ratelimit_store_errors_total Failed calls to the shared rate-limit store (Redis).
# TYPE jarvis_ratelimit_store_errors_total counter
jarvis_ratelimit_store_errors_total 1
`), "jarvis_ratelimit_store_errors_total"))
	assert.Equal(t, 1.0, testutil.ToFloat64(l.metrics.decisions.WithLabelValues("music.generate", "allowed")))
	assert.Equal(t, 1.0, testutil.ToFloat64(l.metrics.decisions.WithLabelValues("music.generate", "limited")))
	assert.Equal(t, 1.0, testutil.ToFloat64(l.metrics.decisions.WithLabelValues("music.generate", "degraded_allowed")),
		"the memory policy counts afresh, so the degraded call is allowed")
}
