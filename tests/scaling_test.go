package tests

import (
	"context"
	"net/http"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/gen/client"
	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/keys"
	"github.com/aidawg/jarvis/services/storage/storagetest"
)

func scale(t *testing.T, s *server, req client.ScalingRequest) *client.ManageScalingResponse {
	t.Helper()
	resp, err := s.Client.ManageScalingWithResponse(context.Background(), req)
	require.NoError(t, err)
	return resp
}

func poolOf(t *testing.T, rep client.ScalingReport, name string) client.ResourceStatus {
	t.Helper()
	for _, r := range rep.Resources {
		if string(r.Resource) == name {
			return r
		}
	}
	t.Fatalf("no pool %s in %+v", name, rep.Resources)
	return client.ResourceStatus{}
}

// get-status reports every pool; a change is applied, recorded with who, when, from, to and
// why, and kept in the history; requests out of bounds are problems naming the field.
func TestScalingStatusAndChanges(t *testing.T) {
	t.Parallel()
	s := startServer(t, env{"JARVIS_JOB_WORKERS": "4", "JARVIS_SCALING_BOUNDS": "workers=1-8"})
	status := scale(t, s, client.ScalingRequest{Action: client.ScalingRequestActionGetStatus})
	require.NotNil(t, status.JSON200, "status %d: %s", status.StatusCode(), status.Body)
	rep := status.JSON200.Scaling
	require.Len(t, rep.Resources, 5)
	workers := poolOf(t, rep, "workers")
	assert.Equal(t, 4, workers.Instances)
	assert.Equal(t, 1, workers.MinInstances)
	assert.Equal(t, 8, workers.MaxInstances)
	require.NotNil(t, workers.QueueDepth, "the job queue's depth")
	assert.Positive(t, rep.Memory.HeapBytes)
	db := poolOf(t, rep, "database")
	require.NotNil(t, db.Fixed, "SQLite's one connection cannot be changed")
	assert.Equal(t, client.Jarvis, status.JSON200.Meta.ServedBy)

	before := time.Now().Add(-time.Second)
	up := scale(t, s, client.ScalingRequest{Action: client.ScalingRequestActionScaleUp, Resource: ptr(client.ScalingRequestResourceWorkers),
		Instances: ptr(6), Reason: ptr("a release this week")})
	require.NotNil(t, up.JSON200, "status %d: %s", up.StatusCode(), up.Body)
	require.Len(t, up.JSON200.Scaling.Changes, 1)
	c := up.JSON200.Scaling.Changes[0]
	assert.Equal(t, "workers", c.Resource)
	assert.Equal(t, 4, c.FromInstances)
	assert.Equal(t, 6, c.ToInstances)
	assert.Equal(t, "a release this week", c.Reason)
	assert.Equal(t, "development:dev/dev", c.By)
	assert.WithinRange(t, c.At, before, time.Now().Add(time.Second))
	assert.Equal(t, 6, poolOf(t, up.JSON200.Scaling, "workers").Instances, "applied at once")

	down := scale(t, s, client.ScalingRequest{Action: client.ScalingRequestActionScaleDown, Resource: ptr(client.ScalingRequestResourceWorkers)})
	require.NotNil(t, down.JSON200, "status %d: %s", down.StatusCode(), down.Body)
	assert.Equal(t, 5, poolOf(t, down.JSON200.Scaling, "workers").Instances, "one slot less without instances")
	hist := down.JSON200.Scaling.History
	require.Len(t, hist, 2)
	assert.Equal(t, []int{6, 5}, []int{hist[1].ToInstances, hist[0].ToInstances}, "newest first")

	for _, bad := range []struct {
		req   client.ScalingRequest
		field string
	}{
		{client.ScalingRequest{Action: client.ScalingRequestActionScaleUp, Resource: ptr(client.ScalingRequestResourceWorkers), Instances: ptr(9)}, "/instances"},
		{client.ScalingRequest{Action: client.ScalingRequestActionScaleUp, Resource: ptr(client.ScalingRequestResourceWorkers), Instances: ptr(2)}, "/instances"},
		{client.ScalingRequest{Action: client.ScalingRequestActionScaleUp}, "/resource"},
		{client.ScalingRequest{Action: client.ScalingRequestActionScaleUp, Resource: ptr(client.ScalingRequestResourceWorkers), Instances: ptr(7),
			Constraints: &client.ScalingConstraints{MaxInstances: ptr(6)}}, "/instances"},
		{client.ScalingRequest{Action: client.ScalingRequestActionAutoOptimize, TargetMetric: ptr(client.Latency)}, "/targetValue"},
	} {
		resp := scale(t, s, bad.req)
		require.NotNil(t, resp.ApplicationproblemJSON400, "status %d: %s", resp.StatusCode(), resp.Body)
		require.NotEmpty(t, resp.ApplicationproblemJSON400.Errors)
		assert.Equal(t, bad.field, resp.ApplicationproblemJSON400.Errors[0].Field, "%s", resp.Body)
	}
	fixed := scale(t, s, client.ScalingRequest{Action: client.ScalingRequestActionScaleUp, Resource: ptr(client.ScalingRequestResourceDatabase)})
	require.NotNil(t, fixed.ApplicationproblemJSON422, "status %d: %s", fixed.StatusCode(), fixed.Body)
	assert.Contains(t, fixed.ApplicationproblemJSON422.Detail, "SQLite")
}

