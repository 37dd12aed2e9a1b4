package jobs_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/artifacts"
	"github.com/aidawg/jarvis/services/jobs"
	"github.com/aidawg/jarvis/services/ssrf"
	"github.com/aidawg/jarvis/services/storage"
	"github.com/aidawg/jarvis/services/storage/storagetest"
	"github.com/aidawg/jarvis/services/webhook"
)

var (
	alice = services.Owner{Tenant: "acme", User: "alice"}
	bob   = services.Owner{Tenant: "acme", User: "bob"}
)

type engine struct {
	*jobs.Service
	db     *storage.DB
	files  *artifacts.Files
	secret webhook.Secret
}

func testConfig() jobs.Config {
	return jobs.Config{
		Workers: 4, MaxAttempts: 3, JobTimeout: 30 * time.Second, RescueAfter: time.Minute,
		TTL: time.Hour, MaintenanceInterval: time.Hour, PollInterval: 20 * time.Millisecond, RetryBackoff: 20 * time.Millisecond,
		CallbackAttempts: 5, CallbackBackoff: 20 * time.Millisecond,
	}
}

func newEngine(t testing.TB, db *storage.DB, runners map[string]jobs.Runner) *engine {
	t.Helper()
	return newEngineWith(t, db, testConfig(), runners)
}

func newEngineWith(t testing.TB, db *storage.DB, cfg jobs.Config, runners map[string]jobs.Runner) *engine {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, jobs.Migrate(ctx, db))
	files, err := artifacts.NewFiles(t.TempDir())
	require.NoError(t, err)
	allow, err := ssrf.ParsePrefixes([]string{"127.0.0.0/8"})
	require.NoError(t, err)
	secret := webhook.NewSecret()
	svc, err := jobs.New(cfg, jobs.Deps{
		DB: db, Files: files, Links: artifacts.NewSigner([]byte("k"), "http://jarvis.test", time.Hour),
		Guard: ssrf.New(allow, 5*time.Second, 1<<20), Secret: secret, Runners: runners, Log: zerolog.Nop(),
	})
	require.NoError(t, err)
	runCtx, cancel := context.WithCancel(ctx)
	require.NoError(t, svc.Start(runCtx))
	t.Cleanup(func() {
		stopCtx, done := context.WithTimeout(context.Background(), 10*time.Second)
		defer done()
		_ = svc.Stop(stopCtx)
		cancel()
	})
	return &engine{Service: svc, db: db, files: files, secret: secret}
}

func waitFinished(t *testing.T, e *engine, owner services.Owner, id string) jobs.Job {
	t.Helper()
	j, err := e.Wait(context.Background(), owner, id, 20*time.Second)
	require.NoError(t, err)
	require.True(t, j.Status.Finished(), "job %s still %s after the wait", id, j.Status)
	return j
}

// echoRunner completes at once with its params as the result and one artifact.
func echoRunner(ctx context.Context, j jobs.Job, p *jobs.Progress) (jobs.Outcome, error) {
	if err := p.Report(ctx, 50, "Halfway.", time.Second); err != nil {
		return jobs.Outcome{}, err
	}
	return jobs.Outcome{
		Result:    j.Params,
		Artifacts: []jobs.NewArtifact{{Name: "out.txt", ContentType: "text/plain", Data: strings.NewReader("hello " + j.ID)}},
	}, nil
}

// blockingRunner reports progress as it works until it is released or cancelled.
type blockingRunner struct {
	started chan string
	release chan struct{}
}

func newBlocking() *blockingRunner {
	return &blockingRunner{started: make(chan string, 100), release: make(chan struct{})}
}

func (b *blockingRunner) run(ctx context.Context, j jobs.Job, p *jobs.Progress) (jobs.Outcome, error) {
	b.started <- j.ID
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	pct := 0
	for {
		select {
		case <-b.release:
			return jobs.Outcome{Result: map[string]string{"done": j.ID}}, nil
		case <-ctx.Done():
			return jobs.Outcome{}, ctx.Err()
		case <-tick.C:
			pct = min(pct+1, 90)
			if err := p.Report(ctx, pct, "Working.", time.Minute); err != nil {
				return jobs.Outcome{}, err
			}
		}
	}
}

