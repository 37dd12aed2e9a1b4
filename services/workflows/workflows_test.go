package workflows_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/artifacts"
	"github.com/aidawg/jarvis/services/jobs"
	"github.com/aidawg/jarvis/services/keys"
	"github.com/aidawg/jarvis/services/ssrf"
	"github.com/aidawg/jarvis/services/storage"
	"github.com/aidawg/jarvis/services/storage/storagetest"
	"github.com/aidawg/jarvis/services/webhook"
	"github.com/aidawg/jarvis/services/workflows"
)

var (
	alice = services.Principal{Tenant: "acme", User: "alice", Method: services.MethodOAuth2, Scopes: []string{"actions:write", "actions:read"}}
	bob   = services.Principal{Tenant: "acme", User: "bob", Method: services.MethodOAuth2, Scopes: []string{"actions:read"}}
)

// call is one operation a fake pipeline was asked to carry out.
type call struct {
	op        string
	args      map[string]any
	principal services.Principal
	key       string
}

// pipeline answers every operation with a fixed body, and records the calls.
type pipeline struct {
	mu      sync.Mutex
	calls   []call
	answers map[string]string // operation -> body; status 200
	block   chan struct{}     // when set, a call waits for it
}

func (p *pipeline) Offered(op string) bool { return op != "getUsage" }

func (p *pipeline) Check(string, map[string]any) []services.FieldError { return nil }

func (p *pipeline) Call(ctx context.Context, op string, args map[string]any, key string) (int, []byte, error) {
	pr, _ := services.PrincipalFrom(ctx)
	p.mu.Lock()
	p.calls = append(p.calls, call{op: op, args: args, principal: pr, key: key})
	block := p.block
	p.mu.Unlock()
	if block != nil {
		<-block
	}
	return 200, []byte(p.answers[op]), nil
}

func (p *pipeline) made() []call {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]call(nil), p.calls...)
}

type keyStore map[string]keys.Key

func (k keyStore) Get(_ context.Context, id string) (keys.Key, error) {
	if key, ok := k[id]; ok {
		return key, nil
	}
	return keys.Key{}, services.Errorf(services.CodeNotFound, "no key %s", id)
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// fixture is a workflow service with a real job engine over db, whose steps go to a fake
// pipeline.
type fixture struct {
	svc    *workflows.Service
	engine *jobs.Service
	pipe   *pipeline
	sched  *workflows.Scheduler
	clock  *clock
}

func newFixture(t *testing.T, db *storage.DB, ks keyStore) *fixture {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, jobs.Migrate(ctx, db))
	pipe := &pipeline{answers: map[string]string{
		"generateMusic": `{"track":{"id":"trk_1","tempo":84,"audio":{"url":"https://jarvis.test/artifacts/a1"}},"meta":{"requestId":"r"}}`,
		"validateMusic": `{"report":{"standard":"streaming","valid":true}}`,
	}}
	c := &clock{t: time.Now()}
	svc := workflows.New(db, pipe, c.now)
	runner := workflows.NewRunner(svc.Store(), pipe, ks)
	files, err := artifacts.NewFiles(t.TempDir())
	require.NoError(t, err)
	engine, err := jobs.New(jobs.Config{Workers: 2, MaxAttempts: 1, JobTimeout: 30 * time.Second, RescueAfter: time.Minute, TTL: time.Hour,
		MaintenanceInterval: time.Hour, PollInterval: 20 * time.Millisecond, InlineWait: time.Millisecond}, jobs.Deps{
		DB: db, Files: files, Links: artifacts.NewSigner([]byte("k"), "http://jarvis.test", time.Hour),
		Guard: ssrf.New(nil, time.Second, 1<<20), Secret: webhook.NewSecret(), Log: zerolog.Nop(),
		Runners: map[string]jobs.Runner{jobs.TypeWorkflowRun: runner.JobRunner()},
	})
	require.NoError(t, err)
	runCtx, cancel := context.WithCancel(ctx)
	require.NoError(t, engine.Start(runCtx))
	t.Cleanup(func() {
		stop, done := context.WithTimeout(context.Background(), 10*time.Second)
		defer done()
		_ = engine.Stop(stop)
		cancel()
	})
	return &fixture{svc: svc, engine: engine, pipe: pipe, clock: c, sched: workflows.NewScheduler(svc.Store(), engine, c.now, zerolog.Nop())}
}

