// Package storagetest runs a store's test suite against every database Jarvis supports:
// SQLite in a temporary directory, and PostgreSQL at JARVIS_TEST_DATABASE_URL in a schema of
// its own that is dropped afterwards.
package storagetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"net/url"
	"os"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/services/storage"
)

// Each runs fn once per database, as subtests named sqlite and postgres, each with a freshly
// migrated database.
func Each(t *testing.T, fn func(t *testing.T, db *storage.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		fn(t, Open(t, SQLiteURL(t)))
	})
	t.Run("postgres", func(t *testing.T) {
		fn(t, Open(t, PostgresURL(t)))
	})
}

// Open opens and migrates url, closing it when the test ends.
func Open(t testing.TB, url string) *storage.DB {
	t.Helper()
	db, err := storage.Open(context.Background(), url, t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	_, err = db.Migrate(context.Background())
	require.NoError(t, err)
	return db
}

// SQLiteURL names a database file in a temporary directory.
func SQLiteURL(t testing.TB) string {
	t.Helper()
	return "sqlite:" + t.TempDir() + "/jarvis.db"
}

// PostgresURL makes an empty schema in the test database and returns a URL whose connections
// use it; the schema is dropped when the test ends. Without JARVIS_TEST_DATABASE_URL the test
// is skipped, or fails when JARVIS_TEST_REQUIRE_SERVICES=1.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := RequireEnv(t, "JARVIS_TEST_DATABASE_URL")
	schema := "jarvis_test_" + strings.ToLower(rand.Text()[:12])
	admin, err := sql.Open("pgx", base)
	require.NoError(t, err)
	t.Cleanup(func() { admin.Close() })
	_, err = admin.Exec(`CREATE SCHEMA ` + schema)
	require.NoError(t, err, "create schema in %s", base)
	t.Cleanup(func() {
		_, _ = admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
	})
	u, err := url.Parse(base)
	require.NoError(t, err)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// RequireEnv returns the value of a service URL variable, or skips the test saying why (fails
// it when JARVIS_TEST_REQUIRE_SERVICES=1).
func RequireEnv(t testing.TB, name string) string {
	t.Helper()
	if v := strings.TrimSpace(os.Getenv(name)); v != "" {
		return v
	}
	if os.Getenv("JARVIS_TEST_REQUIRE_SERVICES") == "1" {
		t.Fatalf("%s is not set and JARVIS_TEST_REQUIRE_SERVICES=1", name)
	}
	t.Skipf("%s is not set; set it to run this test against the real service", name)
	return ""
}
