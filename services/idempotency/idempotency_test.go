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

		stored, err := s.Begin(ctx, alice, "k1", "POST /x", fp)
		require.NoError(t, err)
		assert.Nil(t, stored, "the first request handles the work")

		_, err = s.Begin(ctx, alice, "k1", "POST /x", fp)
		assert.ErrorIs(t, err, ErrInProgress, "a repeat while the first is under way waits")
		_, err = s.Begin(ctx, alice, "k1", "POST /x", Fingerprint([]byte(`{"a":2}`)))
		assert.ErrorIs(t, err, ErrMismatch)

		// The first request never completed (its answer could not be stored, or its process died):
		// past the lease a retry takes the key over instead of waiting out the retention period.
		now = now.Add(61 * time.Second)
		stored, err = s.Begin(ctx, alice, "k1", "POST /x", fp)
		require.NoError(t, err)
		assert.Nil(t, stored)
		require.NoError(t, s.Complete(ctx, alice, "k1", Response{Status: 201, ContentType: "application/json", Body: []byte(`{"ok":true}`)}))

		// A completed key replays its answer long after the lease, within the retention period.
		now = now.Add(time.Hour)
		stored, err = s.Begin(ctx, alice, "k1", "POST /x", Fingerprint([]byte(`{ "a": 1 }`)))
		require.NoError(t, err)
		require.NotNil(t, stored)
		assert.Equal(t, 201, stored.Status)
		assert.JSONEq(t, `{"ok":true}`, string(stored.Body))

		bob := services.Owner{Tenant: "t", User: "bob"}
		stored, err = s.Begin(ctx, bob, "k1", "POST /x", fp)
		require.NoError(t, err)
		assert.Nil(t, stored, "keys are per owner")

		// Release lets a refused request be corrected and retried with its key.
		require.NoError(t, s.Release(ctx, bob, "k1"))
		stored, err = s.Begin(ctx, bob, "k1", "POST /x", Fingerprint([]byte(`{"a":3}`)))
		require.NoError(t, err)
		assert.Nil(t, stored)
	})
}
