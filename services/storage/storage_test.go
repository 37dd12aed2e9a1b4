package storage_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
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

// A database migrated before goose, whose record is the legacy table of names, goes on from
// where it was: what it has applied is not applied again, and the rest is.
func TestMigrateCarriesOverTheLegacyRecord(t *testing.T) {
	for name, url := range map[string]func(testing.TB) string{"sqlite": storagetest.SQLiteURL, "postgres": storagetest.PostgresURL} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db, err := storage.Open(ctx, url(t), "")
			require.NoError(t, err)
			defer db.Close()
			all, err := storage.Migrations()
			require.NoError(t, err)
			require.Greater(t, len(all), 3)

			// The first three applied and recorded by name, as the earlier migrator did.
			_, err = db.ExecContext(ctx, `CREATE TABLE jarvis_schema_migrations (name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)`)
			require.NoError(t, err)
			for _, m := range all[:3] {
				sqlText, err := os.ReadFile(filepath.Join("migrations", m+".sql"))
				require.NoError(t, err)
				for _, stmt := range strings.Split(string(sqlText), ";\n") {
					if strings.TrimSpace(stripComments(stmt)) != "" {
						_, err := db.ExecContext(ctx, stmt)
						require.NoError(t, err, m)
					}
				}
				_, err = db.ExecContext(ctx, `INSERT INTO jarvis_schema_migrations (name, applied_at) VALUES ($1, 1)`, m)
				require.NoError(t, err)
			}

			pending, err := db.Pending(ctx)
			require.NoError(t, err)
			assert.Equal(t, all[3:], pending)
			applied, err := db.Migrate(ctx)
			require.NoError(t, err, "a migration already applied would fail on its CREATE TABLE")
			assert.Equal(t, all[3:], applied)

			var legacy int
			q := `SELECT COUNT(*) FROM sqlite_master WHERE name = 'jarvis_schema_migrations'`
			if db.Dialect == storage.Postgres {
				q = `SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'jarvis_schema_migrations'`
			}
			require.NoError(t, db.QueryRowContext(ctx, q).Scan(&legacy))
			assert.Zero(t, legacy, "the legacy table is dropped once carried over")
			pending, err = db.Pending(ctx)
			require.NoError(t, err)
			assert.Empty(t, pending)
		})
	}
}

func stripComments(stmt string) string {
	var b strings.Builder
	for _, l := range strings.Split(stmt, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "--") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// Replicas that start together on one PostgreSQL database apply each migration once.
func TestConcurrentMigrationsApplyEachOnce(t *testing.T) {
	url := storagetest.PostgresURL(t)
	ctx := context.Background()
	const replicas = 4
	applied := make([][]string, replicas)
	var wg sync.WaitGroup
	errs := make([]error, replicas)
	for i := range replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := storage.Open(ctx, url, "")
			if err != nil {
				errs[i] = err
				return
			}
			defer db.Close()
			applied[i], errs[i] = db.Migrate(ctx)
		}()
	}
	wg.Wait()
	var total []string
	for i := range replicas {
		require.NoError(t, errs[i])
		total = append(total, applied[i]...)
	}
	all, err := storage.Migrations()
	require.NoError(t, err)
	assert.ElementsMatch(t, all, total, "every migration applied by exactly one replica")
}
