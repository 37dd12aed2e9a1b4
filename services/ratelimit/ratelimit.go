// Package ratelimit counts calls per caller and class of action, over ulule/limiter stores:
// in memory for one replica, in Redis for replicas that share one count. It also keeps daily
// quotas of costly calls and the count of failed authentications per client address.
//
// The windows are ulule/limiter's fixed windows: a window starts at a key's first call and a
// caller can make up to twice the limit across a window boundary.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"github.com/ulule/limiter/v3"
	"github.com/ulule/limiter/v3/drivers/store/memory"

	"github.com/aidawg/jarvis/services"
)

// Policy is what happens to calls while the shared store fails.
type Policy string

const (
	// PolicyMemory counts in this replica's memory until the store answers again.
	PolicyMemory Policy = "memory"
	// PolicyAllow lets every call through, counting in memory only for the headers.
	PolicyAllow Policy = "allow"
	// PolicyDeny refuses calls as temporarily unavailable.
	PolicyDeny Policy = "deny"
)

// Policies lists the valid policies.
var Policies = []Policy{PolicyMemory, PolicyAllow, PolicyDeny}

// DefaultClass is the class whose rate applies to classes without one of their own.
const DefaultClass = "default"

// QuotaClass names the daily quota in headers and reports.
const QuotaClass = "daily-quota"

// InvalidClass is the budget of calls that validation refused. They count against it instead
// of their action's class, so that a model's malformed calls do not use up what the user's real
// actions may cost.
const InvalidClass = "invalid"

const hour = time.Hour

// DefaultRates are the hourly limits per class unless configured otherwise.
var DefaultRates = map[string]services.Rate{
	"music.generate":            {Limit: 10, Period: hour},
	"music.analyze":             {Limit: 100, Period: hour},
	"music.validate":            {Limit: 100, Period: hour},
	"marketing.metrics":         {Limit: 200, Period: hour},
	"marketing.campaigns":       {Limit: 50, Period: hour},
	"marketing.growth-analysis": {Limit: 20, Period: hour},
	"engagement.sentiment":      {Limit: 100, Period: hour},
	"engagement.churn":          {Limit: 50, Period: hour},
	"engagement.re-engage":      {Limit: 20, Period: hour},
	"automation.workflows":      {Limit: 50, Period: hour},
	"automation.forecasts":      {Limit: 20, Period: hour},
	"automation.scaling":        {Limit: 30, Period: hour},
	"testing.health":            {Limit: 200, Period: hour},
	"testing.validate":          {Limit: 100, Period: hour},
	"jobs.read":                 {Limit: 1000, Period: hour},
	InvalidClass:                {Limit: 100, Period: hour},
	DefaultClass:                {Limit: 100, Period: hour},
}

// ResolveRates applies overrides to the default rates: "*" first sets every class, then each
// named class takes its own.
func ResolveRates(overrides map[string]services.Rate) map[string]services.Rate {
	out := make(map[string]services.Rate, len(DefaultRates)+len(overrides))
	star, hasStar := overrides["*"]
	for c, r := range DefaultRates {
		if hasStar {
			r = star
		}
		out[c] = r
	}
	for c, r := range overrides {
		if c != "*" {
			out[c] = r
		}
	}
	return out
}

// Config is how the limiter counts.
type Config struct {
	Rates        map[string]services.Rate // per class, with DefaultClass; see ResolveRates
	DailyQuota   int64                    // costly calls per caller and UTC day; 0 for none
	AuthFailures services.Rate            // failed authentications per client address
	OnStoreError Policy
	// StoreRetry is how long the shared store is left alone after it failed, so that an
	// outage costs one timeout now and then rather than one per call.
	StoreRetry time.Duration
}

// Decision is the state of one limit after a call was counted or looked at.
type Decision struct {
	Class     string
	Rate      services.Rate
	Remaining int64
	Reset     time.Time
	Allowed   bool
	// Degraded is set when the shared store failed and the store-error policy decided.
	Degraded bool
}