func TestLifecycle(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEngine(t, db, map[string]jobs.Runner{"echo": echoRunner})
		ctx := context.Background()
		j, err := e.Create(ctx, alice, "echo", map[string]int{"n": 7}, "")
		require.NoError(t, err)
		assert.Equal(t, jobs.Queued, j.Status)
		assert.True(t, strings.HasPrefix(j.ID, "job_"))

		done := waitFinished(t, e, alice, j.ID)
		assert.Equal(t, jobs.Completed, done.Status)
		assert.Equal(t, 100, done.Progress)
		assert.JSONEq(t, `{"n":7}`, string(done.Result))
		assert.Nil(t, done.Problem)
		require.NotNil(t, done.StartedAt)
		require.NotNil(t, done.FinishedAt)
		assert.Equal(t, 1, done.Attempts)
		require.Len(t, done.Artifacts, 1)
		a := done.Artifacts[0]
		assert.Equal(t, "out.txt", a.Name)
		assert.Equal(t, int64(len("hello "+j.ID)), a.SizeBytes)
		f, err := e.files.Open(ctx, a.ID)
		require.NoError(t, err)
		body, _ := io.ReadAll(f)
		f.Close()
		assert.Equal(t, "hello "+j.ID, string(body))

		_, err = e.Create(ctx, alice, "no-such-type", nil, "")
		se, ok := services.AsError(err)
		require.True(t, ok)
		assert.Equal(t, services.CodeNotImplemented, se.Code)
	})
}

func TestWaitReturnsUnfinishedJobAfterTheWait(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		b := newBlocking()
		e := newEngine(t, db, map[string]jobs.Runner{"slow": b.run})
		ctx := context.Background()
		j, err := e.Create(ctx, alice, "slow", nil, "")
		require.NoError(t, err)
		<-b.started
		got, err := e.Wait(ctx, alice, j.ID, 50*time.Millisecond)
		require.NoError(t, err)
		assert.Equal(t, jobs.Running, got.Status)
		require.Eventually(t, func() bool {
			got, err = e.Get(ctx, alice, j.ID)
			return err == nil && got.Progress > 0
		}, 20*time.Second, 20*time.Millisecond, "progress reported by the work")
		assert.NotNil(t, got.ETASeconds)
		close(b.release)
		assert.Equal(t, jobs.Completed, waitFinished(t, e, alice, j.ID).Status)
	})
}

func TestCancel(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		b := newBlocking()
		cfgRunners := map[string]jobs.Runner{"slow": b.run}
		e := newEngine(t, db, cfgRunners)
		ctx := context.Background()

		running, err := e.Create(ctx, alice, "slow", nil, "")
		require.NoError(t, err)
		<-b.started
		got, err := e.Cancel(ctx, alice, running.ID)
		require.NoError(t, err)
		assert.False(t, got.Status.Finished(), "a running job is asked to stop, not ended at once")
		done := waitFinished(t, e, alice, running.ID)
		assert.Equal(t, jobs.Cancelled, done.Status)

		_, err = e.Cancel(ctx, alice, running.ID)
		assert.ErrorIs(t, err, jobs.ErrFinished)
		_, err = e.Cancel(ctx, bob, running.ID)
		assert.ErrorIs(t, err, jobs.ErrNotFound)
	})
}

// A queued job is cancelled at once, without ever running.
func TestCancelQueued(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		b := newBlocking()
		e := newEngine(t, db, map[string]jobs.Runner{"slow": b.run})
		ctx := context.Background()
		// Fill every worker so that the next job stays queued.
		for range testConfig().Workers {
			_, err := e.Create(ctx, alice, "slow", nil, "")
			require.NoError(t, err)
			<-b.started
		}
		queued, err := e.Create(ctx, alice, "slow", nil, "")
		require.NoError(t, err)
		got, err := e.Cancel(ctx, alice, queued.ID)
		require.NoError(t, err)
		assert.Equal(t, jobs.Cancelled, got.Status)
		assert.Nil(t, got.StartedAt)
		close(b.release)
		select {
		case id := <-b.started:
			assert.NotEqual(t, queued.ID, id, "the cancelled job must not run")
		case <-time.After(200 * time.Millisecond):
		}
	})
}

