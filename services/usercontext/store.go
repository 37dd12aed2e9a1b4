// Package usercontext remembers each user's actions, preferences and conversations, and
// suggests what they might do next.
package usercontext

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/storage"
)

// Bounds of what is kept per user.
const (
	HistorySize = 50
	RecentSize  = 20
)

// Entry is one recorded action.
type Entry struct {
	Seq         int64
	At          time.Time
	OperationID string
	Module      string
	// Params is the request's body; the history stores its Summarize, made when the entry is
	// written, so that entries a busy batch does not keep are never summarised.
	Params         map[string]any
	Outcome        string // "ok" or the problem's code
	DurationMs     int
	JobID          string
	ConversationID string
	// Follow carries what a follow-up call needs, such as the link to a generated track.
	Follow map[string]any
}

// OK reports whether the action succeeded.
func (e Entry) OK() bool { return e.Outcome == "ok" }

// DefaultParams are values for optional fields of one operation's requests.
type DefaultParams struct {
	OperationID string         `json:"operationId"`
	Params      map[string]any `json:"params"`
}

// Notifications say what the user wants to hear about.
type Notifications struct {
	JobCompletion bool `json:"jobCompletion"`
	Errors        bool `json:"errors"`
}

// Preferences are the user's settings.
type Preferences struct {
	FavouriteModules []string        `json:"favouriteModules"`
	DefaultParams    []DefaultParams `json:"defaultParams"`
	OutputFormat     string          `json:"outputFormat"`
	Notifications    Notifications   `json:"notifications"`
}

// DefaultPreferences are a new user's.
func DefaultPreferences() Preferences {
	return Preferences{FavouriteModules: []string{}, DefaultParams: []DefaultParams{}, OutputFormat: "detailed",
		Notifications: Notifications{JobCompletion: true, Errors: true}}
}

// Defaults returns the default params for an operation.
func (p Preferences) Defaults(operationID string) map[string]any {
	for _, d := range p.DefaultParams {
		if d.OperationID == operationID {
			return d.Params
		}
	}
	return nil
}

// Stats summarise a user's activity.
type Stats struct {
	Total           int
	SuccessRate     float64
	FavouriteModule string
	TopOperations   []OperationCount
	AverageSession  *time.Duration
}

// OperationCount is how often the user called an operation.
type OperationCount struct {
	OperationID string
	Module      string
	Count       int
}

// Session is the data of one conversation.
type Session struct {
	ConversationID string
	StartedAt      time.Time
	LastActiveAt   time.Time
	Data           map[string]string
}

// Context is everything remembered of a user.
type Context struct {
	FirstSeen   *time.Time
	LastActive  *time.Time
	Preferences Preferences
	History     []Entry // newest first, at most HistorySize
	Stats       Stats
	Session     *Session
}

// Store keeps contexts in the application database.
type Store struct {
	db         *storage.DB
	sessionTTL time.Duration
	now        func() time.Time
}

// NewStore keeps contexts in db; a conversation's data lasts sessionTTL past its last action.
func NewStore(db *storage.DB, sessionTTL time.Duration) *Store {
	return &Store{db: db, sessionTTL: sessionTTL, now: time.Now}
}