// RetryAfter is the whole number of seconds, at least 1, until the window resets.
func (d Decision) RetryAfter(now time.Time) int {
	s := int(math.Ceil(d.Reset.Sub(now).Seconds()))
	if s < 1 {
		return 1
	}
	return s
}

// Result is what counting one call decided: the class limit, and the daily quota when the
// call is costly and a quota applies.
type Result struct {
	Limit Decision
	Quota *Decision
}

// Allowed reports whether the call may go ahead.
func (r Result) Allowed() bool {
	return r.Limit.Allowed && (r.Quota == nil || r.Quota.Allowed)
}

// Limiter counts calls against the configured limits.
type Limiter struct {
	cfg       Config
	log       zerolog.Logger
	primary   limiter.Store
	fallback  limiter.Store // this replica's memory, for the store-error policy
	shared    bool          // primary is shared between replicas and can fail
	downUntil atomic.Int64  // unix nanoseconds until which the primary is not asked
	now       func() time.Time
	closers   []func() error
	pinger    func(context.Context) error

	// suspects are the addresses this replica saw fail to authenticate within the window,
	// until its end. Only their calls look up the shared failure count, so that the calls of
	// everyone else cost no round trip to the store for it.
	suspectsMu sync.Mutex
	suspects   map[string]time.Time

	metrics *limiterMetrics // nil until Instrument
}

// maxSuspects bounds the memory suspects take; past it, the oldest are forgotten first.
const maxSuspects = 100_000

// NewMemory returns a limiter counting in this process's memory.
func NewMemory(cfg Config, log zerolog.Logger) *Limiter {
	return newLimiter(cfg, log, newMemoryStore(), false)
}

func newMemoryStore() limiter.Store {
	return memory.NewStoreWithOptions(limiter.StoreOptions{Prefix: "jarvis", CleanUpInterval: time.Minute})
}

func newLimiter(cfg Config, log zerolog.Logger, primary limiter.Store, shared bool) *Limiter {
	if cfg.Rates == nil {
		cfg.Rates = ResolveRates(nil)
	}
	if cfg.OnStoreError == "" {
		cfg.OnStoreError = PolicyMemory
	}
	if cfg.StoreRetry <= 0 {
		cfg.StoreRetry = 2 * time.Second
	}
	if cfg.AuthFailures.Period <= 0 {
		cfg.AuthFailures = services.Rate{Limit: 30, Period: 10 * time.Minute}
	}
	return &Limiter{cfg: cfg, log: log, primary: primary, fallback: newMemoryStore(), shared: shared, now: time.Now,
		suspects: map[string]time.Time{}}
}

// Close releases the store's connections.
func (l *Limiter) Close() error {
	var errs []error
	for _, c := range l.closers {
		errs = append(errs, c())
	}
	return errors.Join(errs...)
}

// Store names the store counting calls: memory or redis.
func (l *Limiter) Store() string {
	if l.shared {
		return "redis"
	}
	return "memory"
}

// Ping checks the shared store; a memory store is always there.
func (l *Limiter) Ping(ctx context.Context) error {
	if l.pinger == nil {
		return nil
	}
	return l.pinger(ctx)
}

// Rate is the rate that applies to p for class.
func (l *Limiter) Rate(p services.Principal, class string) services.Rate {
	if r, ok := p.Limits[class]; ok {
		return r
	}
	if r, ok := p.Limits["*"]; ok {
		return r
	}
	if r, ok := l.cfg.Rates[class]; ok {
		return r
	}
	return l.cfg.Rates[DefaultClass]
}

// Quota is p's daily quota of costly calls, 0 for none.
func (l *Limiter) Quota(p services.Principal) int64 {
	if p.DailyQuota > 0 {
		return p.DailyQuota
	}
	return l.cfg.DailyQuota
}

func classKey(class string, p services.Principal) string { return "c:" + class + ":" + p.Subject() }

