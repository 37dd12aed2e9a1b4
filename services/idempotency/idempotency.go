// Package idempotency remembers the outcome of requests sent with an Idempotency-Key, so that a
// retried request gets the first answer instead of doing the work twice.
package idempotency

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/storage"
)

// Store keeps keys per owner for a retention period.
type Store struct {
	db    *storage.DB
	ttl   time.Duration
	lease time.Duration
	now   func() time.Time
}

// NewStore keeps answered keys for ttl. A key claimed by a request that has not answered within
// lease is taken to have lost its request (a crash, an answer that could not be stored) and
// may be claimed again, so that a retry is not refused for the whole retention period.
func NewStore(db *storage.DB, ttl, lease time.Duration) *Store {
	return &Store{db: db, ttl: ttl, lease: lease, now: time.Now}
}

// Response is a stored answer.
type Response struct {
	Status      int    `json:"status"`
	ContentType string `json:"contentType"`
	Body        []byte `json:"body"`
}

// Outcomes of Begin.
var (
	ErrInProgress = errors.New("a request with this key is still being handled")
	ErrMismatch   = errors.New("this key was used for a different request")
)

// Claim is what Begin found for a request.
type Claim struct {
	Replay *Response // the answer to replay: the same request already succeeded
	// JobID is the job the first request started, when it was not finally answered: it died
	// before answering, is still waiting, or answered while the job was unfinished (202). The
	// request answers that job as it now stands.
	JobID string
}

// Begin claims key for a request to operation with the given body fingerprint. It returns a
// zero Claim when the caller should handle the request (and then Complete or Release the key),
// a Claim with the answer to replay or the job to answer, or ErrInProgress or ErrMismatch.
func (s *Store) Begin(ctx context.Context, owner services.Owner, key, operation, fingerprint string) (Claim, error) {
	now := s.now()
	res, err := s.db.ExecContext(ctx, `INSERT INTO idempotency_keys (tenant, owner, key, operation, body_hash, status, created_at)
		VALUES ($1, $2, $3, $4, $5, 0, $6) ON CONFLICT (tenant, owner, key) DO NOTHING`,
		owner.Tenant, owner.User, key, operation, fingerprint, now.UnixMilli())
	if err != nil {
		return Claim{}, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return Claim{}, err
	}
	var op, hash string
	var status int
	var stored, jobID sql.NullString
	var created int64
	err = s.db.QueryRowContext(ctx, `SELECT operation, body_hash, status, response, job_id, created_at FROM idempotency_keys
		WHERE tenant = $1 AND owner = $2 AND key = $3`, owner.Tenant, owner.User, key).Scan(&op, &hash, &status, &stored, &jobID, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return s.Begin(ctx, owner, key, operation, fingerprint) // released meanwhile
	}
	if err != nil {
		return Claim{}, err
	}
	age := now.Sub(time.UnixMilli(created))
	// A request that started a job is not lost with its process: the job carries on (or is
	// run again), and the key follows it however long that takes.
	if age > s.ttl || (status == 0 && !jobID.Valid && age > s.lease) {
		// Expired, or its request lost: the key starts afresh. The condition on created_at lets
		// one claimant win.
		res, err := s.db.ExecContext(ctx, `UPDATE idempotency_keys SET operation = $1, body_hash = $2, status = 0,
			response = NULL, job_id = NULL, created_at = $3 WHERE tenant = $4 AND owner = $5 AND key = $6 AND created_at = $7`,
			operation, fingerprint, now.UnixMilli(), owner.Tenant, owner.User, key, created)
		if err != nil {
			return Claim{}, err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return Claim{}, err
		}
		return Claim{}, ErrInProgress
	}
	if op != operation || hash != fingerprint {
		return Claim{}, ErrMismatch
	}
	if jobID.Valid && (status == 0 || status == http.StatusAccepted) {
		return Claim{JobID: jobID.String}, nil
	}
	if status == 0 || !stored.Valid {
		return Claim{}, ErrInProgress
	}
	var r Response
	if err := json.Unmarshal([]byte(stored.String), &r); err != nil {
		return Claim{}, err
	}
	return Claim{Replay: &r}, nil
}

// AttachJob records, in tx (the one that creates the job), the job the request holding key
// started.
func (s *Store) AttachJob(ctx context.Context, tx *sql.Tx, owner services.Owner, key, jobID string) error {
	_, err := tx.ExecContext(ctx, `UPDATE idempotency_keys SET job_id = $1 WHERE tenant = $2 AND owner = $3 AND key = $4 AND status = 0`,
		jobID, owner.Tenant, owner.User, key)
	return err
}

// Complete stores the response to replay for key.
func (s *Store) Complete(ctx context.Context, owner services.Owner, key string, r Response) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `UPDATE idempotency_keys SET status = $1, response = $2
		WHERE tenant = $3 AND owner = $4 AND key = $5`, r.Status, string(b), owner.Tenant, owner.User, key)
	return err
}

// Release forgets key, so that a request that did not succeed can be retried with it; that
// includes a key whose job was answered unfinished (202) and then failed.
func (s *Store) Release(ctx context.Context, owner services.Owner, key string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE tenant = $1 AND owner = $2 AND key = $3
		AND (status = 0 OR (status = $4 AND job_id IS NOT NULL))`, owner.Tenant, owner.User, key, http.StatusAccepted)
	return err
}

// Fingerprint identifies a JSON body by its content, so that key order and spacing do not
// make the same request look different. A body that is not JSON is identified by its bytes.
func Fingerprint(body []byte) string {
	var v any
	canonical := body
	if err := json.Unmarshal(body, &v); err == nil {
		// encoding/json writes object keys sorted, which makes the encoding canonical.
		if b, err := json.Marshal(v); err == nil {
			canonical = b
		}
	}
	sum := sha256.Sum256(canonical)
	return hex.EncodeToString(sum[:])
}
