package oauthserver

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/storage"
)

// Store keeps users, clients, sessions, grants and tokens in the Jarvis database.
type Store struct {
	db  *storage.DB
	now func() time.Time
}

// NewStore returns a store over db, which must be migrated.
func NewStore(db *storage.DB, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{db: db, now: now}
}

func hashOf(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func newSecret() string { return rand.Text() + rand.Text() }

func newID(prefix string) string { return prefix + strings.ToLower(rand.Text()[:20]) }

func ms(t time.Time) int64 { return t.UnixMilli() }

// User is someone who signs in on the login page.
type User struct {
	ID       string
	Tenant   string
	Email    string
	Scopes   []string
	Created  time.Time
	Disabled bool
	hash     string
}

// NormalizeEmail is the form emails are stored and looked up in.
func NormalizeEmail(e string) string { return strings.ToLower(strings.TrimSpace(e)) }

// CreateUser adds a user; password "" leaves them without one until a login link sets it.
func (s *Store) CreateUser(ctx context.Context, tenant, email, password string, scopes []string) (User, error) {
	email = NormalizeEmail(email)
	var errs []string
	if !strings.Contains(email, "@") || len(email) > 254 || strings.ContainsAny(email, " \t\r\n/") {
		errs = append(errs, "give an email address such as alice@example.com")
	}
	if tenant == "" || len(tenant) > 128 || strings.ContainsAny(tenant, "/ \t\r\n") {
		errs = append(errs, "the tenant must be 1 to 128 characters without spaces or slashes")
	}
	for _, sc := range scopes {
		if !slices.Contains(services.AllScopes, sc) {
			errs = append(errs, fmt.Sprintf("scope %q is not one of %s", sc, strings.Join(services.AllScopes, ", ")))
		}
	}
	hash := ""
	if password != "" {
		var err error
		if hash, err = HashPassword(password); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return User{}, &services.Error{Code: services.CodeValidation, Detail: strings.Join(errs, "; ") + "."}
	}
	u := User{ID: newID("usr_"), Tenant: tenant, Email: email, Scopes: sortedSet(scopes), Created: s.now().UTC().Truncate(time.Millisecond), hash: hash}
	if _, err := s.GetUserByEmail(ctx, email); err == nil {
		return User{}, services.Errorf(services.CodeConflict, "There is already a user %s.", email)
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO oauth_users (id, tenant, email, password_hash, scopes, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		u.ID, u.Tenant, u.Email, hash, strings.Join(u.Scopes, " "), ms(u.Created))
	if err != nil {
		return User{}, fmt.Errorf("store user: %w", err)
	}
	return u, nil
}

const userColumns = `id, tenant, email, password_hash, scopes, created_at, disabled_at`

func scanUser(r interface{ Scan(...any) error }) (User, error) {
	var u User
	var scopes string
	var created int64
	var disabled sql.NullInt64
	if err := r.Scan(&u.ID, &u.Tenant, &u.Email, &u.hash, &scopes, &created, &disabled); err != nil {
		return User{}, err
	}
	u.Scopes = strings.Fields(scopes)
	u.Created = time.UnixMilli(created).UTC()
	u.Disabled = disabled.Valid
	return u, nil
}

func notFound(err error, format string, args ...any) error {
	if errors.Is(err, sql.ErrNoRows) {
		return services.Errorf(services.CodeNotFound, format, args...)
	}
	return err
}

// GetUser reads a user by id.
func (s *Store) GetUser(ctx context.Context, id string) (User, error) {
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM oauth_users WHERE id = $1`, id))
	return u, notFound(err, "There is no user %s.", id)
}

// GetUserByEmail reads a user by email.
func (s *Store) GetUserByEmail(ctx context.Context, email string) (User, error) {
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM oauth_users WHERE email = $1`, NormalizeEmail(email)))
	return u, notFound(err, "There is no user %s.", email)
}