func (f *fixture) runs(t *testing.T, owner services.Owner) []jobs.Job {
	t.Helper()
	page, err := f.engine.List(context.Background(), owner, jobs.Filter{Type: jobs.TypeWorkflowRun, Limit: 100})
	require.NoError(t, err)
	return page.Jobs
}

func (f *fixture) finished(t *testing.T, owner services.Owner, id string) (jobs.Job, workflows.Run) {
	t.Helper()
	j, err := f.engine.Wait(context.Background(), owner, id, 20*time.Second)
	require.NoError(t, err)
	require.True(t, j.Status.Finished(), "job %s is %s", id, j.Status)
	var run workflows.Run
	if len(j.Result) > 0 {
		require.NoError(t, json.Unmarshal(j.Result, &run))
	}
	return j, run
}

func renderAndCheck(schedule string) workflows.Spec {
	return workflows.Spec{Name: "render and check", Schedule: schedule, Steps: []workflows.Step{
		{ID: "gen", OperationID: "generateMusic", Params: map[string]any{"prompt": "a beat"}},
		{ID: "check", OperationID: "validateMusic", Params: map[string]any{"audioUrl": "${steps.gen.track.audio.url}", "note": "tempo ${steps.gen.track.tempo}"}},
	}}
}

// A scheduled workflow runs when the test clock reaches its time, once, as its owner, and not
// again until the schedule's next time.
func TestScheduledWorkflowRunsOnItsSchedule(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db, nil)
		ctx := context.Background()
		monday := time.Date(2026, 11, 30, 9, 29, 0, 0, time.UTC)
		f.clock.set(monday)
		w, err := f.svc.Create(ctx, alice, renderAndCheck("30 9 * * *"))
		require.NoError(t, err)
		require.NotNil(t, w.NextRunAt)

		started, err := f.sched.Tick(ctx)
		require.NoError(t, err)
		assert.Zero(t, started, "09:29 is before the 09:30 run")
		assert.Empty(t, f.runs(t, alice.Owner()))

		f.clock.set(monday.Add(90 * time.Second))
		started, err = f.sched.Tick(ctx)
		require.NoError(t, err)
		assert.Equal(t, 1, started)
		started, err = f.sched.Tick(ctx)
		require.NoError(t, err)
		assert.Zero(t, started, "a run once claimed is not started again")

		runs := f.runs(t, alice.Owner())
		require.Len(t, runs, 1)
		_, run := f.finished(t, alice.Owner(), runs[0].ID)
		assert.Equal(t, workflows.TriggerSchedule, run.Trigger)
		assert.Equal(t, workflows.RunSucceeded, run.Status)
		calls := f.pipe.made()
		require.Len(t, calls, 2)
		assert.Equal(t, "https://jarvis.test/artifacts/a1", calls[1].args["audioUrl"])
		assert.Equal(t, "tempo 84", calls[1].args["note"], "a reference inside text is put in as text")
		assert.Equal(t, alice.Owner(), calls[0].principal.Owner())
		assert.Equal(t, []string{"actions:read", "actions:write"}, calls[0].principal.Scopes)
		assert.Equal(t, runs[0].ID+":gen", calls[0].key, "each step has a key of its own, so that a retried run answers the same")

		stored, err := f.svc.Get(ctx, alice.Owner(), w.ID)
		require.NoError(t, err)
		assert.Equal(t, time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC), *stored.NextRunAt)

		// After a long outage the missed times are not made up; the schedule goes on from now.
		f.clock.set(time.Date(2026, 12, 20, 12, 0, 0, 0, time.UTC))
		started, err = f.sched.Tick(ctx)
		require.NoError(t, err)
		assert.Zero(t, started)
		stored, err = f.svc.Get(ctx, alice.Owner(), w.ID)
		require.NoError(t, err)
		assert.Equal(t, time.Date(2026, 12, 21, 9, 30, 0, 0, time.UTC), *stored.NextRunAt)
	})
}

