package tests

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/services/storage/storagetest"
)

// redisPrefix is a key prefix of the test's own, whose keys are deleted when it ends.
func redisPrefix(t *testing.T, url string) string {
	t.Helper()
	prefix := "jarvis-test-" + strings.ToLower(rand.Text()[:10])
	t.Cleanup(func() {
		opts, err := redis.ParseURL(url)
		if err != nil {
			return
		}
		c := redis.NewClient(opts)
		defer c.Close()
		ctx := context.Background()
		iter := c.Scan(ctx, 0, prefix+":*", 1000).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
	})
	return prefix
}

// Three replicas sharing one Redis admit exactly the limit between them, however the calls
// are spread and however many arrive at once.
func TestReplicasShareOneLimitInRedis(t *testing.T) {
	t.Parallel()
	url := storagetest.RequireEnv(t, "JARVIS_TEST_REDIS_URL")
	prefix := redisPrefix(t, url)
	const limit, calls = 50, 200
	settings := production(env{"JARVIS_REDIS_URL": url, "JARVIS_REDIS_PREFIX": prefix, "JARVIS_RATE_LIMITS": "integration=" + strconv.Itoa(limit)})
	replicas := []*server{startServer(t, settings), startServer(t, settings), startServer(t, settings)}

	start := make(chan struct{})
	statuses := make([]int, calls)
	var wg sync.WaitGroup
	for i := 0; i < calls; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			s := replicas[i%len(replicas)]
			req, err := http.NewRequest(http.MethodGet, s.API+"/", nil)
			if err != nil {
				return
			}
			req.Header.Set("X-API-Key", bootstrapToken)
			<-start
			resp, err := s.HTTP.Do(req)
			if err != nil {
				t.Errorf("call %d: %v", i, err)
				return
			}
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		}(i)
	}
	close(start)
	wg.Wait()

	count := map[int]int{}
	for _, st := range statuses {
		count[st]++
	}
	t.Logf("%d calls over %d replicas: %v", calls, len(replicas), count)
	assert.Equal(t, limit, count[http.StatusOK], "admitted")
	assert.Equal(t, calls-limit, count[http.StatusTooManyRequests], "refused")
	for _, s := range replicas {
		assert.NotContains(t, s.Logs.String(), "rate-limit store failed")
	}
}

// redisServer is a redis-server of the test's own on a free loopback port.
type redisServer struct {
	t    *testing.T
	bin  string
	port string
	cmd  *exec.Cmd
}

func startRedis(t *testing.T) *redisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("JARVIS_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatalf("redis-server is not installed and JARVIS_TEST_REQUIRE_SERVICES=1")
		}
		t.Skip("redis-server is not installed; install it to run this test")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	r := &redisServer{t: t, bin: bin, port: port}
	r.start()
	t.Cleanup(r.stop)
	return r
}

func (r *redisServer) URL() string { return "redis://127.0.0.1:" + r.port + "/0" }

func (r *redisServer) start() {
	r.t.Helper()
	r.cmd = exec.Command(r.bin, "--port", r.port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", r.t.TempDir())
	require.NoError(r.t, r.cmd.Start())
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + r.port})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for c.Ping(context.Background()).Err() != nil {
		require.True(r.t, time.Now().Before(deadline), "redis-server did not answer within 10s")
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *redisServer) stop() {
	if r.cmd == nil || r.cmd.Process == nil {
		return
	}
	r.cmd.Process.Kill()
	r.cmd.Wait()
	r.cmd = nil
}

// With Redis stopped mid-test, each store-error policy holds, nothing panics, and the shared
// count is used again once Redis is back.
func TestRedisOutagePolicies(t *testing.T) {
	t.Parallel()
	rs := startRedis(t)
	servers := map[string]*server{}
	for _, policy := range []string{"memory", "allow", "deny"} {
		servers[policy] = startServer(t, production(env{"JARVIS_REDIS_URL": rs.URL(), "JARVIS_REDIS_PREFIX": "jarvis-" + policy,
			"JARVIS_RATE_LIMITS": "integration=3", "JARVIS_RATELIMIT_ON_STORE_ERROR": policy}))
	}
	call := func(s *server) *http.Response {
		resp, _, _ := sendWith(t, s, http.MethodGet, info, hdr("X-API-Key", bootstrapToken), "")
		return resp
	}
	for policy, s := range servers {
		resp := call(s)
		require.Equal(t, http.StatusOK, resp.StatusCode, policy)
		require.Equal(t, "2", resp.Header.Get("X-RateLimit-Remaining"), policy)
	}

	ready := func(s *server) (int, map[string]string) {
		resp, err := http.Get(s.URL + "/ready")
		require.NoError(t, err)
		defer resp.Body.Close()
		var body struct {
			Checks map[string]string `json:"checks"`
		}
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
		return resp.StatusCode, body.Checks
	}
	for policy, s := range servers {
		status, _ := ready(s)
		require.Equal(t, http.StatusOK, status, policy)
	}

	rs.stop()

	t.Run("readiness says what the server can do", func(t *testing.T) {
		// Under deny every call is refused, so the server is not ready; the others still serve.
		status, checks := ready(servers["deny"])
		assert.Equal(t, http.StatusServiceUnavailable, status)
		assert.NotEqual(t, "ok", checks["ratelimit"])
		for _, policy := range []string{"memory", "allow"} {
			status, _ := ready(servers[policy])
			assert.Equal(t, http.StatusOK, status, policy)
		}
	})
	t.Run("memory counts per replica", func(t *testing.T) {
		s := servers["memory"]
		for i := 0; i < 3; i++ {
			resp := call(s)
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, strconv.Itoa(2-i), resp.Header.Get("X-RateLimit-Remaining"))
		}
		resp := call(s)
		assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
		assert.NotEmpty(t, resp.Header.Get("Retry-After"))
		assert.Contains(t, s.Logs.String(), `"policy":"memory"`)
	})
	t.Run("allow lets every call through", func(t *testing.T) {
		for i := 0; i < 5; i++ {
			assert.Equal(t, http.StatusOK, call(servers["allow"]).StatusCode)
		}
	})
	t.Run("deny answers 503", func(t *testing.T) {
		resp, p, _ := sendWith(t, servers["deny"], http.MethodGet, info, hdr("X-API-Key", bootstrapToken), "")
		assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
		assert.Equal(t, "unavailable", p.Code)
		assert.NotEmpty(t, resp.Header.Get("Retry-After"))
		// Authentication failures cannot be counted either, so they are refused the same way.
		resp, _, _ = sendWith(t, servers["deny"], http.MethodGet, info, hdr("X-API-Key", "wrong"), "")
		assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	})
	for policy, s := range servers {
		assert.NotContains(t, s.Logs.String(), "panic", policy)
	}

	rs.start()
	for _, policy := range []string{"memory", "deny"} {
		s := servers[policy]
		deadline := time.Now().Add(15 * time.Second)
		var resp *http.Response
		for {
			resp = call(s)
			// The restarted Redis is empty, so its count starts again.
			if resp.StatusCode == http.StatusOK && resp.Header.Get("X-RateLimit-Remaining") == "2" || time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		assert.Equal(t, http.StatusOK, resp.StatusCode, "%s: Redis is used again", policy)
		assert.Contains(t, s.Logs.String(), "rate-limit store answers again", policy)
	}
	status, checks := ready(servers["deny"])
	assert.Equal(t, http.StatusOK, status, "%v", checks)
}
