package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/services/jobs"
	"github.com/aidawg/jarvis/services/storage"
	"github.com/aidawg/jarvis/services/storage/storagetest"
)

// stuckFirstAttempt is work whose first attempt hangs as if its process had died, until ended
// is closed, and whose later attempts finish at once.
func stuckFirstAttempt(started chan<- int, ended <-chan struct{}) jobs.Runner {
	return func(ctx context.Context, j jobs.Job, p *jobs.Progress) (jobs.Outcome, error) {
		started <- j.Attempts + 1
		if j.Attempts == 0 {
			if err := p.Report(ctx, 27, "Working.", time.Minute); err != nil {
				return jobs.Outcome{}, err
			}
			select {
			case <-ctx.Done():
			case <-ended:
			}
			return jobs.Outcome{}, context.Canceled
		}
		return jobs.Outcome{Result: map[string]int{"attempt": j.Attempts + 1}}, nil
	}
}

// rescueConfig beats often, but no sweep of its own finds a job stale in real time: the tests
// call Rescue with a time of their choosing. One worker, so that the engine whose first
// attempt hangs cannot take the job again.
func rescueConfig(instance string, maxAttempts int) jobs.Config {
	cfg := testConfig()
	cfg.InstanceID, cfg.Workers, cfg.MaxAttempts = instance, 1, maxAttempts
	cfg.HeartbeatInterval, cfg.StaleAfter = 20*time.Millisecond, time.Hour
	return cfg
}

func heartbeat(t *testing.T, db *storage.DB, id string) int64 {
	t.Helper()
	var at int64
	require.NoError(t, db.QueryRowContext(context.Background(), `SELECT heartbeat_at FROM jobs WHERE id = $1`, id).Scan(&at))
	return at
}

func TestRescueRunsAgainAJobWhoseHeartbeatStopped(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		started, ended := make(chan int, 10), make(chan struct{})
		runners := map[string]jobs.Runner{"music-generation": stuckFirstAttempt(started, ended)}
		dead := newEngineWith(t, db, rescueConfig("replica-1", 3), runners)
		other := newEngineWith(t, db, rescueConfig("replica-2", 3), runners)
		t.Cleanup(func() { close(ended) }) // before the engines stop, which wait for their work

		j, err := dead.Create(ctx, alice, "music-generation", map[string]string{}, "")
		require.NoError(t, err)
		require.Equal(t, 1, <-started)
		first := heartbeat(t, db, j.ID)
		require.Eventually(t, func() bool { return heartbeat(t, db, j.ID) > first }, 10*time.Second, 10*time.Millisecond,
			"the worker writes heartbeats while the job runs")

		n, err := other.Rescue(ctx, time.Now())
		require.NoError(t, err)
		assert.Zero(t, n, "a job with a fresh heartbeat is left to its worker")

		n, err = other.Rescue(ctx, time.Now().Add(2*time.Hour))
		require.NoError(t, err)
		assert.Equal(t, 1, n)
		require.Equal(t, 2, <-started, "run again, as its second attempt")
		done := waitFinished(t, other, alice, j.ID)
		assert.Equal(t, jobs.Completed, done.Status)
		assert.Equal(t, 2, done.Attempts)
		assert.JSONEq(t, `{"attempt":2}`, string(done.Result))
	})
}

func TestRescueFailsAStaleJobWithNoAttemptLeft(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		started, ended := make(chan int, 10), make(chan struct{})
		runners := map[string]jobs.Runner{"music-generation": stuckFirstAttempt(started, ended)}
		dead := newEngineWith(t, db, rescueConfig("replica-1", 1), runners)
		other := newEngineWith(t, db, rescueConfig("replica-2", 1), runners)
		t.Cleanup(func() { close(ended) })

		j, err := dead.Create(ctx, alice, "music-generation", map[string]string{}, "")
		require.NoError(t, err)
		require.Equal(t, 1, <-started)
		n, err := other.Rescue(ctx, time.Now().Add(2*time.Hour))
		require.NoError(t, err)
		assert.Equal(t, 1, n)
		got, err := other.Get(ctx, alice, j.ID)
		require.NoError(t, err)
		assert.Equal(t, jobs.Failed, got.Status, "failed at once, not left running")
		require.NotNil(t, got.Problem)
		assert.Contains(t, got.Problem.Detail, "stopped")
	})
}

// A process started under the instance id of one that died takes back its jobs at once,
// however fresh their last heartbeat.
func TestRestartedInstanceTakesBackItsPredecessorsJobs(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		started, ended := make(chan int, 10), make(chan struct{})
		runners := map[string]jobs.Runner{"music-generation": stuckFirstAttempt(started, ended)}
		dead := newEngineWith(t, db, rescueConfig("replica-1", 3), runners)
		j, err := dead.Create(ctx, alice, "music-generation", map[string]string{}, "")
		require.NoError(t, err)
		require.Equal(t, 1, <-started)

		again := newEngineWith(t, db, rescueConfig("replica-1", 3), runners)
		t.Cleanup(func() { close(ended) })
		require.Equal(t, 2, <-started)
		done := waitFinished(t, again, alice, j.ID)
		assert.Equal(t, jobs.Completed, done.Status)
		assert.Equal(t, 2, done.Attempts)
	})
}
