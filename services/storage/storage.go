// Package storage opens Jarvis's database, SQLite under the data dir by default or PostgreSQL
// for scale-out, and keeps its schema current. Both are reached through database/sql with
// the same SQL ($n placeholders, ON CONFLICT, RETURNING), so every store has one
// implementation and one test suite.
package storage

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/XSAM/otelsql"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// Dialect names the database in use.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is the application's database.
type DB struct {
	*sql.DB
	Dialect Dialect
	// Location is the SQLite file or the PostgreSQL URL without its password, for reports.
	Location string
}

// Option changes how Open opens the database.
type Option func(*options)

type options struct{ traced bool }

// Traced instruments every statement with OpenTelemetry. It costs allocations on every call
// even when no span is made, so it is for servers that export traces.
func Traced() Option { return func(o *options) { o.traced = true } }

// Open connects to databaseURL: a postgres:// or postgresql:// URL, or a sqlite: path; empty
// means SQLite at dataDir/jarvis.db.
func Open(ctx context.Context, databaseURL, dataDir string, opts ...Option) (*DB, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	switch {
	case strings.HasPrefix(databaseURL, "postgres://"), strings.HasPrefix(databaseURL, "postgresql://"):
		return openPostgres(ctx, databaseURL, o)
	case databaseURL == "":
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return nil, fmt.Errorf("create data dir: %w", err)
		}
		return openSQLite(ctx, filepath.Join(dataDir, "jarvis.db"), o)
	case strings.HasPrefix(databaseURL, "sqlite:"):
		path, _ := SQLiteFile(databaseURL, dataDir)
		if path == "" {
			return nil, errors.New("sqlite: URL names no file")
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("create database dir: %w", err)
		}
		return openSQLite(ctx, path, o)
	}
	return nil, errors.New("the database URL must start with postgres://, postgresql:// or sqlite")
}

// SQLiteFile is the file Open uses for databaseURL and dataDir, when it is SQLite.
func SQLiteFile(databaseURL, dataDir string) (string, bool) {
	switch {
	case databaseURL == "":
		return filepath.Join(dataDir, "jarvis.db"), true
	case strings.HasPrefix(databaseURL, "sqlite:"):
		return strings.TrimPrefix(strings.TrimPrefix(databaseURL, "sqlite:"), "//"), true
	}
	return "", false
}

func openSQLite(ctx context.Context, path string, o options) (*DB, error) {
	if err := ownerOnly(path); err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	// WAL lets readers proceed beside the writer; the busy timeout waits out a lock instead of
	// failing; immediate transactions take the write lock up front so they never deadlock on
	// an upgrade.
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)" +
		"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	db, err := o.open("sqlite", dsn, semconv.DBSystemNameSQLite)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	// River's SQLite driver and SQLite itself want one writer: a single connection serialises
	// the job queue and the application's own statements without SQLITE_BUSY.
	db.SetMaxOpenConns(1)
	db.SetConnMaxIdleTime(0)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	return &DB{DB: db, Dialect: SQLite, Location: path}, nil
}

// ownerOnly makes the database file readable by the service's user only, creating it empty if
// need be: SQLite creates its WAL and shared-memory files with the database file's mode, and
// by default would make all three world-readable. Files an earlier version left open to others
// are closed to them.
func ownerOnly(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if info, err := os.Stat(p); err == nil && info.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(p, info.Mode().Perm()&0o700); err != nil {
				return err
			}
		}
	}
	return nil
}

func openPostgres(ctx context.Context, url string, o options) (*DB, error) {
	db, err := o.open("pgx", url, semconv.DBSystemNamePostgreSQL)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	db.SetMaxOpenConns(20)
	db.SetMaxIdleConns(10)
	db.SetConnMaxIdleTime(5 * time.Minute)
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	return &DB{DB: db, Dialect: Postgres, Location: redact(url)}, nil
}

// Describe names the database Open uses for databaseURL and dataDir, without a password.
func Describe(databaseURL, dataDir string) string {
	if path, ok := SQLiteFile(databaseURL, dataDir); ok {
		return string(SQLite) + " " + path
	}
	return string(Postgres) + " " + redact(databaseURL)
}

