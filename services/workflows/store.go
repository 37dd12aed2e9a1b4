package workflows

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/storage"
)

// ErrNotFound is a workflow that does not exist for the owner asking.
var ErrNotFound = errors.New("workflow not found")

// Store keeps workflows in the database, each read scoped to its owner.
type Store struct {
	db *storage.DB
}

// NewStore returns a store over db, which must be migrated.
func NewStore(db *storage.DB) *Store { return &Store{db: db} }

var (
	idMu      sync.Mutex
	idEntropy = ulid.Monotonic(rand.Reader, 0)
)

// newID sorts by creation, so that listings are newest first by id alone.
func newID(t time.Time) string {
	idMu.Lock()
	defer idMu.Unlock()
	return "wf_" + ulid.MustNew(ulid.Timestamp(t), idEntropy).String()
}

const columns = `id, tenant, user_id, name, description, steps, schedule, next_run_at, owner_key_id, owner_method, owner_scopes, created_at, updated_at`

// insert stores w, giving it its id.
func (s *Store) insert(ctx context.Context, w *Workflow) error {
	w.ID = newID(w.CreatedAt)
	steps, err := json.Marshal(w.Steps)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO workflows (`+columns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		w.ID, w.Owner.Tenant, w.Owner.User, w.Name, w.Description, string(steps), nullString(w.Schedule), nullTime(w.NextRunAt),
		w.Actor.KeyID, w.Actor.Method, strings.Join(w.Actor.Scopes, " "), w.CreatedAt.UnixMilli(), w.UpdatedAt.UnixMilli())
	return err
}

// replace writes w's definition and actor over the stored one of the same owner.
func (s *Store) replace(ctx context.Context, w Workflow) error {
	steps, err := json.Marshal(w.Steps)
	if err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, `UPDATE workflows SET name = $1, description = $2, steps = $3, schedule = $4, next_run_at = $5,
		owner_key_id = $6, owner_method = $7, owner_scopes = $8, updated_at = $9 WHERE id = $10 AND tenant = $11 AND user_id = $12`,
		w.Name, w.Description, string(steps), nullString(w.Schedule), nullTime(w.NextRunAt),
		w.Actor.KeyID, w.Actor.Method, strings.Join(w.Actor.Scopes, " "), w.UpdatedAt.UnixMilli(), w.ID, w.Owner.Tenant, w.Owner.User)
	if err != nil {
		return err
	}
	return oneRow(res)
}

// Get reads the owner's workflow.
func (s *Store) Get(ctx context.Context, owner services.Owner, id string) (Workflow, error) {
	return scan(s.db.QueryRowContext(ctx, `SELECT `+columns+` FROM workflows WHERE id = $1 AND tenant = $2 AND user_id = $3`,
		id, owner.Tenant, owner.User))
}

// Delete removes the owner's workflow.
func (s *Store) Delete(ctx context.Context, owner services.Owner, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM workflows WHERE id = $1 AND tenant = $2 AND user_id = $3`, id, owner.Tenant, owner.User)
	if err != nil {
		return err
	}
	return oneRow(res)
}

// Page is one page of a listing.
type Page struct {
	Workflows  []Workflow
	NextCursor string
}

type position struct {
	ID string `json:"id"`
}

// ErrBadCursor is a cursor this store did not write.
var ErrBadCursor = errors.New("unreadable cursor")

// List pages through the owner's workflows, newest first.
func (s *Store) List(ctx context.Context, owner services.Owner, cursor string, limit int) (Page, error) {
	q := `SELECT ` + columns + ` FROM workflows WHERE tenant = $1 AND user_id = $2`
	args := []any{owner.Tenant, owner.User}
	if cursor != "" {
		var pos position
		if err := storage.DecodeCursor(cursor, &pos); err != nil || pos.ID == "" {
			return Page{}, ErrBadCursor
		}
		q += ` AND id < $3`
		args = append(args, pos.ID)
	}
	q += fmt.Sprintf(` ORDER BY id DESC LIMIT %d`, limit+1)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return Page{}, err
	}
	defer rows.Close()
	var page Page
	for rows.Next() {
		w, err := scan(rows)
		if err != nil {
			return Page{}, err
		}
		page.Workflows = append(page.Workflows, w)
	}
	if err := rows.Err(); err != nil {
		return Page{}, err
	}
	if len(page.Workflows) > limit {
		page.Workflows = page.Workflows[:limit]
		page.NextCursor = storage.EncodeCursor(position{ID: page.Workflows[limit-1].ID})
	}
	return page, nil
}

// Due lists the scheduled workflows whose next run is at or before now, of every owner.
func (s *Store) Due(ctx context.Context, now time.Time, limit int) ([]Workflow, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+columns+` FROM workflows WHERE next_run_at IS NOT NULL AND next_run_at <= $1
		ORDER BY next_run_at, id LIMIT `+fmt.Sprint(limit), now.UnixMilli())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Workflow
	for rows.Next() {
		w, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// advance moves a workflow's next run from was to next, and reports whether this caller did
// it: of two schedulers that saw the same due run, only one claims it.
func (s *Store) advance(ctx context.Context, id string, was time.Time, next *time.Time) (bool, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE workflows SET next_run_at = $1 WHERE id = $2 AND next_run_at = $3`,
		nullTime(next), id, was.UnixMilli())
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func oneRow(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

type scanner interface{ Scan(...any) error }

func scan(r scanner) (Workflow, error) {
	var (
		w                Workflow
		steps, scopes    string
		schedule         sql.NullString
		next             sql.NullInt64
		created, updated int64
	)
	err := r.Scan(&w.ID, &w.Owner.Tenant, &w.Owner.User, &w.Name, &w.Description, &steps, &schedule, &next,
		&w.Actor.KeyID, &w.Actor.Method, &scopes, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return Workflow{}, ErrNotFound
	}
	if err != nil {
		return Workflow{}, err
	}
	if err := json.Unmarshal([]byte(steps), &w.Steps); err != nil {
		return Workflow{}, fmt.Errorf("workflow %s has unreadable steps: %w", w.ID, err)
	}
	w.Schedule = schedule.String
	if next.Valid {
		t := time.UnixMilli(next.Int64).UTC()
		w.NextRunAt = &t
	}
	w.Actor.Scopes = strings.Fields(scopes)
	w.CreatedAt, w.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	return w, nil
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMilli()
}