// record writes a batch of one user's entries in one transaction: counters, entries, session
// data, and the trim to the newest HistorySize entries.
func (s *Store) record(ctx context.Context, owner services.Owner, entries []Entry) error {
	if len(entries) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after commit
	ok := 0
	for _, e := range entries {
		if e.OK() {
			ok++
		}
	}
	first, last := entries[0].At.UnixMilli(), entries[len(entries)-1].At.UnixMilli()
	// The upsert takes the row lock on PostgreSQL, so that concurrent writers for one user
	// serialise here and the trim below never races another insert.
	if _, err := tx.ExecContext(ctx, `INSERT INTO user_contexts (tenant, user_id, first_seen, last_active, total_actions, ok_actions)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (tenant, user_id) DO UPDATE SET last_active = excluded.last_active,
			total_actions = user_contexts.total_actions + excluded.total_actions,
			ok_actions = user_contexts.ok_actions + excluded.ok_actions`,
		owner.Tenant, owner.User, first, last, len(entries), ok); err != nil {
		return err
	}
	// One multi-row insert and one counter update per operation: a batch costs a few
	// statements, not a few per entry, which matters when actions arrive by the thousand.
	var values strings.Builder
	args := make([]any, 0, min(len(entries), HistorySize)*11)
	type count struct {
		module string
		n      int
	}
	counts := map[string]*count{}
	var order []string
	// Entries beyond the newest HistorySize of the batch would be trimmed in this same write:
	// they count, but are not stored.
	kept := entries[max(0, len(entries)-HistorySize):]
	for _, e := range entries {
		if c, ok := counts[e.OperationID]; ok {
			c.n++
		} else {
			counts[e.OperationID] = &count{e.Module, 1}
			order = append(order, e.OperationID)
		}
	}
	for i, e := range kept {
		params, err := json.Marshal(Summarize(e.Params))
		if err != nil {
			return err
		}
		var follow, job any
		if len(e.Follow) > 0 {
			b, err := json.Marshal(e.Follow)
			if err != nil {
				return err
			}
			follow = string(b)
		}
		if e.JobID != "" {
			job = e.JobID
		}
		if i > 0 {
			values.WriteString(", ")
		}
		values.WriteByte('(')
		for k := 1; k <= 11; k++ {
			if k > 1 {
				values.WriteString(", ")
			}
			values.WriteString(s.db.Placeholder(len(args) + k))
		}
		values.WriteByte(')')
		args = append(args, owner.Tenant, owner.User, e.Seq, e.At.UnixMilli(), e.OperationID, e.Module, string(params),
			e.Outcome, e.DurationMs, job, follow)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO context_entries (tenant, user_id, seq, at, operation, module, params,
		outcome, duration_ms, job_id, follow) VALUES `+values.String(), args...); err != nil {
		return err
	}
	for _, op := range order {
		c := counts[op]
		if _, err := tx.ExecContext(ctx, `INSERT INTO context_operation_counts (tenant, user_id, operation, module, count)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant, user_id, operation) DO UPDATE SET count = context_operation_counts.count + excluded.count`,
			owner.Tenant, owner.User, op, c.module, c.n); err != nil {
			return err
		}
	}
	for _, e := range entries {
		if e.ConversationID != "" {
			if err := s.touchSession(ctx, tx, owner, e); err != nil {
				return err
			}
		}
	}
	_, err = tx.ExecContext(ctx, `DELETE FROM context_entries WHERE tenant = $1 AND user_id = $2 AND seq < (
		SELECT MIN(seq) FROM (SELECT seq FROM context_entries WHERE tenant = $1 AND user_id = $2 ORDER BY seq DESC LIMIT $3) AS newest)`,
		owner.Tenant, owner.User, HistorySize)
	if err != nil {
		return err
	}
	return tx.Commit()
}

// touchSession starts or extends the conversation's session and keeps what its follow-ups need.
func (s *Store) touchSession(ctx context.Context, tx *sql.Tx, owner services.Owner, e Entry) error {
	data := map[string]string{}
	var raw string
	var started, lastActive int64
	err := tx.QueryRowContext(ctx, `SELECT data, started_at, last_active FROM context_sessions WHERE tenant = $1 AND user_id = $2
		AND conversation_id = $3`, owner.Tenant, owner.User, e.ConversationID).Scan(&raw, &started, &lastActive)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		started = e.At.UnixMilli()
	case err != nil:
		return err
	case e.At.Sub(time.UnixMilli(lastActive)) > s.sessionTTL:
		started = e.At.UnixMilli() // the conversation lapsed: its data goes with it
	default:
		_ = json.Unmarshal([]byte(raw), &data)
	}
	data["lastOperation"] = e.OperationID
	if e.JobID != "" {
		data["lastJobId"] = e.JobID
	}
	for k, v := range e.Follow {
		if str, ok := v.(string); ok && len(data) < 20 {
			data[k] = str
		}
	}
	b, err := json.Marshal(data)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO context_sessions (tenant, user_id, conversation_id, started_at, last_active, actions, data)
		VALUES ($1, $2, $3, $4, $5, 1, $6) ON CONFLICT (tenant, user_id, conversation_id) DO UPDATE SET
		started_at = excluded.started_at, last_active = excluded.last_active,
		actions = CASE WHEN context_sessions.started_at = excluded.started_at THEN context_sessions.actions + 1 ELSE 1 END,
		data = excluded.data`,
		owner.Tenant, owner.User, e.ConversationID, started, e.At.UnixMilli(), string(b))
	return err
}

