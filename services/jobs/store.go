package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/artifacts"
	"github.com/aidawg/jarvis/services/storage"
)

// Status is where a job is in its life.
type Status string

const (
	Queued    Status = "queued"
	Running   Status = "running"
	Completed Status = "completed"
	Failed    Status = "failed"
	Cancelled Status = "cancelled"
)

// Finished reports whether the job will not change any more.
func (s Status) Finished() bool { return s == Completed || s == Failed || s == Cancelled }

// Statuses lists every status, in the order reports show them.
var Statuses = []Status{Queued, Running, Completed, Failed, Cancelled}

// Job is the caller's view of one long action.
type Job struct {
	ID          string
	Owner       services.Owner
	Type        string
	Status      Status
	Progress    int
	Message     string
	ETASeconds  *int
	Params      json.RawMessage
	Result      json.RawMessage
	Problem     *Problem
	CallbackURL string
	Attempts    int
	CreatedAt   time.Time
	StartedAt   *time.Time
	FinishedAt  *time.Time
	Artifacts   []Artifact
}

// Problem is why a job failed, kept with the job so that getJobStatus can answer it.
type Problem struct {
	Code   services.Code `json:"code"`
	Detail string        `json:"detail"`
}

// Artifact is a file a job produced.
type Artifact struct {
	ID          string
	JobID       string
	Name        string
	ContentType string
	SizeBytes   int64
	CreatedAt   time.Time
}

// Filter narrows a listing.
type Filter struct {
	Status Status // "" for all
	Type   string // "" for all
	Cursor string
	Limit  int
}

// Page is one page of a listing, newest first.
type Page struct {
	Jobs       []Job
	NextCursor string
}

// Stats are counts and run-time percentiles over an owner's retained jobs.
type Stats struct {
	Total    int
	ByStatus map[Status]int
	ByType   map[string]int
	P50      *time.Duration
	P95      *time.Duration
}

// Store keeps jobs and their artifacts in the application database.
type Store struct {
	db *storage.DB
}

// NewStore returns the job store over db.
func NewStore(db *storage.DB) *Store { return &Store{db: db} }

// ErrNotFound means the id names no job the owner can see.
var ErrNotFound = errors.New("job not found")

// ErrFinished means the job is already finished.
var ErrFinished = errors.New("job already finished")

const jobColumns = `id, tenant, owner, type, status, progress, message, eta_seconds, params, result, problem,
	callback_url, attempts, created_at, started_at, finished_at`

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func (s *Store) insert(ctx context.Context, q querier, j *Job) error {
	var callback any
	if j.CallbackURL != "" {
		callback = j.CallbackURL
	}
	_, err := q.ExecContext(ctx, `INSERT INTO jobs (id, tenant, owner, type, status, progress, message, params,
		callback_url, created_at) VALUES ($1, $2, $3, $4, $5, 0, $6, $7, $8, $9)`,
		j.ID, j.Owner.Tenant, j.Owner.User, j.Type, j.Status, j.Message, string(j.Params), callback, j.CreatedAt.UnixMilli())
	return err
}