// ListUsers reads every user, oldest first.
func (s *Store) ListUsers(ctx context.Context) ([]User, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+userColumns+` FROM oauth_users ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// SetPassword replaces a user's password.
func (s *Store) SetPassword(ctx context.Context, userID, password string) error {
	hash, err := HashPassword(password)
	if err != nil {
		return &services.Error{Code: services.CodeValidation, Detail: err.Error() + "."}
	}
	_, err = s.db.ExecContext(ctx, `UPDATE oauth_users SET password_hash = $1 WHERE id = $2`, hash, userID)
	return err
}

// CheckPassword returns the user whose email and password these are; a wrong email takes as
// long as a wrong password.
func (s *Store) CheckPassword(ctx context.Context, email, password string) (User, bool, error) {
	u, err := s.GetUserByEmail(ctx, email)
	if se, ok := services.AsError(err); ok && se.Code == services.CodeNotFound {
		_, _ = VerifyPassword(dummyHash, password)
		return User{}, false, nil
	}
	if err != nil {
		return User{}, false, err
	}
	if u.hash == "" || u.Disabled {
		_, _ = VerifyPassword(dummyHash, password)
		return User{}, false, nil
	}
	ok, err := VerifyPassword(u.hash, password)
	return u, ok, err
}

// CreateLoginLink makes a one-time secret that signs the user in once within ttl.
func (s *Store) CreateLoginLink(ctx context.Context, userID string, ttl time.Duration) (string, error) {
	secret := newSecret()
	_, err := s.db.ExecContext(ctx, `INSERT INTO oauth_login_links (hash, user_id, expires_at) VALUES ($1, $2, $3)`,
		hashOf(secret), userID, ms(s.now().Add(ttl)))
	return secret, err
}

// UseLoginLink spends a login link and returns its user.
func (s *Store) UseLoginLink(ctx context.Context, secret string) (User, bool, error) {
	var userID string
	err := s.db.QueryRowContext(ctx, `UPDATE oauth_login_links SET used_at = $1 WHERE hash = $2 AND used_at IS NULL AND expires_at > $1 RETURNING user_id`,
		ms(s.now()), hashOf(secret)).Scan(&userID)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, false, nil
	}
	if err != nil {
		return User{}, false, err
	}
	u, err := s.GetUser(ctx, userID)
	return u, err == nil && !u.Disabled, err
}

// Client is a registered OAuth client.
type Client struct {
	ID           string
	Name         string
	RedirectURIs []string
	AuthMethod   string // none, client_secret_basic or client_secret_post
	Scopes       []string
	Origin       string // cli, dcr or cimd
	Created      time.Time
	secretHash   string
}

// Public reports whether the client has no secret.
func (c Client) Public() bool { return c.AuthMethod == AuthNone }

// Token endpoint authentication methods.
const (
	AuthNone   = "none"
	AuthBasic  = "client_secret_basic"
	AuthPost   = "client_secret_post"
	originCLI  = "cli"
	originDCR  = "dcr"
	originCIMD = "cimd"
)

// CreateClient registers a client; a confidential one gets a secret, returned once.
func (s *Store) CreateClient(ctx context.Context, c Client) (Client, string, error) {
	c.ID = newID("cl_")
	c.Created = s.now().UTC().Truncate(time.Millisecond)
	secret := ""
	if c.AuthMethod != AuthNone {
		secret = newSecret()
		c.secretHash = hashOf(secret)
	}
	uris, _ := json.Marshal(c.RedirectURIs)
	_, err := s.db.ExecContext(ctx, `INSERT INTO oauth_clients (id, name, redirect_uris, auth_method, secret_hash, scopes, origin, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, c.ID, c.Name, string(uris), c.AuthMethod, c.secretHash, strings.Join(c.Scopes, " "), c.Origin, ms(c.Created))
	if err != nil {
		return Client{}, "", fmt.Errorf("store client: %w", err)
	}
	return c, secret, nil
}