// Get reads the user's context, with the session of conversationID when given.
func (s *Store) Get(ctx context.Context, owner services.Owner, conversationID string) (Context, error) {
	c := Context{Preferences: DefaultPreferences(), History: []Entry{}}
	var first, last, total, ok int64
	var prefs sql.NullString
	err := s.db.QueryRowContext(ctx, `SELECT first_seen, last_active, total_actions, ok_actions, preferences
		FROM user_contexts WHERE tenant = $1 AND user_id = $2`, owner.Tenant, owner.User).Scan(&first, &last, &total, &ok, &prefs)
	if errors.Is(err, sql.ErrNoRows) {
		c.Stats.TopOperations = []OperationCount{}
		return c, nil
	}
	if err != nil {
		return c, err
	}
	if total > 0 {
		f, l := time.UnixMilli(first).UTC(), time.UnixMilli(last).UTC()
		c.FirstSeen, c.LastActive = &f, &l
	}
	if prefs.Valid {
		if err := json.Unmarshal([]byte(prefs.String), &c.Preferences); err != nil {
			return c, err
		}
	}
	c.Stats.Total = int(total)
	if total > 0 {
		c.Stats.SuccessRate = float64(ok) / float64(total)
	}

	rows, err := s.db.QueryContext(ctx, `SELECT seq, at, operation, module, params, outcome, duration_ms, job_id, follow
		FROM context_entries WHERE tenant = $1 AND user_id = $2 ORDER BY seq DESC LIMIT $3`, owner.Tenant, owner.User, HistorySize)
	if err != nil {
		return c, err
	}
	for rows.Next() {
		var e Entry
		var at int64
		var params string
		var job, follow sql.NullString
		if err := rows.Scan(&e.Seq, &at, &e.OperationID, &e.Module, &params, &e.Outcome, &e.DurationMs, &job, &follow); err != nil {
			rows.Close()
			return c, err
		}
		e.At = time.UnixMilli(at).UTC()
		_ = json.Unmarshal([]byte(params), &e.Params)
		e.JobID = job.String
		if follow.Valid {
			_ = json.Unmarshal([]byte(follow.String), &e.Follow)
		}
		c.History = append(c.History, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return c, err
	}

	counts, err := s.db.QueryContext(ctx, `SELECT operation, module, count FROM context_operation_counts
		WHERE tenant = $1 AND user_id = $2`, owner.Tenant, owner.User)
	if err != nil {
		return c, err
	}
	modules := map[string]int{}
	var all []OperationCount
	for counts.Next() {
		var oc OperationCount
		if err := counts.Scan(&oc.OperationID, &oc.Module, &oc.Count); err != nil {
			counts.Close()
			return c, err
		}
		modules[oc.Module] += oc.Count
		all = append(all, oc)
	}
	counts.Close()
	if err := counts.Err(); err != nil {
		return c, err
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].Count != all[j].Count {
			return all[i].Count > all[j].Count
		}
		return all[i].OperationID < all[j].OperationID
	})
	c.Stats.TopOperations = all[:min(5, len(all))]
	best := 0
	for m, n := range modules {
		if n > best || (n == best && m < c.Stats.FavouriteModule) {
			best, c.Stats.FavouriteModule = n, m
		}
	}

	var avg sql.NullFloat64
	if err := s.db.QueryRowContext(ctx, `SELECT AVG(last_active - started_at) FROM context_sessions
		WHERE tenant = $1 AND user_id = $2`, owner.Tenant, owner.User).Scan(&avg); err != nil {
		return c, err
	}
	if avg.Valid {
		d := time.Duration(avg.Float64) * time.Millisecond
		c.Stats.AverageSession = &d
	}

	if conversationID != "" {
		var started, lastActive int64
		var data string
		err := s.db.QueryRowContext(ctx, `SELECT started_at, last_active, data FROM context_sessions
			WHERE tenant = $1 AND user_id = $2 AND conversation_id = $3 AND last_active >= $4`,
			owner.Tenant, owner.User, conversationID, s.now().Add(-s.sessionTTL).UnixMilli()).Scan(&started, &lastActive, &data)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return c, err
		}
		if err == nil {
			sess := &Session{ConversationID: conversationID, StartedAt: time.UnixMilli(started).UTC(),
				LastActiveAt: time.UnixMilli(lastActive).UTC(), Data: map[string]string{}}
			_ = json.Unmarshal([]byte(data), &sess.Data)
			c.Session = sess
		}
	}
	return c, nil
}