// With music-generation scaled down to 1, generations run one at a time: each starts after
// the one before it finished. Scaled up to 3, they overlap again.
func TestScaledDownPoolRunsOneJobAtATime(t *testing.T) {
	t.Parallel()
	s := startServer(t, env{"JARVIS_SYNC_WAIT": "100ms", "JARVIS_EMBEDDED_MUSIC_SPEED": "20", "JARVIS_JOB_WORKERS": "4"})
	resp := scale(t, s, client.ScalingRequest{Action: client.ScalingRequestActionScaleDown, Resource: ptr(client.ScalingRequestResourceMusicGeneration), Instances: ptr(1)})
	require.NotNil(t, resp.JSON200, "status %d: %s", resp.StatusCode(), resp.Body)

	run := func() []client.Job {
		var ids []string
		for range 3 {
			g, err := s.Client.GenerateMusicWithResponse(context.Background(), nil, client.GenerateMusicRequest{Prompt: "a short loop", Duration: ptr(10)})
			require.NoError(t, err)
			require.NotNil(t, g.JSON202, "status %d: %s", g.StatusCode(), g.Body)
			ids = append(ids, g.JSON202.Job.Id)
		}
		var done []client.Job
		for _, id := range ids {
			done = append(done, pollJob(t, s, id, func(j client.Job) bool { return j.Status == "completed" }))
		}
		sort.Slice(done, func(i, j int) bool { return done[i].StartedAt.Before(*done[j].StartedAt) })
		return done
	}
	overlaps := func(jobs []client.Job) int {
		n := 0
		for i := 1; i < len(jobs); i++ {
			if jobs[i].StartedAt.Before(*jobs[i-1].FinishedAt) {
				n++
			}
		}
		return n
	}
	serial := run()
	assert.Zero(t, overlaps(serial), "one at a time: %+v", serial)

	resp = scale(t, s, client.ScalingRequest{Action: client.ScalingRequestActionScaleUp, Resource: ptr(client.ScalingRequestResourceMusicGeneration), Instances: ptr(3)})
	require.NotNil(t, resp.JSON200, "status %d: %s", resp.StatusCode(), resp.Body)
	assert.Positive(t, overlaps(run()), "three slots let the generations overlap")
}

// With the api pool at 1, a second request while one is in flight is shed with a 503 problem
// and Retry-After; manageScaling still passes, and raising the limit serves requests again.
func TestAPILimitShedsLoad(t *testing.T) {
	t.Parallel()
	s := startServer(t, env{"JARVIS_SYNC_WAIT": "20s", "JARVIS_EMBEDDED_MUSIC_SPEED": "5"})
	resp := scale(t, s, client.ScalingRequest{Action: client.ScalingRequestActionScaleDown, Resource: ptr(client.ScalingRequestResourceApi), Instances: ptr(1)})
	require.NotNil(t, resp.JSON200, "status %d: %s", resp.StatusCode(), resp.Body)

	// A generation answered inline holds the one slot for about two seconds.
	var wg sync.WaitGroup
	wg.Add(1)
	var held *client.GenerateMusicResponse
	go func() {
		defer wg.Done()
		held, _ = s.Client.GenerateMusicWithResponse(context.Background(), nil, client.GenerateMusicRequest{Prompt: "a held note", Duration: ptr(10)})
	}()
	var shed *client.GetJobStatsResponse
	require.Eventually(t, func() bool {
		r, err := s.Client.GetJobStatsWithResponse(context.Background())
		if err == nil && r.StatusCode() == http.StatusServiceUnavailable {
			shed = r
			return true
		}
		return false
	}, 5*time.Second, 10*time.Millisecond, "a request past the limit is shed")
	require.NotNil(t, shed.ApplicationproblemJSON503, "%s", shed.Body)
	assert.Equal(t, "unavailable", string(shed.ApplicationproblemJSON503.Code))
	assert.Equal(t, "1", shed.HTTPResponse.Header.Get("Retry-After"))
	assert.Contains(t, shed.ApplicationproblemJSON503.Detail, "api pool")

	resp = scale(t, s, client.ScalingRequest{Action: client.ScalingRequestActionScaleUp, Resource: ptr(client.ScalingRequestResourceApi), Instances: ptr(64)})
	require.NotNil(t, resp.JSON200, "manageScaling passes the limit: status %d: %s", resp.StatusCode(), resp.Body)
	ok, err := s.Client.GetJobStatsWithResponse(context.Background())
	require.NoError(t, err)
	assert.NotNil(t, ok.JSON200, "status %d: %s", ok.StatusCode(), ok.Body)
	wg.Wait()
	require.NotNil(t, held)
	assert.NotNil(t, held.JSON200, "the request holding the slot was served: status %d", held.StatusCode())
}