// Get returns the owner's job with its artifacts.
func (s *Store) Get(ctx context.Context, owner services.Owner, id string) (Job, error) {
	j, err := scanJob(s.db.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM jobs WHERE id = $1 AND tenant = $2 AND owner = $3`,
		id, owner.Tenant, owner.User))
	if errors.Is(err, sql.ErrNoRows) {
		return Job{}, ErrNotFound
	}
	if err != nil {
		return Job{}, err
	}
	arts, err := s.artifacts(ctx, []string{j.ID})
	if err != nil {
		return Job{}, err
	}
	j.Artifacts = arts[j.ID]
	return j, nil
}

// getAny reads a job whatever its owner, for the worker.
func (s *Store) getAny(ctx context.Context, id string) (Job, error) {
	j, err := scanJob(s.db.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM jobs WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Job{}, ErrNotFound
	}
	return j, err
}

type cursor struct {
	CreatedAt int64  `json:"c"`
	ID        string `json:"i"`
}

// List returns a page of the owner's jobs, newest first. The cursor is the position of the
// last job of the previous page, so that pages stay stable while new jobs arrive.
func (s *Store) List(ctx context.Context, owner services.Owner, f Filter) (Page, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 20
	}
	args := []any{owner.Tenant, owner.User}
	where := []string{"tenant = $1", "owner = $2"}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	if f.Status != "" {
		add("status = ?", string(f.Status))
	}
	if f.Type != "" {
		add("type = ?", f.Type)
	}
	if f.Cursor != "" {
		c, err := decodeCursor(f.Cursor)
		if err != nil {
			return Page{}, &services.Error{Code: services.CodeValidation, Err: err,
				Detail: "The cursor is not one this server gave. Pass nextCursor from the previous page unchanged, or omit it to start again.",
				Fields: []services.FieldError{{Field: "query:cursor", Message: "is not a cursor from a previous page"}}}
		}
		args = append(args, c.CreatedAt, c.ID)
		n := len(args)
		where = append(where, fmt.Sprintf("(created_at < $%d OR (created_at = $%d AND id < $%d))", n-1, n-1, n))
	}
	args = append(args, limit+1)
	rows, err := s.db.QueryContext(ctx, `SELECT `+jobColumns+` FROM jobs WHERE `+strings.Join(where, " AND ")+
		` ORDER BY created_at DESC, id DESC LIMIT $`+strconv.Itoa(len(args)), args...)
	if err != nil {
		return Page{}, err
	}
	defer rows.Close()
	var page Page
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return Page{}, err
		}
		page.Jobs = append(page.Jobs, j)
	}
	if err := rows.Err(); err != nil {
		return Page{}, err
	}
	if len(page.Jobs) > limit {
		last := page.Jobs[limit-1]
		page.Jobs = page.Jobs[:limit]
		page.NextCursor = encodeCursor(cursor{CreatedAt: last.CreatedAt.UnixMilli(), ID: last.ID})
	}
	ids := make([]string, len(page.Jobs))
	for i, j := range page.Jobs {
		ids[i] = j.ID
	}
	arts, err := s.artifacts(ctx, ids)
	if err != nil {
		return Page{}, err
	}
	for i := range page.Jobs {
		page.Jobs[i].Artifacts = arts[page.Jobs[i].ID]
	}
	return page, nil
}

func encodeCursor(c cursor) string { return storage.EncodeCursor(c) }

func decodeCursor(s string) (cursor, error) {
	var c cursor
	if err := storage.DecodeCursor(s, &c); err != nil {
		return c, err
	}
	if c.ID == "" {
		return c, errors.New("cursor names no job")
	}
	return c, nil
}

// Stats counts the owner's jobs and the run-time percentiles of the finished ones.
func (s *Store) Stats(ctx context.Context, owner services.Owner) (Stats, error) {
	st := Stats{ByStatus: map[Status]int{}, ByType: map[string]int{}}
	rows, err := s.db.QueryContext(ctx, `SELECT status, type, COUNT(*) FROM jobs WHERE tenant = $1 AND owner = $2
		GROUP BY status, type`, owner.Tenant, owner.User)
	if err != nil {
		return st, err
	}
	defer rows.Close()
	for rows.Next() {
		var status, typ string
		var n int
		if err := rows.Scan(&status, &typ, &n); err != nil {
			return st, err
		}
		st.ByStatus[Status(status)] += n
		st.ByType[typ] += n
		st.Total += n
	}
	if err := rows.Err(); err != nil {
		return st, err
	}
	runs, err := s.db.QueryContext(ctx, `SELECT finished_at - started_at FROM jobs WHERE tenant = $1 AND owner = $2
		AND status = $3 AND started_at IS NOT NULL AND finished_at IS NOT NULL`, owner.Tenant, owner.User, string(Completed))
	if err != nil {
		return st, err
	}
	defer runs.Close()
	var ms []int64
	for runs.Next() {
		var d int64
		if err := runs.Scan(&d); err != nil {
			return st, err
		}
		ms = append(ms, d)
	}
	if err := runs.Err(); err != nil {
		return st, err
	}
	if len(ms) > 0 {
		sort.Slice(ms, func(i, j int) bool { return ms[i] < ms[j] })
		p50, p95 := percentile(ms, 50), percentile(ms, 95)
		st.P50, st.P95 = &p50, &p95
	}
	return st, nil
}

// percentile is the nearest-rank percentile of sorted millisecond durations.
func percentile(sorted []int64, p int) time.Duration {
	rank := (p*len(sorted) + 99) / 100
	if rank < 1 {
		rank = 1
	}
	return time.Duration(sorted[rank-1]) * time.Millisecond
}

// start marks a queued job running for an attempt. It reports false when the job is no longer
// queued or running (cancelled meanwhile, or finished by an earlier attempt).
func (s *Store) start(ctx context.Context, id string, attempt int, worker string, now time.Time) (bool, error) {
	message := "Started."
	if attempt > 1 {
		message = fmt.Sprintf("Started again, attempt %d.", attempt)
	}
	res, err := s.db.ExecContext(ctx, `UPDATE jobs SET status = $1, attempts = $2, started_at = COALESCE(started_at, $3),
		message = $4, heartbeat_at = $3, worker = $7 WHERE id = $5 AND status IN ($6, $1) AND cancel_requested = 0`,
		string(Running), attempt, now.UnixMilli(), message, id, string(Queued), worker)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// heartbeat records that a running job's worker is still at it.
func (s *Store) heartbeat(ctx context.Context, id string, now time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE jobs SET heartbeat_at = $1 WHERE id = $2 AND status = $3`,
		now.UnixMilli(), id, string(Running))
	return err
}