func (l *Limiter) quotaKey(p services.Principal) (key string, reset time.Time) {
	now := l.now().UTC()
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	return "q:" + p.Subject() + ":" + day.Format("2006-01-02"), day.Add(24 * time.Hour)
}

// Take counts one call of class by p and decides whether it may go ahead. A costly call also
// counts against p's daily quota, once the class limit let it through. The error is a
// services.Error (unavailable) only under PolicyDeny while the store fails.
func (l *Limiter) Take(ctx context.Context, p services.Principal, class string, costly bool) (Result, error) {
	rate := l.Rate(p, class)
	d, err := l.count(ctx, classKey(class, p), rate, 1)
	l.metrics.decided(class, d, err)
	if err != nil {
		return Result{}, err
	}
	d.Class = class
	res := Result{Limit: d}
	if !d.Allowed || !costly {
		return res, nil
	}
	quota := l.Quota(p)
	if quota <= 0 {
		return res, nil
	}
	key, reset := l.quotaKey(p)
	q, err := l.count(ctx, key, services.Rate{Limit: quota, Period: 24 * time.Hour}, 1)
	if err != nil {
		return Result{}, err
	}
	q.Class, q.Reset = QuotaClass, reset
	res.Quota = &q
	return res, nil
}

// Refund gives back the quota a call took, for a call that failed; quota is spent only on
// calls that did their work.
func (l *Limiter) Refund(ctx context.Context, p services.Principal, res Result) {
	if res.Quota == nil || !res.Quota.Allowed {
		return
	}
	key, _ := l.quotaKey(p)
	if _, err := l.count(ctx, key, res.Quota.Rate, -1); err != nil {
		l.log.Debug().Err(err).Msg("rate limit: refund quota")
	}
}

// TakeInvalid is for a call of class that Take let through and validation then refused: it
// gives back the count of class the call took and counts the call against InvalidClass
// instead. The quota a costly call took is given back by Refund, as for any failed call.
func (l *Limiter) TakeInvalid(ctx context.Context, p services.Principal, class string) (Decision, error) {
	if _, err := l.count(ctx, classKey(class, p), l.Rate(p, class), -1); err != nil {
		return Decision{}, err
	}
	d, err := l.count(ctx, classKey(InvalidClass, p), l.Rate(p, InvalidClass), 1)
	if err != nil {
		return Decision{}, err
	}
	d.Class = InvalidClass
	return d, nil
}

// Status looks at p's limits for classes without counting a call, for reports.
func (l *Limiter) Status(ctx context.Context, p services.Principal, classes []string) ([]Decision, error) {
	out := make([]Decision, 0, len(classes)+1)
	for _, class := range classes {
		d, err := l.peek(ctx, classKey(class, p), l.Rate(p, class))
		if err != nil {
			return nil, err
		}
		d.Class = class
		out = append(out, d)
	}
	if quota := l.Quota(p); quota > 0 {
		key, reset := l.quotaKey(p)
		d, err := l.peek(ctx, key, services.Rate{Limit: quota, Period: 24 * time.Hour})
		if err != nil {
			return nil, err
		}
		d.Class, d.Reset = QuotaClass, reset
		out = append(out, d)
	}
	return out, nil
}

// AuthAllowed looks at the failed authentications from addr: once they reach the limit, the
// address may not try again until the window ends. An address that has not failed here within
// the window is not looked up.
func (l *Limiter) AuthAllowed(ctx context.Context, addr string) (Decision, error) {
	if !l.suspect(addr) {
		r := l.cfg.AuthFailures
		return Decision{Class: "auth-failures", Rate: r, Remaining: r.Limit, Reset: l.now().Add(r.Period), Allowed: true}, nil
	}
	d, err := l.peek(ctx, "a:"+addr, l.cfg.AuthFailures)
	if err != nil {
		return d, err
	}
	d.Class = "auth-failures"
	d.Allowed = d.Remaining > 0 || d.Degraded && l.cfg.OnStoreError == PolicyAllow
	return d, nil
}