// GetClient reads a registered client.
func (s *Store) GetClient(ctx context.Context, id string) (Client, error) {
	var c Client
	var uris, scopes string
	var created int64
	err := s.db.QueryRowContext(ctx, `SELECT id, name, redirect_uris, auth_method, secret_hash, scopes, origin, created_at FROM oauth_clients WHERE id = $1`, id).
		Scan(&c.ID, &c.Name, &uris, &c.AuthMethod, &c.secretHash, &scopes, &c.Origin, &created)
	if err != nil {
		return Client{}, notFound(err, "There is no client %s.", id)
	}
	if err := json.Unmarshal([]byte(uris), &c.RedirectURIs); err != nil {
		return Client{}, fmt.Errorf("client %s has unreadable redirect URIs", id)
	}
	c.Scopes = strings.Fields(scopes)
	c.Created = time.UnixMilli(created).UTC()
	return c, nil
}

// SetRedirects replaces a client's redirect URIs.
func (s *Store) SetRedirects(ctx context.Context, clientID string, uris []string) error {
	b, err := json.Marshal(uris)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `UPDATE oauth_clients SET redirect_uris = $1 WHERE id = $2`, string(b), clientID)
	return err
}

// VerifySecret reports whether secret is the client's.
func (c Client) VerifySecret(secret string) bool {
	return c.secretHash != "" && secret != "" && constantEqual(hashOf(secret), c.secretHash)
}

// CreateSession starts a signed-in session and returns the cookie's value.
func (s *Store) CreateSession(ctx context.Context, userID string, ttl time.Duration) (string, error) {
	secret := newSecret()
	now := s.now()
	_, err := s.db.ExecContext(ctx, `INSERT INTO oauth_sessions (hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
		hashOf(secret), userID, ms(now), ms(now.Add(ttl)))
	return secret, err
}

// SessionUser is the user of a live session.
func (s *Store) SessionUser(ctx context.Context, secret string) (User, bool, error) {
	var userID string
	err := s.db.QueryRowContext(ctx, `SELECT user_id FROM oauth_sessions WHERE hash = $1 AND expires_at > $2`, hashOf(secret), ms(s.now())).Scan(&userID)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, false, nil
	}
	if err != nil {
		return User{}, false, err
	}
	u, err := s.GetUser(ctx, userID)
	if err != nil {
		return User{}, false, err
	}
	return u, !u.Disabled, nil
}

// SaveRequest keeps a validated authorization request for the pages that follow.
func (s *Store) SaveRequest(ctx context.Context, r AuthRequest, ttl time.Duration) (string, error) {
	id := newSecret()
	b, err := json.Marshal(r)
	if err != nil {
		return "", err
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO oauth_requests (id, params, expires_at) VALUES ($1, $2, $3)`, hashOf(id), string(b), ms(s.now().Add(ttl)))
	return id, err
}

// GetRequest reads a pending authorization request.
func (s *Store) GetRequest(ctx context.Context, id string) (AuthRequest, bool, error) {
	var params string
	err := s.db.QueryRowContext(ctx, `SELECT params FROM oauth_requests WHERE id = $1 AND expires_at > $2`, hashOf(id), ms(s.now())).Scan(&params)
	if errors.Is(err, sql.ErrNoRows) {
		return AuthRequest{}, false, nil
	}
	if err != nil {
		return AuthRequest{}, false, err
	}
	var r AuthRequest
	return r, true, json.Unmarshal([]byte(params), &r)
}

// DeleteRequest removes a request that has been answered.
func (s *Store) DeleteRequest(ctx context.Context, id string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM oauth_requests WHERE id = $1`, hashOf(id))
	return err
}

// Consented reports whether the user approved this client for exactly these scopes and resource.
func (s *Store) Consented(ctx context.Context, userID, clientID string, scopes []string, resource string) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM oauth_consents WHERE user_id = $1 AND client_id = $2 AND scopes = $3 AND resource = $4`,
		userID, clientID, strings.Join(sortedSet(scopes), " "), resource).Scan(&n)
	return n > 0, err
}

