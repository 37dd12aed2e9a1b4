// Package usage meters calls per caller, operation and UTC day: calls, errors and total
// duration. Calls are counted in memory and added to the database in batches, so that the
// request path never waits for a write.
package usage

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/storage"
)

// DayLayout is how days are written: UTC dates.
const DayLayout = "2006-01-02"

type rowKey struct {
	day, subject, operation string
}

type counts struct {
	method, keyID, tenant, user string
	calls, errors, durationMs   int64
}

// Meter counts calls and keeps the counts in the database.
type Meter struct {
	db  *storage.DB
	log zerolog.Logger
	now func() time.Time

	mu      sync.Mutex
	pending map[rowKey]*counts
	flushMu sync.Mutex // one flush at a time, so that a failed batch is merged back in order

	stop chan struct{}
	done chan struct{}
}

// NewMeter returns a meter writing to db every interval; 0 leaves writing to Flush.
func NewMeter(db *storage.DB, log zerolog.Logger, interval time.Duration) *Meter {
	m := &Meter{db: db, log: log, now: time.Now, pending: map[rowKey]*counts{},
		stop: make(chan struct{}), done: make(chan struct{})}
	go m.loop(interval)
	return m
}

func (m *Meter) loop(interval time.Duration) {
	defer close(m.done)
	if interval <= 0 {
		<-m.stop
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), interval)
			if err := m.Flush(ctx); err != nil {
				m.log.Warn().Err(err).Msg("usage: write counts; keeping them for the next try")
			}
			cancel()
		}
	}
}

// Close stops the periodic writes and writes what is pending.
func (m *Meter) Close() error {
	select {
	case <-m.stop:
		return nil
	default:
	}
	close(m.stop)
	<-m.done
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return m.Flush(ctx)
}

// Record counts one call of operation by p that took d; failed calls are also counted as errors.
func (m *Meter) Record(p services.Principal, operation string, failed bool, d time.Duration) {
	k := rowKey{day: m.now().UTC().Format(DayLayout), subject: p.Subject(), operation: operation}
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.pending[k]
	if c == nil {
		c = &counts{method: p.Method, keyID: p.KeyID, tenant: p.Tenant, user: p.User}
		m.pending[k] = c
	}
	c.calls++
	if failed {
		c.errors++
	}
	c.durationMs += d.Milliseconds()
}

// Flush adds the pending counts to the database in one transaction. On failure they stay
// pending.
func (m *Meter) Flush(ctx context.Context) error {
	m.flushMu.Lock()
	defer m.flushMu.Unlock()
	m.mu.Lock()
	batch := m.pending
	m.pending = map[rowKey]*counts{}
	m.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	if err := m.write(ctx, batch); err != nil {
		m.mu.Lock()
		for k, c := range batch {
			if cur := m.pending[k]; cur != nil {
				cur.calls += c.calls
				cur.errors += c.errors
				cur.durationMs += c.durationMs
			} else {
				m.pending[k] = c
			}
		}
		m.mu.Unlock()
		return err
	}
	return nil
}

func (m *Meter) write(ctx context.Context, batch map[rowKey]*counts) error {
	tx, err := m.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after commit
	for k, c := range batch {
		if _, err := tx.ExecContext(ctx, `INSERT INTO usage_daily
			(day, subject, operation, method, key_id, tenant, user_id, calls, errors, duration_ms)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
			ON CONFLICT (day, subject, operation) DO UPDATE SET
				calls = usage_daily.calls + excluded.calls,
				errors = usage_daily.errors + excluded.errors,
				duration_ms = usage_daily.duration_ms + excluded.duration_ms`,
			k.day, k.subject, k.operation, c.method, c.keyID, c.tenant, c.user, c.calls, c.errors, c.durationMs); err != nil {
			return fmt.Errorf("add usage: %w", err)
		}
	}
	return tx.Commit()
}

// Row is one caller's use of one operation on one day.
type Row struct {
	Day        string
	Subject    string
	Operation  string
	Method     string
	KeyID      string
	Tenant     string
	User       string
	Calls      int64
	Errors     int64
	DurationMs int64
}

// Filter selects rows: days From to To inclusive (UTC dates), optionally one key or operation,
// at most Limit rows after Cursor.
type Filter struct {
	From, To  string
	KeyID     string
	Operation string
	Limit     int
	Cursor    string
}

type cursor struct {
	Day       string `json:"d"`
	Subject   string `json:"s"`
	Operation string `json:"o"`
}

// Query reads rows newest day first, after writing what is pending here. Its next cursor is
// "" on the last page.
func (m *Meter) Query(ctx context.Context, f Filter) ([]Row, string, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	if err := m.Flush(ctx); err != nil {
		m.log.Warn().Err(err).Msg("usage: write counts before reading")
	}
	where := []string{"day >= $1", "day <= $2"}
	args := []any{f.From, f.To}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", fmt.Sprintf("$%d", len(args))))
	}
	if f.KeyID != "" {
		add("key_id = ?", f.KeyID)
	}
	if f.Operation != "" {
		add("operation = ?", f.Operation)
	}
	if f.Cursor != "" {
		c, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, "", &services.Error{Code: services.CodeValidation, Err: err,
				Detail: "The cursor is not one this server gave. Pass nextCursor from the previous page unchanged, or leave it out.",
				Fields: []services.FieldError{{Field: "query:cursor", Message: "is not a cursor this server gave"}}}
		}
		args = append(args, c.Day, c.Subject, c.Operation)
		n := len(args)
		where = append(where, fmt.Sprintf("(day < $%d OR (day = $%d AND (subject > $%d OR (subject = $%d AND operation > $%d))))",
			n-2, n-2, n-1, n-1, n))
	}
	args = append(args, f.Limit+1)
	q := `SELECT day, subject, operation, method, key_id, tenant, user_id, calls, errors, duration_ms
		FROM usage_daily WHERE ` + strings.Join(where, " AND ") +
		fmt.Sprintf(` ORDER BY day DESC, subject, operation LIMIT $%d`, len(args))
	rows, err := m.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, "", fmt.Errorf("read usage: %w", err)
	}
	defer rows.Close()
	var out []Row
	for rows.Next() {
		var r Row
		if err := rows.Scan(&r.Day, &r.Subject, &r.Operation, &r.Method, &r.KeyID, &r.Tenant, &r.User,
			&r.Calls, &r.Errors, &r.DurationMs); err != nil {
			return nil, "", err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > f.Limit {
		out = out[:f.Limit]
		last := out[len(out)-1]
		next = encodeCursor(cursor{Day: last.Day, Subject: last.Subject, Operation: last.Operation})
	}
	return out, next, nil
}

func encodeCursor(c cursor) string { return storage.EncodeCursor(c) }

func decodeCursor(s string) (cursor, error) {
	var c cursor
	if err := storage.DecodeCursor(s, &c); err != nil {
		return c, err
	}
	if _, err := time.Parse(DayLayout, c.Day); err != nil || c.Subject == "" || c.Operation == "" {
		return c, errors.New("incomplete cursor")
	}
	return c, nil
}