func TestOwnership(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEngine(t, db, map[string]jobs.Runner{"echo": echoRunner})
		ctx := context.Background()
		j, err := e.Create(ctx, alice, "echo", nil, "")
		require.NoError(t, err)
		waitFinished(t, e, alice, j.ID)

		_, err = e.Get(ctx, bob, j.ID)
		assert.ErrorIs(t, err, jobs.ErrNotFound)
		_, err = e.Get(ctx, services.Owner{Tenant: "other", User: "alice"}, j.ID)
		assert.ErrorIs(t, err, jobs.ErrNotFound, "the same user name in another tenant is another owner")
		page, err := e.List(ctx, bob, jobs.Filter{})
		require.NoError(t, err)
		assert.Empty(t, page.Jobs)
		st, err := e.Stats(ctx, bob)
		require.NoError(t, err)
		assert.Zero(t, st.Total)
		_, err = e.Cancel(ctx, bob, j.ID)
		assert.ErrorIs(t, err, jobs.ErrNotFound)
	})
}

func TestListAndStats(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEngine(t, db, map[string]jobs.Runner{"echo": echoRunner, "other": echoRunner})
		ctx := context.Background()
		var ids []string
		for i := range 7 {
			typ := "echo"
			if i%3 == 0 {
				typ = "other"
			}
			j, err := e.Create(ctx, alice, typ, i, "")
			require.NoError(t, err)
			ids = append(ids, j.ID)
		}
		for _, id := range ids {
			waitFinished(t, e, alice, id)
		}
		var seen []string
		cursor := ""
		for {
			page, err := e.List(ctx, alice, jobs.Filter{Limit: 3, Cursor: cursor})
			require.NoError(t, err)
			for _, j := range page.Jobs {
				seen = append(seen, j.ID)
			}
			if page.NextCursor == "" {
				break
			}
			cursor = page.NextCursor
		}
		require.Len(t, seen, 7)
		for i := range seen {
			assert.Equal(t, ids[len(ids)-1-i], seen[i], "newest first")
		}
		page, err := e.List(ctx, alice, jobs.Filter{Type: "other"})
		require.NoError(t, err)
		assert.Len(t, page.Jobs, 3)
		page, err = e.List(ctx, alice, jobs.Filter{Status: jobs.Running})
		require.NoError(t, err)
		assert.Empty(t, page.Jobs)
		_, err = e.List(ctx, alice, jobs.Filter{Cursor: "not-a-cursor"})
		se, ok := services.AsError(err)
		require.True(t, ok)
		assert.Equal(t, services.CodeValidation, se.Code)

		st, err := e.Stats(ctx, alice)
		require.NoError(t, err)
		assert.Equal(t, 7, st.Total)
		assert.Equal(t, 7, st.ByStatus[jobs.Completed])
		assert.Equal(t, map[string]int{"echo": 4, "other": 3}, st.ByType)
		require.NotNil(t, st.P50)
		require.NotNil(t, st.P95)
		assert.LessOrEqual(t, *st.P50, *st.P95)
	})
}

func TestConcurrentCreatesLoseNothing(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEngine(t, db, map[string]jobs.Runner{"echo": echoRunner})
		ctx := context.Background()
		const n = 100
		ids := make([]string, n)
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				j, err := e.Create(ctx, alice, "echo", i, "")
				if err != nil {
					errs <- err
					return
				}
				ids[i] = j.ID
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		require.Eventually(t, func() bool {
			st, err := e.Stats(ctx, alice)
			return err == nil && st.ByStatus[jobs.Completed] == n
		}, 20*time.Second, 20*time.Millisecond, "every job to complete")
		seen := map[string]bool{}
		for _, id := range ids {
			require.False(t, seen[id])
			seen[id] = true
			j, err := e.Get(ctx, alice, id)
			require.NoError(t, err)
			assert.Equal(t, jobs.Completed, j.Status)
		}
	})
}

