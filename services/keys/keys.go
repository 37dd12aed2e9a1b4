// Package keys stores API keys. A key is "jv_<id>_<secret>": the id finds the row and may be
// shown anywhere; the secret is stored only as its SHA-256 and compared in constant time. The
// secrets are 128 random bits, so a fast hash is as safe as a slow one and keeps lookups cheap.
package keys

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/ratelimit"
	"github.com/aidawg/jarvis/services/storage"
)

// Prefix starts every API key, so that a key is recognisable in a bearer token and in a leak scan.
const Prefix = "jv_"

const (
	idLen     = 12
	secretLen = 26
)

// Key is a stored API key, without its secret.
type Key struct {
	ID         string
	Name       string
	Tenant     string
	User       string
	Scopes     []string
	Limits     map[string]services.Rate
	DailyQuota int64
	CreatedAt  time.Time
	RevokedAt  *time.Time
	secretHash []byte
}

// Revoked reports whether the key no longer authenticates.
func (k Key) Revoked() bool { return k.RevokedAt != nil }

// Verify reports, in time independent of where they differ, whether secret is this key's.
func (k Key) Verify(secret string) bool {
	sum := sha256.Sum256([]byte(secret))
	return len(k.secretHash) == sha256.Size && subtle.ConstantTimeCompare(sum[:], k.secretHash) == 1
}

// Principal is the caller this key authenticates.
func (k Key) Principal() services.Principal {
	return services.Principal{
		Tenant:     k.Tenant,
		User:       k.User,
		KeyID:      k.ID,
		Method:     services.MethodAPIKey,
		Scopes:     slices.Clone(k.Scopes),
		Limits:     k.Limits,
		DailyQuota: k.DailyQuota,
	}
}

// Parse splits a presented key into its id and secret; ok is false when it is not of the form
// of a key at all.
func Parse(token string) (id, secret string, ok bool) {
	rest, found := strings.CutPrefix(token, Prefix)
	if !found || len(rest) != idLen+1+secretLen || rest[idLen] != '_' {
		return "", "", false
	}
	id, secret = rest[:idLen], rest[idLen+1:]
	if !base32Text(id, 'a', 'z') || !base32Text(secret, 'A', 'Z') {
		return "", "", false
	}
	return id, secret, true
}

// LooksLikeKey reports whether token is meant as an API key (it may still be malformed).
func LooksLikeKey(token string) bool { return strings.HasPrefix(token, Prefix) }

func base32Text(s string, lo, hi byte) bool {
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !(b >= lo && b <= hi || b >= '2' && b <= '7') {
			return false
		}
	}
	return true
}

// ValidID reports whether id has the form of a key id.
func ValidID(id string) bool { return len(id) == idLen && base32Text(id, 'a', 'z') }

// NewKey is what a key is created with.
type NewKey struct {
	Name       string
	Tenant     string
	User       string
	Scopes     []string
	Limits     map[string]services.Rate
	DailyQuota int64
}

func (n NewKey) validate() error {
	var errs []error
	for _, f := range []struct{ name, value string }{{"tenant", n.Tenant}, {"user", n.User}} {
		if f.value == "" || len(f.value) > 128 || strings.ContainsAny(f.value, "/ \t\r\n") {
			errs = append(errs, fmt.Errorf("%s must be 1 to 128 characters without spaces or slashes", f.name))
		}
	}
	if len(n.Name) > 200 {
		errs = append(errs, errors.New("name must be at most 200 characters"))
	}
	if len(n.Scopes) == 0 {
		errs = append(errs, fmt.Errorf("give at least one scope of %s", strings.Join(services.AllScopes, ", ")))
	}
	for _, s := range n.Scopes {
		if !slices.Contains(services.AllScopes, s) {
			errs = append(errs, fmt.Errorf("scope %q is not one of %s", s, strings.Join(services.AllScopes, ", ")))
		}
	}
	if n.DailyQuota < 0 {
		errs = append(errs, errors.New("daily quota must not be negative"))
	}
	return errors.Join(errs...)
}