// The scheduler's periodic task ticks at the start of each minute.
func TestSchedulerTicksEachMinute(t *testing.T) {
	task := workflows.NewScheduler(nil, nil, time.Now, zerolog.Nop()).Task()
	at := time.Date(2026, 11, 30, 9, 29, 41, 5, time.UTC)
	assert.Equal(t, time.Date(2026, 11, 30, 9, 30, 0, 0, time.UTC), task.Next(at))
	assert.Equal(t, time.Date(2026, 11, 30, 9, 31, 0, 0, time.UTC), task.Next(task.Next(at)))
}

// A workflow made with an API key acts as that key at run time; once the key is revoked its
// runs fail before any step.
func TestRunsActAsTheOwnersKey(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ks := keyStore{"k1": {ID: "k1", Tenant: "acme", User: "carol", Scopes: []string{"actions:read"}, DailyQuota: 7}}
		f := newFixture(t, db, ks)
		ctx := context.Background()
		carol := services.Principal{Tenant: "acme", User: "carol", KeyID: "k1", Method: services.MethodAPIKey, Scopes: []string{"actions:read", "actions:write"}}
		w, err := f.svc.Create(ctx, carol, renderAndCheck(""))
		require.NoError(t, err)

		j, err := f.engine.Create(ctx, carol.Owner(), jobs.TypeWorkflowRun, workflows.RunParams{WorkflowID: w.ID, Trigger: workflows.TriggerExecute}, "")
		require.NoError(t, err)
		_, run := f.finished(t, carol.Owner(), j.ID)
		assert.Equal(t, workflows.RunSucceeded, run.Status)
		p := f.pipe.made()[0].principal
		assert.Equal(t, "k1", p.KeyID)
		assert.Equal(t, []string{"actions:read"}, p.Scopes, "the key's scopes as it now stands")
		assert.EqualValues(t, 7, p.DailyQuota)

		revoked := time.Now()
		k := ks["k1"]
		k.RevokedAt = &revoked
		ks["k1"] = k
		j, err = f.engine.Create(ctx, carol.Owner(), jobs.TypeWorkflowRun, workflows.RunParams{WorkflowID: w.ID, Trigger: workflows.TriggerExecute}, "")
		require.NoError(t, err)
		failed, _ := f.finished(t, carol.Owner(), j.ID)
		assert.Equal(t, jobs.Failed, failed.Status)
		require.NotNil(t, failed.Problem)
		assert.Equal(t, services.CodeForbidden, failed.Problem.Code)
		assert.Contains(t, failed.Problem.Detail, "revoked")
		assert.Len(t, f.pipe.made(), 2, "no step ran for the revoked key")
	})
}

// Cancelling a run lets the step under way finish and runs no further step.
func TestCancelStopsBeforeTheNextStep(t *testing.T) {
	db := storagetest.Open(t, storagetest.SQLiteURL(t))
	f := newFixture(t, db, nil)
	ctx := context.Background()
	w, err := f.svc.Create(ctx, alice, renderAndCheck(""))
	require.NoError(t, err)
	release := make(chan struct{})
	f.pipe.block = release
	j, err := f.engine.Create(ctx, alice.Owner(), jobs.TypeWorkflowRun, workflows.RunParams{WorkflowID: w.ID, Trigger: workflows.TriggerExecute}, "")
	require.NoError(t, err)
	deadline := time.Now().Add(10 * time.Second)
	for len(f.pipe.made()) == 0 {
		require.False(t, time.Now().After(deadline), "the first step never started")
		time.Sleep(5 * time.Millisecond)
	}
	_, err = f.engine.Cancel(ctx, alice.Owner(), j.ID)
	require.NoError(t, err)
	close(release)
	done, _ := f.finished(t, alice.Owner(), j.ID)
	assert.Equal(t, jobs.Cancelled, done.Status)
	assert.Len(t, f.pipe.made(), 1, "the second step never ran")
}