// open opens the database, traced through OpenTelemetry's database/sql instrumentation when
// asked. A statement gets a span only inside a recording span (a request's or a job run's), so
// that the job queue's polling, which runs outside any, does not flood the traces.
func (o options) open(driverName, dsn string, system attribute.KeyValue) (*sql.DB, error) {
	if !o.traced {
		return sql.Open(driverName, dsn)
	}
	return otelsql.Open(driverName, dsn,
		otelsql.WithAttributes(system),
		otelsql.WithSpanOptions(otelsql.SpanOptions{
			OmitConnResetSession: true,
			OmitConnPrepare:      true,
			OmitRows:             true,
			SpanFilter: func(ctx context.Context, _ otelsql.Method, _ string, _ []driver.NamedValue) bool {
				return trace.SpanFromContext(ctx).IsRecording()
			},
		}))
}

func redact(url string) string {
	scheme, rest, ok := strings.Cut(url, "://")
	if !ok {
		return url
	}
	creds, host, ok := strings.Cut(rest, "@")
	if !ok {
		return url
	}
	user, _, _ := strings.Cut(creds, ":")
	return scheme + "://" + user + "@" + host
}

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migration is one schema change, applied once, in name order.
type Migration struct {
	Name string
	SQL  string
}

// Migrations lists the application's schema changes.
func Migrations() ([]Migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	out := make([]Migration, 0, len(names))
	for _, n := range names {
		b, err := migrationFiles.ReadFile(n)
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Name: strings.TrimSuffix(filepath.Base(n), ".sql"), SQL: string(b)})
	}
	return out, nil
}

const migrationsTable = "jarvis_schema_migrations"

// Migrate applies the migrations not yet applied, each in its own transaction, and returns
// the names it applied. Concurrent starts on PostgreSQL serialise on an advisory lock.
func (db *DB) Migrate(ctx context.Context) ([]string, error) {
	migrations, err := Migrations()
	if err != nil {
		return nil, err
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+migrationsTable+` (
		name TEXT PRIMARY KEY,
		applied_at BIGINT NOT NULL
	)`); err != nil {
		return nil, fmt.Errorf("create migrations table: %w", err)
	}
	var applied []string
	for _, m := range migrations {
		done, err := db.applyOne(ctx, m)
		if err != nil {
			return applied, fmt.Errorf("migration %s: %w", m.Name, err)
		}
		if done {
			applied = append(applied, m.Name)
		}
	}
	return applied, nil
}

func (db *DB) applyOne(ctx context.Context, m Migration) (bool, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after commit
	if db.Dialect == Postgres {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7734001)`); err != nil {
			return false, err
		}
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+migrationsTable+` WHERE name = $1`, m.Name).Scan(&n); err != nil {
		return false, err
	}
	if n > 0 {
		return false, nil
	}
	for _, stmt := range splitStatements(m.SQL) {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return false, fmt.Errorf("%w\n%s", err, stmt)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO `+migrationsTable+` (name, applied_at) VALUES ($1, $2)`,
		m.Name, time.Now().UnixMilli()); err != nil {
		return false, err
	}
	return true, tx.Commit()
}

// Pending lists the migrations not yet applied.
func (db *DB) Pending(ctx context.Context) ([]string, error) {
	migrations, err := Migrations()
	if err != nil {
		return nil, err
	}
	applied := map[string]bool{}
	rows, err := db.QueryContext(ctx, `SELECT name FROM `+migrationsTable)
	if err != nil {
		// No migrations table yet: everything is pending.
		var all []string
		for _, m := range migrations {
			all = append(all, m.Name)
		}
		return all, nil
	}
	defer rows.Close()
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		applied[n] = true
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var pending []string
	for _, m := range migrations {
		if !applied[m.Name] {
			pending = append(pending, m.Name)
		}
	}
	return pending, nil
}

// splitStatements splits a migration on semicolons that end a line; the migrations contain no
// procedural code, so this is enough.
func splitStatements(sqlText string) []string {
	var out []string
	for _, part := range strings.Split(sqlText, ";\n") {
		var lines []string
		for _, l := range strings.Split(part, "\n") {
			if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "--") {
				lines = append(lines, l)
			}
		}
		if s := strings.TrimSpace(strings.TrimSuffix(strings.Join(lines, "\n"), ";")); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Placeholder is the nth (1-based) bind parameter. Statements written once use $n on both
// databases; a statement built with many parameters uses this, since SQLite looks a named
// parameter such as $n up by name, which costs time in the number of parameters.
func (db *DB) Placeholder(n int) string {
	if db.Dialect == SQLite {
		return "?"
	}
	return "$" + strconv.Itoa(n)
}