// AuthFailed counts a failed authentication from addr.
func (l *Limiter) AuthFailed(ctx context.Context, addr string) (Decision, error) {
	d, err := l.count(ctx, "a:"+addr, l.cfg.AuthFailures, 1)
	d.Class = "auth-failures"
	until := d.Reset
	if err != nil || until.Before(l.now()) {
		until = l.now().Add(l.cfg.AuthFailures.Period)
	}
	l.markSuspect(addr, until)
	return d, err
}

func (l *Limiter) suspect(addr string) bool {
	l.suspectsMu.Lock()
	defer l.suspectsMu.Unlock()
	until, ok := l.suspects[addr]
	if ok && l.now().After(until) {
		delete(l.suspects, addr)
		return false
	}
	return ok
}

func (l *Limiter) markSuspect(addr string, until time.Time) {
	l.suspectsMu.Lock()
	defer l.suspectsMu.Unlock()
	if len(l.suspects) >= maxSuspects {
		now := l.now()
		for a, u := range l.suspects {
			if now.After(u) {
				delete(l.suspects, a)
			}
		}
		for a := range l.suspects {
			if len(l.suspects) < maxSuspects {
				break
			}
			delete(l.suspects, a)
		}
	}
	l.suspects[addr] = until
}

func (l *Limiter) count(ctx context.Context, key string, rate services.Rate, n int64) (Decision, error) {
	lr := limiter.Rate{Limit: rate.Limit, Period: rate.Period}
	lc, degraded, err := l.do(ctx, func(s limiter.Store) (limiter.Context, error) {
		if n == 1 {
			return s.Get(ctx, key, lr)
		}
		return s.Increment(ctx, key, n, lr)
	})
	if err != nil {
		return Decision{}, err
	}
	d := decision(lc, rate, degraded)
	d.Allowed = !lc.Reached || degraded && l.cfg.OnStoreError == PolicyAllow
	return d, nil
}

func (l *Limiter) peek(ctx context.Context, key string, rate services.Rate) (Decision, error) {
	lr := limiter.Rate{Limit: rate.Limit, Period: rate.Period}
	lc, degraded, err := l.do(ctx, func(s limiter.Store) (limiter.Context, error) { return s.Peek(ctx, key, lr) })
	if err != nil {
		return Decision{}, err
	}
	d := decision(lc, rate, degraded)
	d.Allowed = !lc.Reached
	return d, nil
}

func decision(lc limiter.Context, rate services.Rate, degraded bool) Decision {
	return Decision{Rate: rate, Remaining: max(lc.Remaining, 0), Reset: time.Unix(lc.Reset, 0), Degraded: degraded}
}

// do runs op on the primary store, or, while it fails, as the store-error policy says.
func (l *Limiter) do(ctx context.Context, op func(limiter.Store) (limiter.Context, error)) (limiter.Context, bool, error) {
	if !l.shared || l.now().UnixNano() >= l.downUntil.Load() {
		lc, err := op(l.primary)
		if err == nil {
			if l.shared && l.downUntil.Swap(0) != 0 {
				l.log.Info().Msg("rate-limit store answers again")
			}
			return lc, false, nil
		}
		l.metrics.storeFailed()
		if prev := l.downUntil.Swap(l.now().Add(l.cfg.StoreRetry).UnixNano()); prev == 0 {
			l.log.Warn().Err(err).Str("policy", string(l.cfg.OnStoreError)).
				Msg("rate-limit store failed; applying the store-error policy until it answers")
		}
	}
	if l.cfg.OnStoreError == PolicyDeny {
		return limiter.Context{}, true, &services.Error{Code: services.CodeUnavailable, RetryAfter: int(math.Ceil(l.cfg.StoreRetry.Seconds())),
			Detail: "Jarvis cannot check rate limits right now, so it is not taking calls. Retry in a few seconds."}
	}
	lc, err := op(l.fallback)
	if err != nil {
		return limiter.Context{}, true, fmt.Errorf("memory rate-limit store: %w", err)
	}
	return lc, true, nil
}
