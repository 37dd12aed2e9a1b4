package idempotency

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/storage"
	"github.com/aidawg/jarvis/services/storage/storagetest"
)

func TestKeys(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		alice := services.Owner{Tenant: "t", User: "alice"}
		now := time.Unix(1_800_000_000, 0)
		s := NewStore(db, 24*time.Hour, time.Minute)
		s.now = func() time.Time { return now }
		fp := Fingerprint([]byte(`{"a":1}`))

		claim, err := s.Begin(ctx, alice, "k1", "POST /x", fp)
		require.NoError(t, err)
		assert.Zero(t, claim, "the first request handles the work")

		_, err = s.Begin(ctx, alice, "k1", "POST /x", fp)
		assert.ErrorIs(t, err, ErrInProgress, "a repeat while the first is under way waits")
		_, err = s.Begin(ctx, alice, "k1", "POST /x", Fingerprint([]byte(`{"a":2}`)))
		assert.ErrorIs(t, err, ErrMismatch)

		// The first request never completed (its answer could not be stored, or its process died):
		// past the lease a retry takes the key over instead of waiting out the retention period.
		now = now.Add(61 * time.Second)
		claim, err = s.Begin(ctx, alice, "k1", "POST /x", fp)
		require.NoError(t, err)
		assert.Zero(t, claim)
		require.NoError(t, s.Complete(ctx, alice, "k1", Response{Status: 201, ContentType: "application/json", Body: []byte(`{"ok":true}`)}))

		// A completed key replays its answer long after the lease, within the retention period.
		now = now.Add(time.Hour)
		claim, err = s.Begin(ctx, alice, "k1", "POST /x", Fingerprint([]byte(`{ "a": 1 }`)))
		require.NoError(t, err)
		require.NotNil(t, claim.Replay)
		assert.Equal(t, 201, claim.Replay.Status)
		assert.JSONEq(t, `{"ok":true}`, string(claim.Replay.Body))

		bob := services.Owner{Tenant: "t", User: "bob"}
		claim, err = s.Begin(ctx, bob, "k1", "POST /x", fp)
		require.NoError(t, err)
		assert.Zero(t, claim, "keys are per owner")

		// Release lets a refused request be corrected and retried with its key.
		require.NoError(t, s.Release(ctx, bob, "k1"))
		claim, err = s.Begin(ctx, bob, "k1", "POST /x", Fingerprint([]byte(`{"a":3}`)))
		require.NoError(t, err)
		assert.Zero(t, claim)
	})
}

// A key follows the job its request started: a retry answers the job, whether the first
// request is still waiting, died without answering, or answered while the job was unfinished.
func TestKeyFollowsItsJob(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		alice := services.Owner{Tenant: "t", User: "alice"}
		now := time.Unix(1_800_000_000, 0)
		s := NewStore(db, 24*time.Hour, time.Minute)
		s.now = func() time.Time { return now }
		fp := Fingerprint([]byte(`{"a":1}`))
		attach := func(key, jobID string) {
			tx, err := db.BeginTx(ctx, nil)
			require.NoError(t, err)
			require.NoError(t, s.AttachJob(ctx, tx, alice, key, jobID))
			require.NoError(t, tx.Commit())
		}

		claim, err := s.Begin(ctx, alice, "k1", "POST /x", fp)
		require.NoError(t, err)
		require.Zero(t, claim)
		attach("k1", "job_1")

		claim, err = s.Begin(ctx, alice, "k1", "POST /x", fp)
		require.NoError(t, err)
		assert.Equal(t, Claim{JobID: "job_1"}, claim, "a repeat while the first waits answers the job")
		_, err = s.Begin(ctx, alice, "k1", "POST /x", Fingerprint([]byte(`{"a":2}`)))
		assert.ErrorIs(t, err, ErrMismatch)

		// Its request's process died: past the lease the key still names the job, which is run
		// again, rather than being taken over for a second job.
		now = now.Add(time.Hour)
		claim, err = s.Begin(ctx, alice, "k1", "POST /x", fp)
		require.NoError(t, err)
		assert.Equal(t, Claim{JobID: "job_1"}, claim)

		// Answered unfinished, the key goes on answering the job; once answered finished, the
		// answer is replayed.
		require.NoError(t, s.Complete(ctx, alice, "k1", Response{Status: 202, ContentType: "application/json", Body: []byte(`{"job":{}}`)}))
		claim, err = s.Begin(ctx, alice, "k1", "POST /x", fp)
		require.NoError(t, err)
		assert.Equal(t, Claim{JobID: "job_1"}, claim)
		require.NoError(t, s.Complete(ctx, alice, "k1", Response{Status: 200, ContentType: "application/json", Body: []byte(`{"track":{}}`)}))
		claim, err = s.Begin(ctx, alice, "k1", "POST /x", fp)
		require.NoError(t, err)
		require.NotNil(t, claim.Replay)
		assert.Equal(t, 200, claim.Replay.Status)

		// A job answered unfinished that then failed releases its key for a new attempt.
		claim, err = s.Begin(ctx, alice, "k2", "POST /x", fp)
		require.NoError(t, err)
		require.Zero(t, claim)
		attach("k2", "job_2")
		require.NoError(t, s.Complete(ctx, alice, "k2", Response{Status: 202, ContentType: "application/json", Body: []byte(`{}`)}))
		require.NoError(t, s.Release(ctx, alice, "k2"))
		claim, err = s.Begin(ctx, alice, "k2", "POST /x", fp)
		require.NoError(t, err)
		assert.Zero(t, claim)
	})
}