// Workflows are kept per owner on both databases: another user's id is not found, pages are
// newest first, and an update replaces the definition and the principal runs act as.
func TestStoreIsScopedToTheOwner(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db, nil)
		ctx := context.Background()
		var ids []string
		for range 3 {
			w, err := f.svc.Create(ctx, alice, renderAndCheck(""))
			require.NoError(t, err)
			ids = append(ids, w.ID)
		}
		_, err := f.svc.Get(ctx, bob.Owner(), ids[0])
		se, ok := services.AsError(err)
		require.True(t, ok, "%v", err)
		assert.Equal(t, services.CodeNotFound, se.Code)
		_, err = f.svc.Update(ctx, bob, ids[0], renderAndCheck(""))
		se, _ = services.AsError(err)
		require.NotNil(t, se)
		assert.Equal(t, services.CodeNotFound, se.Code)
		se, _ = services.AsError(f.svc.Delete(ctx, bob.Owner(), ids[0]))
		require.NotNil(t, se)
		assert.Equal(t, services.CodeNotFound, se.Code)

		page, err := f.svc.List(ctx, alice.Owner(), "", 2)
		require.NoError(t, err)
		require.Len(t, page.Workflows, 2)
		assert.Equal(t, []string{ids[2], ids[1]}, []string{page.Workflows[0].ID, page.Workflows[1].ID})
		rest, err := f.svc.List(ctx, alice.Owner(), page.NextCursor, 2)
		require.NoError(t, err)
		require.Len(t, rest.Workflows, 1)
		assert.Equal(t, ids[0], rest.Workflows[0].ID)
		assert.Empty(t, rest.NextCursor)
		_, err = f.svc.List(ctx, alice.Owner(), "not-a-cursor", 2)
		se, _ = services.AsError(err)
		require.NotNil(t, se)
		assert.Equal(t, services.CodeValidation, se.Code)
		empty, err := f.svc.List(ctx, bob.Owner(), "", 10)
		require.NoError(t, err)
		assert.Empty(t, empty.Workflows)

		f.clock.set(time.Now())
		spec := renderAndCheck("0 9 * * 1")
		spec.Steps[1].OnError = workflows.OnErrorContinue
		upd, err := f.svc.Update(ctx, services.Principal{Tenant: "acme", User: "alice", Method: services.MethodDevelopment, Scopes: []string{"admin"}}, ids[0], spec)
		require.NoError(t, err)
		got, err := f.svc.Get(ctx, alice.Owner(), ids[0])
		require.NoError(t, err)
		assert.Equal(t, upd.Steps, got.Steps)
		assert.Equal(t, workflows.OnErrorStop, got.Steps[0].OnError, "the default is filled in")
		assert.Equal(t, workflows.OnErrorContinue, got.Steps[1].OnError)
		assert.Equal(t, workflows.Actor{Method: services.MethodDevelopment, Scopes: []string{"admin"}}, got.Actor)
		require.NotNil(t, got.NextRunAt)
		assert.Equal(t, time.Monday, got.NextRunAt.Weekday())

		require.NoError(t, f.svc.Delete(ctx, alice.Owner(), ids[0]))
		_, err = f.svc.Get(ctx, alice.Owner(), ids[0])
		require.Error(t, err)
	})
}
