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
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
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

// versionTable records the applied migrations in goose's layout.
const versionTable = "jarvis_schema_versions"

// legacyVersionTable is where Jarvis recorded applied migrations, by name, before goose.
const legacyVersionTable = "jarvis_schema_migrations"

// Migrations names the application's schema changes, in the order they apply.
func Migrations() ([]string, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(names))
	for _, n := range names {
		out = append(out, migrationName(n))
	}
	sort.Strings(out)
	return out, nil
}

func migrationName(path string) string { return strings.TrimSuffix(filepath.Base(path), ".sql") }

// Migrate applies the migrations not yet applied, each in its own transaction, and returns
// the names it applied. Concurrent starts on PostgreSQL serialise on an advisory lock.
func (db *DB) Migrate(ctx context.Context) ([]string, error) {
	p, err := db.migrations(ctx)
	if err != nil {
		return nil, err
	}
	results, err := p.Up(ctx)
	var applied []string
	for _, r := range results {
		if r.Error == nil && !r.Empty {
			applied = append(applied, migrationName(r.Source.Path))
		}
	}
	if err != nil {
		var partial *goose.PartialError
		if errors.As(err, &partial) && partial.Failed != nil {
			return applied, fmt.Errorf("migration %s: %w", migrationName(partial.Failed.Source.Path), partial.Err)
		}
		return applied, err
	}
	return applied, nil
}

// Pending lists the migrations not yet applied.
func (db *DB) Pending(ctx context.Context) ([]string, error) {
	p, err := db.migrations(ctx)
	if err != nil {
		return nil, err
	}
	status, err := p.Status(ctx)
	if err != nil {
		return nil, err
	}
	var pending []string
	for _, s := range status {
		if s.State == goose.StatePending {
			pending = append(pending, migrationName(s.Source.Path))
		}
	}
	return pending, nil
}

// migrations is goose's view of this database.
func (db *DB) migrations(ctx context.Context) (*goose.Provider, error) {
	dialect := goose.DialectSQLite3
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true), goose.WithLogger(goose.NopLogger())}
	if db.Dialect == Postgres {
		dialect = goose.DialectPostgres
		opts = append(opts, goose.WithSessionLocker(waitingLocker{}))
	}
	store, err := database.NewStore(dialect, versionTable)
	if err != nil {
		return nil, err
	}
	if err := db.prepareVersionTable(ctx, store); err != nil {
		return nil, fmt.Errorf("prepare %s: %w", versionTable, err)
	}
	files, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	return goose.NewProvider("", db.DB, files, append(opts, goose.WithStore(store))...)
}

// prepareVersionTable makes goose's table if there is none, and records in it the migrations
// that the legacy table lists as applied, then drops the legacy table, in one transaction: a
// database migrated by an earlier Jarvis goes on from where it was instead of running its
// migrations again. Making the table here, under the lock, spares replicas that start together
// goose's race to create it, which it settles by retrying a second later.
func (db *DB) prepareVersionTable(ctx context.Context, store database.Store) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after commit
	if db.Dialect == Postgres {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
			return err
		}
	}
	current, err := db.tableExists(ctx, tx, versionTable)
	if err != nil {
		return err
	}
	if !current {
		if err := store.CreateVersionTable(ctx, tx); err != nil {
			return err
		}
		if err := store.Insert(ctx, tx, database.InsertRequest{Version: 0}); err != nil {
			return err
		}
	}
	legacy, err := db.tableExists(ctx, tx, legacyVersionTable)
	if err != nil {
		return err
	}
	if !legacy {
		return tx.Commit()
	}
	rows, err := tx.QueryContext(ctx, `SELECT name FROM `+legacyVersionTable+` ORDER BY name`)
	if err != nil {
		return err
	}
	var versions []int64
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return err
		}
		prefix, _, _ := strings.Cut(name, "_")
		v, err := strconv.ParseInt(prefix, 10, 64)
		if err != nil {
			rows.Close()
			return fmt.Errorf("migration %q has no version number", name)
		}
		versions = append(versions, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, v := range versions {
		_, err := store.GetMigration(ctx, tx, v)
		if err == nil {
			continue
		}
		if !errors.Is(err, database.ErrVersionNotFound) {
			return err
		}
		if err := store.Insert(ctx, tx, database.InsertRequest{Version: v}); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `DROP TABLE `+legacyVersionTable); err != nil {
		return err
	}
	return tx.Commit()
}

// migrationLock is the PostgreSQL advisory lock that serialises migrations on one database.
const migrationLock = 7734001

// waitingLocker holds migrationLock for a goose run. goose's own locker polls for the lock every
// five seconds; this one waits in PostgreSQL, so a replica that starts behind another goes on
// the moment the first has finished.
type waitingLocker struct{}

func (waitingLocker) SessionLock(ctx context.Context, conn *sql.Conn) error {
	_, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrationLock)
	return err
}

func (waitingLocker) SessionUnlock(ctx context.Context, conn *sql.Conn) error {
	_, err := conn.ExecContext(ctx, `SELECT pg_advisory_unlock($1)`, migrationLock)
	return err
}

func (db *DB) tableExists(ctx context.Context, tx *sql.Tx, name string) (bool, error) {
	q := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = $1`
	if db.Dialect == Postgres {
		q = `SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = $1`
	}
	var n int
	err := tx.QueryRowContext(ctx, q, name).Scan(&n)
	return n > 0, err
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