// progress records how far a running job is and reports whether cancellation was requested.
func (s *Store) progress(ctx context.Context, id string, pct int, message string, eta *int) (cancelRequested bool, err error) {
	var flag int
	err = s.db.QueryRowContext(ctx, `UPDATE jobs SET progress = $1, message = $2, eta_seconds = $3
		WHERE id = $4 AND status = $5 RETURNING cancel_requested`, pct, message, eta, id, string(Running)).Scan(&flag)
	if errors.Is(err, sql.ErrNoRows) {
		return true, nil // no longer running: stop working on it
	}
	return flag == 1, err
}

// requeue returns a running job to the queue after a failed attempt that will be retried.
func (s *Store) requeue(ctx context.Context, id, message string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE jobs SET status = $1, message = $2 WHERE id = $3 AND status = $4`,
		string(Queued), message, id, string(Running))
	return err
}

// finish moves an unfinished job to a final status, with its result or problem and artifacts,
// in one transaction. It reports false when the job had already finished.
func (s *Store) finish(ctx context.Context, id string, status Status, message string, result json.RawMessage,
	problem *Problem, arts []Artifact, now time.Time) (bool, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after commit
	var resultText, problemText any
	if result != nil {
		resultText = string(result)
	}
	if problem != nil {
		b, err := json.Marshal(problem)
		if err != nil {
			return false, err
		}
		problemText = string(b)
	}
	progressSQL := "progress"
	if status == Completed {
		progressSQL = "100"
	}
	res, err := tx.ExecContext(ctx, `UPDATE jobs SET status = $1, message = $2, result = $3, problem = $4,
		finished_at = $5, eta_seconds = 0, progress = `+progressSQL+`
		WHERE id = $6 AND status IN ($7, $8)`,
		string(status), message, resultText, problemText, now.UnixMilli(), id, string(Queued), string(Running))
	if err != nil {
		return false, err
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return false, err
	}
	for _, a := range arts {
		if _, err := tx.ExecContext(ctx, `INSERT INTO artifacts (id, job_id, name, content_type, size_bytes, created_at)
			VALUES ($1, $2, $3, $4, $5, $6)`, a.ID, id, a.Name, a.ContentType, a.SizeBytes, now.UnixMilli()); err != nil {
			return false, err
		}
	}
	return true, tx.Commit()
}

// requestCancel flags an unfinished job for cancellation and returns it as it now stands.
func (s *Store) requestCancel(ctx context.Context, owner services.Owner, id string) (Job, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE jobs SET cancel_requested = 1 WHERE id = $1 AND tenant = $2 AND owner = $3
		AND status IN ($4, $5)`, id, owner.Tenant, owner.User, string(Queued), string(Running))
	if err != nil {
		return Job{}, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return Job{}, err
	}
	j, err := s.Get(ctx, owner, id)
	if err != nil {
		return Job{}, err
	}
	if n == 0 && j.Status.Finished() {
		return j, ErrFinished
	}
	return j, nil
}

func (s *Store) artifacts(ctx context.Context, jobIDs []string) (map[string][]Artifact, error) {
	out := map[string][]Artifact{}
	if len(jobIDs) == 0 {
		return out, nil
	}
	ph := make([]string, len(jobIDs))
	args := make([]any, len(jobIDs))
	for i, id := range jobIDs {
		ph[i] = "$" + strconv.Itoa(i+1)
		args[i] = id
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, job_id, name, content_type, size_bytes, created_at FROM artifacts
		WHERE job_id IN (`+strings.Join(ph, ", ")+`) ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var a Artifact
		var created int64
		if err := rows.Scan(&a.ID, &a.JobID, &a.Name, &a.ContentType, &a.SizeBytes, &created); err != nil {
			return nil, err
		}
		a.CreatedAt = time.UnixMilli(created).UTC()
		out[a.JobID] = append(out[a.JobID], a)
	}
	return out, rows.Err()
}