// Store keeps API keys in the database.
type Store struct {
	db  *storage.DB
	now func() time.Time
}

// NewStore returns a store over db, which must be migrated.
func NewStore(db *storage.DB) *Store { return &Store{db: db, now: time.Now} }

// Create makes a key and returns it with the whole key text, which is shown once and never
// stored.
func (s *Store) Create(ctx context.Context, n NewKey) (Key, string, error) {
	if err := n.validate(); err != nil {
		return Key{}, "", &services.Error{Code: services.CodeValidation, Detail: err.Error(), Err: err}
	}
	scopes := slices.Clone(n.Scopes)
	slices.Sort(scopes)
	scopes = slices.Compact(scopes)
	id := strings.ToLower(rand.Text()[:idLen])
	secret := rand.Text()
	sum := sha256.Sum256([]byte(secret))
	k := Key{
		ID: id, Name: n.Name, Tenant: n.Tenant, User: n.User, Scopes: scopes,
		Limits: n.Limits, DailyQuota: n.DailyQuota,
		CreatedAt: s.now().UTC().Truncate(time.Millisecond), secretHash: sum[:],
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO api_keys
		(id, name, tenant, user_id, scopes, limits, daily_quota, secret_hash, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		k.ID, k.Name, k.Tenant, k.User, strings.Join(k.Scopes, " "), ratelimit.FormatRates(k.Limits),
		k.DailyQuota, hex.EncodeToString(k.secretHash), k.CreatedAt.UnixMilli())
	if err != nil {
		return Key{}, "", fmt.Errorf("store key: %w", err)
	}
	return k, Prefix + id + "_" + secret, nil
}

const columns = `id, name, tenant, user_id, scopes, limits, daily_quota, secret_hash, created_at, revoked_at`

// Get reads one key, revoked or not.
func (s *Store) Get(ctx context.Context, id string) (Key, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+columns+` FROM api_keys WHERE id = $1`, id)
	k, err := scan(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Key{}, services.Errorf(services.CodeNotFound, "There is no API key %s.", id)
	}
	return k, err
}

// List reads the keys, newest first; revoked ones only when includeRevoked.
func (s *Store) List(ctx context.Context, includeRevoked bool) ([]Key, error) {
	q := `SELECT ` + columns + ` FROM api_keys`
	if !includeRevoked {
		q += ` WHERE revoked_at IS NULL`
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY created_at DESC, id`)
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	defer rows.Close()
	var out []Key
	for rows.Next() {
		k, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// Revoke stops a key from authenticating. Revoking a revoked key changes nothing.
func (s *Store) Revoke(ctx context.Context, id string) (Key, error) {
	if _, err := s.db.ExecContext(ctx, `UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`,
		s.now().UnixMilli(), id); err != nil {
		return Key{}, fmt.Errorf("revoke key: %w", err)
	}
	return s.Get(ctx, id)
}

type scanner interface{ Scan(...any) error }

func scan(r scanner) (Key, error) {
	var (
		k                    Key
		scopes, limits, hash string
		created              int64
		revoked              sql.NullInt64
	)
	if err := r.Scan(&k.ID, &k.Name, &k.Tenant, &k.User, &scopes, &limits, &k.DailyQuota, &hash, &created, &revoked); err != nil {
		return Key{}, err
	}
	k.Scopes = strings.Fields(scopes)
	var err error
	if k.Limits, err = ratelimit.ParseRates(limits); err != nil {
		return Key{}, fmt.Errorf("key %s has unreadable limits: %w", k.ID, err)
	}
	if k.secretHash, err = hex.DecodeString(hash); err != nil {
		return Key{}, fmt.Errorf("key %s has an unreadable hash", k.ID)
	}
	k.CreatedAt = time.UnixMilli(created).UTC()
	if revoked.Valid {
		t := time.UnixMilli(revoked.Int64).UTC()
		k.RevokedAt = &t
	}
	return k, nil
}
