package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivertype"
)

// River rescues a running job only once its attempt is older than RescueStuckJobsAfter, which
// must exceed the longest attempt (minutes), so a job whose process was killed looked running
// for that long. A heartbeat tells a dead process from a long job within seconds: the worker
// of each running job writes heartbeat_at every HeartbeatInterval, and every process looks,
// as often, for running jobs whose heartbeat is older than StaleAfter. A process started under
// an instance id also takes back at once the jobs its predecessor of that id was running.

// beat writes the job's heartbeat until the returned stop is called.
func (s *Service) beat(ctx context.Context, id string) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(s.cfg.HeartbeatInterval)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				if err := s.store.heartbeat(ctx, id, s.now()); err != nil && ctx.Err() == nil {
					s.log.Warn().Err(err).Str("jobId", id).Msg("job heartbeat")
				}
			}
		}
	}()
	return func() { cancel(); <-done }
}

func (s *Service) sweepLoop(ctx context.Context) {
	defer s.sweeper.Done()
	tick := time.NewTicker(s.cfg.HeartbeatInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if _, err := s.Rescue(ctx, s.now()); err != nil && ctx.Err() == nil {
				s.log.Warn().Err(err).Msg("rescue jobs whose heartbeat stopped")
			}
		}
	}
}

// Rescue makes River run again the jobs it believes running whose heartbeat is older than
// StaleAfter at now, or fail them when they have no attempt left. It returns how many it took.
func (s *Service) Rescue(ctx context.Context, now time.Time) (int, error) {
	cutoff := now.Add(-s.cfg.StaleAfter)
	// A job River runs but whose row was not yet marked started has no heartbeat of this
	// attempt; the horizon on the attempt's start keeps a job just fetched from being taken.
	return s.rescue(ctx, `COALESCE(j.heartbeat_at, 0) < $1`, cutoff.UnixMilli(), cutoff)
}

// rescuePredecessor takes the jobs still running under this process's instance id: they were
// its predecessor's, which is gone, since one id is one process at a time.
func (s *Service) rescuePredecessor(ctx context.Context) (int, error) {
	return s.rescue(ctx, `j.worker = $1`, s.river.ID(), s.now())
}

type stuckJob struct {
	id                   string
	riverID              int64
	attempt, maxAttempts int
	attempts             int // the jobs row's count, which a new attempt changes
}

// rescue takes the jobs River believes running that match cond (on jobs j, with one parameter
// arg) and whose attempt began before horizon.
func (s *Service) rescue(ctx context.Context, cond string, arg any, horizon time.Time) (int, error) {
	// Literal statuses so that the partial index on unfinished jobs applies.
	rows, err := s.db.QueryContext(ctx, `SELECT j.id, r.id, r.attempt, r.max_attempts, j.attempts
		FROM jobs j JOIN river_job r ON r.id = j.river_id
		WHERE j.status IN ('queued', 'running') AND r.state = 'running' AND `+cond, arg)
	if err != nil {
		return 0, err
	}
	var list []stuckJob
	for rows.Next() {
		var j stuckJob
		if err := rows.Scan(&j.id, &j.riverID, &j.attempt, &j.maxAttempts, &j.attempts); err != nil {
			rows.Close()
			return 0, err
		}
		list = append(list, j)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(list) == 0 {
		return 0, err
	}

	// River's client offers no way to rerun a job it believes running: JobRetry leaves running
	// jobs alone, and JobCancel only signals the client running it, which is dead. Its rescuer
	// does it with the driver's JobRescueMany, written for each database and guarded on the
	// job still running an attempt begun before the horizon, so a job that finished or started
	// again meanwhile is left alone. The same statement is used here; the job is made available
	// at once (as JobRetry does) rather than retryable, which would wait for the leader's
	// scheduler, and discarded when it has no attempt left, for Reconcile to fail.
	now := s.now().UTC()
	params := &riverdriver.JobRescueManyParams{StuckHorizon: horizon}
	discarded := 0
	for _, j := range list {
		e, err := json.Marshal(rivertype.AttemptError{At: now, Attempt: j.attempt,
			Error: "The process running this attempt stopped: its heartbeat is gone."})
		if err != nil {
			return 0, err
		}
		state, finalized := rivertype.JobStateAvailable, (*time.Time)(nil)
		if j.attempt >= j.maxAttempts {
			state, finalized = rivertype.JobStateDiscarded, &now
			discarded++
		}
		params.ID = append(params.ID, j.riverID)
		params.Error = append(params.Error, e)
		params.FinalizedAt = append(params.FinalizedAt, finalized)
		params.ScheduledAt = append(params.ScheduledAt, now)
		params.State = append(params.State, string(state))
	}
	if _, err := s.river.Driver().GetExecutor().JobRescueMany(ctx, params); err != nil {
		return 0, fmt.Errorf("rescue jobs: %w", err)
	}
	for _, j := range list {
		if j.attempt < j.maxAttempts {
			if _, err := s.db.ExecContext(ctx, `UPDATE jobs SET status = $1, message = $2 WHERE id = $3 AND status = $4 AND attempts = $5`,
				string(Queued), "The server running it stopped; it will be run again.", j.id, string(Running), j.attempts); err != nil {
				return 0, err
			}
		}
		s.log.Warn().Str("jobId", j.id).Int("attempt", j.attempt).Msg("rescued a job whose process stopped")
	}
	if discarded > 0 {
		if err := s.Reconcile(ctx); err != nil {
			return 0, err
		}
	}
	return len(list), nil
}