// RememberConsent records an approval.
func (s *Store) RememberConsent(ctx context.Context, userID, clientID string, scopes []string, resource string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO oauth_consents (user_id, client_id, scopes, resource, created_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT DO NOTHING`, userID, clientID, strings.Join(sortedSet(scopes), " "), resource, ms(s.now()))
	return err
}

// Code is an issued authorization code's binding.
type Code struct {
	ClientID      string
	UserID        string
	RedirectURI   string
	CodeChallenge string
	Scopes        []string
	Resource      string
	ExpiresAt     time.Time
	Used          bool
	GrantID       string
}

// CreateCode stores a code's binding and returns the code.
func (s *Store) CreateCode(ctx context.Context, c Code) (string, error) {
	code := newSecret()
	_, err := s.db.ExecContext(ctx, `INSERT INTO oauth_codes (hash, client_id, user_id, redirect_uri, code_challenge, scopes, resource, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, hashOf(code), c.ClientID, c.UserID, c.RedirectURI, c.CodeChallenge,
		strings.Join(c.Scopes, " "), c.Resource, ms(c.ExpiresAt))
	return code, err
}

// SpendCode marks the code used and returns its binding; used reports a code spent before.
func (s *Store) SpendCode(ctx context.Context, code string) (c Code, found bool, err error) {
	var scopes string
	var expires int64
	var used sql.NullInt64
	var grant sql.NullString
	err = s.db.QueryRowContext(ctx, `SELECT client_id, user_id, redirect_uri, code_challenge, scopes, resource, expires_at, used_at, grant_id FROM oauth_codes WHERE hash = $1`,
		hashOf(code)).Scan(&c.ClientID, &c.UserID, &c.RedirectURI, &c.CodeChallenge, &scopes, &c.Resource, &expires, &used, &grant)
	if errors.Is(err, sql.ErrNoRows) {
		return Code{}, false, nil
	}
	if err != nil {
		return Code{}, false, err
	}
	c.Scopes, c.ExpiresAt, c.GrantID = strings.Fields(scopes), time.UnixMilli(expires), grant.String
	if used.Valid {
		c.Used = true
		return c, true, nil
	}
	res, err := s.db.ExecContext(ctx, `UPDATE oauth_codes SET used_at = $1 WHERE hash = $2 AND used_at IS NULL`, ms(s.now()), hashOf(code))
	if err != nil {
		return Code{}, false, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		c.Used = true
	}
	return c, true, nil
}

// BindCode records the grant a code started, for revoking it when the code is reused.
func (s *Store) BindCode(ctx context.Context, code, grantID string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE oauth_codes SET grant_id = $1 WHERE hash = $2`, grantID, hashOf(code))
	return err
}

// Grant is a user's authorization of a client, and every token that descends from it.
type Grant struct {
	ID         string
	Tenant     string
	UserID     string
	ClientID   string
	ClientName string
	Scopes     []string
	Resource   string
	Created    time.Time
	LastUsed   time.Time
	Revoked    bool
}

// CreateGrant starts a grant.
func (s *Store) CreateGrant(ctx context.Context, g Grant) (Grant, error) {
	g.ID = newID("gr_")
	g.Created = s.now().UTC().Truncate(time.Millisecond)
	g.LastUsed = g.Created
	_, err := s.db.ExecContext(ctx, `INSERT INTO oauth_grants (id, tenant, user_id, client_id, client_name, scopes, resource, created_at, last_used_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)`, g.ID, g.Tenant, g.UserID, g.ClientID, g.ClientName, strings.Join(g.Scopes, " "), g.Resource, ms(g.Created))
	return g, err
}

const grantColumns = `id, tenant, user_id, client_id, client_name, scopes, resource, created_at, last_used_at, revoked_at`

func scanGrant(r interface{ Scan(...any) error }) (Grant, error) {
	var g Grant
	var scopes string
	var created, last int64
	var revoked sql.NullInt64
	if err := r.Scan(&g.ID, &g.Tenant, &g.UserID, &g.ClientID, &g.ClientName, &scopes, &g.Resource, &created, &last, &revoked); err != nil {
		return Grant{}, err
	}
	g.Scopes, g.Created, g.LastUsed, g.Revoked = strings.Fields(scopes), time.UnixMilli(created).UTC(), time.UnixMilli(last).UTC(), revoked.Valid
	return g, nil
}

// GetGrant reads a grant.
func (s *Store) GetGrant(ctx context.Context, id string) (Grant, error) {
	g, err := scanGrant(s.db.QueryRowContext(ctx, `SELECT `+grantColumns+` FROM oauth_grants WHERE id = $1`, id))
	return g, notFound(err, "There is no grant %s.", id)
}

// ListGrants reads the live grants, newest first: of one user, or of a tenant's users when
// userID is "", or of everyone when tenant is "" too.
func (s *Store) ListGrants(ctx context.Context, tenant, userID string) ([]Grant, error) {
	q, args := `SELECT `+grantColumns+` FROM oauth_grants WHERE revoked_at IS NULL`, []any{}
	if tenant != "" {
		args = append(args, tenant)
		q += fmt.Sprintf(` AND tenant = $%d`, len(args))
	}
	if userID != "" {
		args = append(args, userID)
		q += fmt.Sprintf(` AND user_id = $%d`, len(args))
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY created_at DESC, id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Grant{}
	for rows.Next() {
		g, err := scanGrant(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// RevokeGrant ends a grant and every token from it.
func (s *Store) RevokeGrant(ctx context.Context, id string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE oauth_grants SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`, ms(s.now()), id)
	return err
}

