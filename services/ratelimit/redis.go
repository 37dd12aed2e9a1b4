package ratelimit

import (
	"context"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
	"github.com/ulule/limiter/v3"
	redisstore "github.com/ulule/limiter/v3/drivers/store/redis"
)

// NewRedis returns a limiter counting in the Redis at redisURL, under keys starting with
// prefix, so that replicas share one count. Redis need not be up: until it answers, the
// store-error policy decides. Timeouts are short unless the URL sets them (dial_timeout,
// read_timeout, write_timeout, max_retries), because every call waits for the count.
func NewRedis(cfg Config, log zerolog.Logger, redisURL, prefix string) (*Limiter, error) {
	opts, err := redis.ParseURL(redisURL)
	if err != nil {
		return nil, fmt.Errorf("redis URL: %w", err)
	}
	q := url.Values{}
	if u, err := url.Parse(redisURL); err == nil {
		q = u.Query()
	}
	if !q.Has("dial_timeout") {
		opts.DialTimeout = 500 * time.Millisecond
	}
	if !q.Has("read_timeout") {
		opts.ReadTimeout = 500 * time.Millisecond
	}
	if !q.Has("write_timeout") {
		opts.WriteTimeout = 500 * time.Millisecond
	}
	if !q.Has("max_retries") {
		opts.MaxRetries = -1
	}
	if !q.Has("pool_timeout") {
		opts.PoolTimeout = time.Second
	}
	opts.DialerRetries = 1
	opts.DisableIdentity = true
	quietRedis.Do(func() { redis.SetLogger(silent{}) })
	client := redis.NewClient(opts)
	store := &lazyRedisStore{client: client, prefix: prefix + ":rl"}
	l := newLimiter(cfg, log, store, true)
	l.closers = append(l.closers, client.Close)
	l.pinger = func(ctx context.Context) error { return client.Ping(ctx).Err() }
	return l, nil
}

// go-redis prints connection failures to stderr by itself; the limiter reports store failures
// in the service's log, once per outage, so the library's lines are dropped.
var quietRedis sync.Once

type silent struct{}

func (silent) Printf(context.Context, string, ...any) {}

// lazyRedisStore makes the ulule Redis store on first use: making it loads scripts into Redis,
// which fails while Redis is down, and Jarvis must start anyway.
type lazyRedisStore struct {
	client *redis.Client
	prefix string
	mu     sync.Mutex
	store  limiter.Store
}

func (s *lazyRedisStore) get(ctx context.Context) (limiter.Store, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.store != nil {
		return s.store, nil
	}
	st, err := redisstore.NewStoreWithOptions(s.client, limiter.StoreOptions{Prefix: s.prefix})
	if err != nil {
		return nil, err
	}
	s.store = st
	return st, nil
}

func (s *lazyRedisStore) Get(ctx context.Context, key string, rate limiter.Rate) (limiter.Context, error) {
	st, err := s.get(ctx)
	if err != nil {
		return limiter.Context{}, err
	}
	return st.Get(ctx, key, rate)
}

func (s *lazyRedisStore) Peek(ctx context.Context, key string, rate limiter.Rate) (limiter.Context, error) {
	st, err := s.get(ctx)
	if err != nil {
		return limiter.Context{}, err
	}
	return st.Peek(ctx, key, rate)
}

func (s *lazyRedisStore) Reset(ctx context.Context, key string, rate limiter.Rate) (limiter.Context, error) {
	st, err := s.get(ctx)
	if err != nil {
		return limiter.Context{}, err
	}
	return st.Reset(ctx, key, rate)
}

func (s *lazyRedisStore) Increment(ctx context.Context, key string, count int64, rate limiter.Rate) (limiter.Context, error) {
	st, err := s.get(ctx)
	if err != nil {
		return limiter.Context{}, err
	}
	return st.Increment(ctx, key, count, rate)
}