// Artifact returns an artifact by id, whoever owns it: its signed URL is the authority.
func (s *Store) Artifact(ctx context.Context, id string) (Artifact, error) {
	var a Artifact
	var created int64
	err := s.db.QueryRowContext(ctx, `SELECT id, job_id, name, content_type, size_bytes, created_at FROM artifacts
		WHERE id = $1`, id).Scan(&a.ID, &a.JobID, &a.Name, &a.ContentType, &a.SizeBytes, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return a, artifacts.ErrNotFound
	}
	a.CreatedAt = time.UnixMilli(created).UTC()
	return a, err
}

// expired deletes finished jobs that finished before cutoff, with their artifacts' rows, and
// returns the artifact ids whose files are to be removed. Queued and running jobs are kept.
func (s *Store) expired(ctx context.Context, cutoff time.Time, batch int) ([]string, int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM jobs WHERE finished_at IS NOT NULL AND finished_at < $1
		AND status IN ($2, $3, $4) ORDER BY finished_at LIMIT $5`,
		cutoff.UnixMilli(), string(Completed), string(Failed), string(Cancelled), batch)
	if err != nil {
		return nil, 0, err
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, 0, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(ids) == 0 {
		return nil, 0, err
	}
	arts, err := s.artifacts(ctx, ids)
	if err != nil {
		return nil, 0, err
	}
	var artIDs []string
	for _, list := range arts {
		for _, a := range list {
			artIDs = append(artIDs, a.ID)
		}
	}
	ph := make([]string, len(ids))
	args := make([]any, len(ids))
	for i, id := range ids {
		ph[i] = "$" + strconv.Itoa(i+1)
		args[i] = id
	}
	res, err := s.db.ExecContext(ctx, `DELETE FROM jobs WHERE id IN (`+strings.Join(ph, ", ")+`)`, args...)
	if err != nil {
		return nil, 0, err
	}
	n, err := res.RowsAffected()
	return artIDs, int(n), err
}

type scanner interface{ Scan(dest ...any) error }

func scanJob(row scanner) (Job, error) {
	var j Job
	var status string
	var eta sql.NullInt64
	var params string
	var result, problem, callback sql.NullString
	var created int64
	var started, finished sql.NullInt64
	err := row.Scan(&j.ID, &j.Owner.Tenant, &j.Owner.User, &j.Type, &status, &j.Progress, &j.Message, &eta, &params,
		&result, &problem, &callback, &j.Attempts, &created, &started, &finished)
	if err != nil {
		return j, err
	}
	j.Status = Status(status)
	if eta.Valid {
		v := int(eta.Int64)
		j.ETASeconds = &v
	}
	j.Params = json.RawMessage(params)
	if result.Valid {
		j.Result = json.RawMessage(result.String)
	}
	if problem.Valid {
		var p Problem
		if err := json.Unmarshal([]byte(problem.String), &p); err == nil {
			j.Problem = &p
		}
	}
	j.CallbackURL = callback.String
	j.CreatedAt = time.UnixMilli(created).UTC()
	if started.Valid {
		t := time.UnixMilli(started.Int64).UTC()
		j.StartedAt = &t
	}
	if finished.Valid {
		t := time.UnixMilli(finished.Int64).UTC()
		j.FinishedAt = &t
	}
	return j, nil
}

// QueueState is how many jobs wait and run, everyone's together.
type QueueState struct {
	Queued, Running int
	Waiting         int // queued since before the cutoff given
}

// QueueState counts the unfinished jobs of every owner.
func (s *Store) QueueState(ctx context.Context, queuedBefore time.Time) (QueueState, error) {
	var q QueueState
	err := s.db.QueryRowContext(ctx, `SELECT
		COALESCE(SUM(CASE WHEN status = $1 THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN status = $2 THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN status = $1 AND created_at < $3 THEN 1 ELSE 0 END), 0)
		FROM jobs WHERE status IN ($1, $2)`, string(Queued), string(Running), queuedBefore.UnixMilli()).Scan(&q.Queued, &q.Running, &q.Waiting)
	return q, err
}

// JobCounts counts every owner's retained jobs by status, for the health report's metrics.
func (s *Store) JobCounts(ctx context.Context) (map[Status]int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT status, COUNT(*) FROM jobs GROUP BY status`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[Status]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, err
		}
		out[Status(st)] = n
	}
	return out, rows.Err()
}