// CreateRefresh issues a refresh token in a grant.
func (s *Store) CreateRefresh(ctx context.Context, grantID string, ttl time.Duration) (string, error) {
	token := newSecret()
	_, err := s.db.ExecContext(ctx, `INSERT INTO oauth_refresh_tokens (hash, grant_id, expires_at) VALUES ($1, $2, $3)`, hashOf(token), grantID, ms(s.now().Add(ttl)))
	if err == nil {
		_, err = s.db.ExecContext(ctx, `UPDATE oauth_grants SET last_used_at = $1 WHERE id = $2`, ms(s.now()), grantID)
	}
	return token, err
}

// Refresh outcomes.
type refreshState int

const (
	refreshUnknown refreshState = iota
	refreshExpired
	refreshReplayed
	refreshFresh
)

// SpendRefresh marks a refresh token used, reporting its grant and whether it was fresh, a
// replay of a used one, expired or unknown.
func (s *Store) SpendRefresh(ctx context.Context, token string) (string, refreshState, error) {
	var grantID string
	var expires int64
	var used sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT grant_id, expires_at, used_at FROM oauth_refresh_tokens WHERE hash = $1`, hashOf(token)).Scan(&grantID, &expires, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return "", refreshUnknown, nil
	}
	if err != nil {
		return "", refreshUnknown, err
	}
	if used.Valid {
		return grantID, refreshReplayed, nil
	}
	if s.now().UnixMilli() >= expires {
		return grantID, refreshExpired, nil
	}
	res, err := s.db.ExecContext(ctx, `UPDATE oauth_refresh_tokens SET used_at = $1 WHERE hash = $2 AND used_at IS NULL`, ms(s.now()), hashOf(token))
	if err != nil {
		return "", refreshUnknown, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return grantID, refreshReplayed, nil
	}
	return grantID, refreshFresh, nil
}

// RefreshGrant is the grant of a refresh token without spending it, for revocation.
func (s *Store) RefreshGrant(ctx context.Context, token string) (string, bool, error) {
	var grantID string
	err := s.db.QueryRowContext(ctx, `SELECT grant_id FROM oauth_refresh_tokens WHERE hash = $1`, hashOf(token)).Scan(&grantID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	return grantID, err == nil, err
}

// Purge deletes what has expired: sessions, requests, codes, login links and refresh tokens.
func (s *Store) Purge(ctx context.Context) error {
	now := ms(s.now())
	for _, table := range []string{"oauth_sessions", "oauth_requests", "oauth_codes", "oauth_login_links", "oauth_refresh_tokens"} {
		if _, err := s.db.ExecContext(ctx, `DELETE FROM `+table+` WHERE expires_at < $1`, now-int64(time.Hour/time.Millisecond)); err != nil {
			return err
		}
	}
	return nil
}

func sortedSet(in []string) []string {
	out := slices.Clone(in)
	slices.Sort(out)
	return slices.Compact(out)
}