// Preferences reads the user's preferences.
func (s *Store) Preferences(ctx context.Context, owner services.Owner) (Preferences, error) {
	p := DefaultPreferences()
	var raw sql.NullString
	err := s.db.QueryRowContext(ctx, `SELECT preferences FROM user_contexts WHERE tenant = $1 AND user_id = $2`,
		owner.Tenant, owner.User).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !raw.Valid) {
		return p, nil
	}
	if err != nil {
		return p, err
	}
	return p, json.Unmarshal([]byte(raw.String), &p)
}

// SetPreferences replaces the user's preferences.
func (s *Store) SetPreferences(ctx context.Context, owner services.Owner, p Preferences) error {
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	now := s.now().UnixMilli()
	_, err = s.db.ExecContext(ctx, `INSERT INTO user_contexts (tenant, user_id, first_seen, last_active, preferences)
		VALUES ($1, $2, $3, $3, $4) ON CONFLICT (tenant, user_id) DO UPDATE SET preferences = excluded.preferences,
		last_active = excluded.last_active`, owner.Tenant, owner.User, now, string(b))
	return err
}

// erase deletes everything remembered of the user, at once.
func (s *Store) erase(ctx context.Context, owner services.Owner) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after commit
	for _, table := range []string{"context_entries", "context_operation_counts", "context_sessions", "user_contexts"} {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE tenant = $1 AND user_id = $2`, owner.Tenant, owner.User); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// DeleteIdle erases the contexts of users idle since before cutoff, and lapsed sessions. It
// returns how many contexts it erased.
func (s *Store) DeleteIdle(ctx context.Context, cutoff time.Time) (int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT tenant, user_id FROM user_contexts WHERE last_active < $1`, cutoff.UnixMilli())
	if err != nil {
		return 0, err
	}
	var idle []services.Owner
	for rows.Next() {
		var o services.Owner
		if err := rows.Scan(&o.Tenant, &o.User); err != nil {
			rows.Close()
			return 0, err
		}
		idle = append(idle, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, o := range idle {
		if err := s.erase(ctx, o); err != nil {
			return 0, err
		}
	}
	_, err = s.db.ExecContext(ctx, `DELETE FROM context_sessions WHERE last_active < $1`, s.now().Add(-s.sessionTTL).UnixMilli())
	return len(idle), err
}