// A runner's failures become the job's problem; transient ones are retried first.
func TestFailuresAndRetries(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		var calls atomic.Int32
		flaky := func(ctx context.Context, j jobs.Job, p *jobs.Progress) (jobs.Outcome, error) {
			if calls.Add(1) < 3 {
				return jobs.Outcome{}, services.Errorf(services.CodeUnavailable, "backend down")
			}
			return jobs.Outcome{Result: "ok"}, nil
		}
		invalid := func(ctx context.Context, j jobs.Job, p *jobs.Progress) (jobs.Outcome, error) {
			return jobs.Outcome{}, services.Errorf(services.CodeUnprocessable, "tempo 999 is out of range")
		}
		e := newEngine(t, db, map[string]jobs.Runner{"flaky": flaky, "invalid": invalid})
		ctx := context.Background()

		bad, err := e.Create(ctx, alice, "invalid", nil, "")
		require.NoError(t, err)
		j := waitFinished(t, e, alice, bad.ID)
		assert.Equal(t, jobs.Failed, j.Status)
		require.NotNil(t, j.Problem)
		assert.Equal(t, services.CodeUnprocessable, j.Problem.Code)
		assert.Equal(t, 1, j.Attempts, "a client error is not retried")

		f, err := e.Create(ctx, alice, "flaky", nil, "")
		require.NoError(t, err)
		require.Eventually(t, func() bool {
			j, err = e.Get(ctx, alice, f.ID)
			return err == nil && j.Status == jobs.Completed
		}, 20*time.Second, 20*time.Millisecond, "the third attempt to succeed")
		assert.Equal(t, 3, j.Attempts)
	})
}

// The callback receiver verifies each signature and sees the retries after failing twice.
func TestCallbacksAreSignedAndRetried(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		type delivery struct {
			header http.Header
			body   []byte
		}
		var mu sync.Mutex
		var got []delivery
		receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			mu.Lock()
			got = append(got, delivery{r.Header.Clone(), body})
			n := len(got)
			mu.Unlock()
			if n <= 2 {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		}))
		defer receiver.Close()

		e := newEngine(t, db, map[string]jobs.Runner{"echo": echoRunner})
		ctx := context.Background()
		j, err := e.Create(ctx, alice, "echo", map[string]string{"k": "v"}, receiver.URL+"/hook")
		require.NoError(t, err)
		waitFinished(t, e, alice, j.ID)

		var status string
		var attempts int
		require.Eventually(t, func() bool {
			err := db.QueryRowContext(ctx, `SELECT status, attempts FROM webhook_deliveries WHERE job_id = $1`, j.ID).Scan(&status, &attempts)
			return err == nil && status == "delivered"
		}, 20*time.Second, 20*time.Millisecond, "the delivery to succeed")
		assert.Equal(t, 3, attempts)
		var recorded int
		require.NoError(t, db.QueryRowContext(ctx, `SELECT COUNT(*) FROM webhook_attempts a JOIN webhook_deliveries d
			ON d.id = a.delivery_id WHERE d.job_id = $1 AND a.status_code = 503`, j.ID).Scan(&recorded))
		assert.Equal(t, 2, recorded, "each failed attempt is recorded")

		mu.Lock()
		defer mu.Unlock()
		require.Len(t, got, 3)
		ids := map[string]bool{}
		for _, d := range got {
			require.NoError(t, e.secret.Verify(d.header, d.body))
			ids[d.header.Get(webhook.HeaderID)] = true
		}
		assert.Len(t, ids, 1, "retries keep the delivery id so receivers can deduplicate")
		var event struct {
			Type string `json:"type"`
			Data struct {
				ID        string          `json:"id"`
				Status    string          `json:"status"`
				Result    json.RawMessage `json:"result"`
				Artifacts []struct {
					URL string `json:"url"`
				} `json:"artifacts"`
			} `json:"data"`
		}
		require.NoError(t, json.Unmarshal(got[2].body, &event))
		assert.Equal(t, "job.completed", event.Type)
		assert.Equal(t, j.ID, event.Data.ID)
		assert.JSONEq(t, `{"k":"v"}`, string(event.Data.Result))
		require.Len(t, event.Data.Artifacts, 1)
		assert.Contains(t, event.Data.Artifacts[0].URL, "http://jarvis.test/artifacts/art_")
	})
}

