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

// Begin claims key for a request to operation with the given body fingerprint. It returns the
// stored response when the same request already succeeded, nil when the caller should handle
// the request (and then Complete or Release the key), or ErrInProgress or ErrMismatch.
func (s *Store) Begin(ctx context.Context, owner services.Owner, key, operation, fingerprint string) (*Response, error) {
	now := s.now()
	res, err := s.db.ExecContext(ctx, `INSERT INTO idempotency_keys (tenant, owner, key, operation, body_hash, status, created_at)
		VALUES ($1, $2, $3, $4, $5, 0, $6) ON CONFLICT (tenant, owner, key) DO NOTHING`,
		owner.Tenant, owner.User, key, operation, fingerprint, now.UnixMilli())
	if err != nil {
		return nil, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return nil, err
	}
	var op, hash string
	var status int
	var stored sql.NullString
	var created int64
	err = s.db.QueryRowContext(ctx, `SELECT operation, body_hash, status, response, created_at FROM idempotency_keys
		WHERE tenant = $1 AND owner = $2 AND key = $3`, owner.Tenant, owner.User, key).Scan(&op, &hash, &status, &stored, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return s.Begin(ctx, owner, key, operation, fingerprint) // released meanwhile
	}
	if err != nil {
		return nil, err
	}
	age := now.Sub(time.UnixMilli(created))
	if age > s.ttl || (status == 0 && age > s.lease) {
		// Expired, or its request lost: the key starts afresh. The condition on created_at lets
		// one claimant win.
		res, err := s.db.ExecContext(ctx, `UPDATE idempotency_keys SET operation = $1, body_hash = $2, status = 0,
			response = NULL, created_at = $3 WHERE tenant = $4 AND owner = $5 AND key = $6 AND created_at = $7`,
			operation, fingerprint, now.UnixMilli(), owner.Tenant, owner.User, key, created)
		if err != nil {
			return nil, err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return nil, err
		}
		return nil, ErrInProgress
	}
	if op != operation || hash != fingerprint {
		return nil, ErrMismatch
	}
	if status == 0 || !stored.Valid {
		return nil, ErrInProgress
	}
	var r Response
	if err := json.Unmarshal([]byte(stored.String), &r); err != nil {
		return nil, err
	}
	return &r, nil
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

// Release forgets key, so that a request that did not succeed can be retried with it.
func (s *Store) Release(ctx context.Context, owner services.Owner, key string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE tenant = $1 AND owner = $2 AND key = $3 AND status = 0`,
		owner.Tenant, owner.User, key)
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
