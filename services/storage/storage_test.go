package storage_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/services/storage"
	"github.com/aidawg/jarvis/services/storage/storagetest"
)

func TestMigrateIsIdempotent(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		pending, err := db.Pending(ctx)
		require.NoError(t, err)
		assert.Empty(t, pending)
		applied, err := db.Migrate(ctx)
		require.NoError(t, err)
		assert.Empty(t, applied, "a second run applies nothing")

		// The same statements and placeholders run on both databases.
		_, err = db.ExecContext(ctx, `INSERT INTO jobs (id, tenant, owner, type, status, params, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, "job_1", "t", "u", "forecast", "queued", "{}", int64(1))
		require.NoError(t, err)
		var status string
		require.NoError(t, db.QueryRowContext(ctx, `UPDATE jobs SET status = $1 WHERE id = $2 RETURNING status`, "running", "job_1").Scan(&status))
		assert.Equal(t, "running", status)
	})
}

func TestFreshDatabaseHasEveryMigrationPending(t *testing.T) {
	db, err := storage.Open(context.Background(), storagetest.SQLiteURL(t), "")
	require.NoError(t, err)
	defer db.Close()
	pending, err := db.Pending(context.Background())
	require.NoError(t, err)
	all, err := storage.Migrations()
	require.NoError(t, err)
	assert.Len(t, pending, len(all))
	assert.NotEmpty(t, all)
}

func TestOpenRejectsUnknownURLs(t *testing.T) {
	_, err := storage.Open(context.Background(), "mysql://localhost/x", t.TempDir())
	assert.ErrorContains(t, err, "postgres://")
}