// Two replicas sharing one PostgreSQL database: a change made on one reaches the other.
func TestScalingReachesEveryReplica(t *testing.T) {
	t.Parallel()
	dbURL := storagetest.PostgresURL(t)
	settings := env{"JARVIS_DATABASE_URL": dbURL, "JARVIS_SCALING_POLL_INTERVAL": "50ms"}
	a, b := startServer(t, settings), startServer(t, settings)
	statusOn := func(s *server) client.ScalingReport {
		r := scale(t, s, client.ScalingRequest{Action: client.ScalingRequestActionGetStatus})
		require.NotNil(t, r.JSON200, "status %d: %s", r.StatusCode(), r.Body)
		return r.JSON200.Scaling
	}
	db := poolOf(t, statusOn(b), "database")
	assert.Nil(t, db.Fixed, "PostgreSQL's pool can be sized")
	resp := scale(t, a, client.ScalingRequest{Action: client.ScalingRequestActionScaleUp, Resource: ptr(client.ScalingRequestResourceAudioAnalysis),
		Instances: ptr(9), Reason: ptr("longer mastering sessions")})
	require.NotNil(t, resp.JSON200, "status %d: %s", resp.StatusCode(), resp.Body)
	resp = scale(t, b, client.ScalingRequest{Action: client.ScalingRequestActionScaleUp, Resource: ptr(client.ScalingRequestResourceDatabase),
		Instances: ptr(db.Instances + 5)})
	require.NotNil(t, resp.JSON200, "status %d: %s", resp.StatusCode(), resp.Body)
	require.Eventually(t, func() bool {
		return poolOf(t, statusOn(b), "audio-analysis").Instances == 9 && poolOf(t, statusOn(a), "database").Instances == db.Instances+5
	}, 5*time.Second, 20*time.Millisecond, "each replica applies the other's change")
	hist := statusOn(b).History
	require.Len(t, hist, 2)
	assert.Equal(t, "longer mastering sessions", hist[1].Reason, "the record is shared")
}

// The pools are the server's own, shared by every tenant: changing or reading them needs admin.
func TestScalingNeedsAdmin(t *testing.T) {
	t.Parallel()
	s := startServer(t, production(nil))
	_, writer := createKey(t, s, keys.NewKey{User: "writer", Scopes: []string{services.ScopeActionsRead, services.ScopeActionsWrite, services.ScopeJobs}})
	resp, err := s.Client.ManageScalingWithResponse(context.Background(), client.ScalingRequest{Action: client.ScalingRequestActionGetStatus}, as(writer))
	require.NoError(t, err)
	require.NotNil(t, resp.ApplicationproblemJSON403, "status %d: %s", resp.StatusCode(), resp.Body)
	_, admin := createKey(t, s, keys.NewKey{User: "ops", Scopes: []string{services.ScopeAdmin}})
	resp, err = s.Client.ManageScalingWithResponse(context.Background(), client.ScalingRequest{Action: client.ScalingRequestActionScaleUp,
		Resource: ptr(client.ScalingRequestResourceAudioAnalysis)}, as(admin))
	require.NoError(t, err)
	require.NotNil(t, resp.JSON200, "status %d: %s", resp.StatusCode(), resp.Body)
	assert.Regexp(t, `^key:`, resp.JSON200.Scaling.Changes[0].By, "the change names the key that made it")
}