func TestCallbackURLGoesThroughTheGuard(t *testing.T) {
	e := newEngine(t, storagetest.Open(t, storagetest.SQLiteURL(t)), map[string]jobs.Runner{"echo": echoRunner})
	_, err := e.Create(context.Background(), alice, "echo", nil, "http://169.254.169.254/latest")
	se, ok := services.AsError(err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, services.CodeValidation, se.Code)
	assert.Equal(t, "/callbackUrl", se.Fields[0].Field)
}

// Callbacks are https, but in development and to the guard's allowed addresses (127.0.0.0/8
// here), which are the operator's own receivers.
func TestCallbacksAreHTTPSButToAllowedAddresses(t *testing.T) {
	db := storagetest.Open(t, storagetest.SQLiteURL(t))
	// The jobs never finish, so that no callback is sent anywhere.
	runners := map[string]jobs.Runner{"slow": newBlocking().run}
	production := newEngine(t, db, runners)
	devCfg := testConfig()
	devCfg.AllowHTTPCallbacks = true
	development := newEngineWith(t, db, devCfg, runners)
	for _, tc := range []struct {
		e   *engine
		url string
		ok  bool
	}{
		{production, "https://receiver.example.com/hook", true},
		{production, "http://receiver.example.com/hook", false},
		{production, "http://93.184.216.34/hook", false},
		{production, "http://127.0.0.1:9/hook", true},
		{production, "http://localhost:9/hook", true},
		{development, "http://receiver.example.com/hook", true},
	} {
		_, err := tc.e.Create(context.Background(), alice, "slow", nil, tc.url)
		if tc.ok {
			assert.NoError(t, err, tc.url)
			continue
		}
		se, ok := services.AsError(err)
		require.True(t, ok, "%s: %v", tc.url, err)
		assert.Equal(t, services.CodeValidation, se.Code, tc.url)
		require.Len(t, se.Fields, 1, tc.url)
		assert.Equal(t, "/callbackUrl", se.Fields[0].Field, tc.url)
		assert.Contains(t, se.Detail, "https", tc.url)
	}
}

// Finished jobs and their artifacts go after the retention period; unfinished ones stay.
func TestReapKeepsUnfinishedJobs(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		b := newBlocking()
		e := newEngine(t, db, map[string]jobs.Runner{"echo": echoRunner, "slow": b.run})
		ctx := context.Background()
		done, err := e.Create(ctx, alice, "echo", nil, "")
		require.NoError(t, err)
		finished := waitFinished(t, e, alice, done.ID)
		running, err := e.Create(ctx, alice, "slow", nil, "")
		require.NoError(t, err)
		<-b.started

		// Age the finished job past the retention period.
		_, err = db.ExecContext(ctx, `UPDATE jobs SET finished_at = $1 WHERE id = $2`, time.Now().Add(-2*time.Hour).UnixMilli(), done.ID)
		require.NoError(t, err)
		n, err := e.Reap(ctx)
		require.NoError(t, err)
		assert.Equal(t, 1, n)
		_, err = e.Get(ctx, alice, done.ID)
		assert.ErrorIs(t, err, jobs.ErrNotFound)
		_, err = e.files.Open(ctx, finished.Artifacts[0].ID)
		assert.ErrorIs(t, err, artifacts.ErrNotFound, "the artifact file goes with the job")
		j, err := e.Get(ctx, alice, running.ID)
		require.NoError(t, err)
		assert.Equal(t, jobs.Running, j.Status)
		close(b.release)
	})
}
