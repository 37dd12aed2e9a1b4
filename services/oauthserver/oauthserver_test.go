package oauthserver_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/auth"
	"github.com/aidawg/jarvis/services/oauthserver"
	"github.com/aidawg/jarvis/services/storage"
	"github.com/aidawg/jarvis/services/storage/storagetest"
)

// clock is a test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

const issuer = "https://jarvis.example.com"

func newServer(t *testing.T, db *storage.DB, clk *clock) *oauthserver.Server {
	keys, err := oauthserver.LoadKeys(t.TempDir(), "", "")
	require.NoError(t, err)
	return oauthserver.New(oauthserver.Config{Issuer: issuer, Resources: []string{issuer, issuer + "/mcp"}, AccessTTL: time.Hour,
		RefreshTTL: 24 * time.Hour, CodeTTL: time.Minute, SessionTTL: time.Hour, Registration: true, Now: clk.Now}, db, keys)
}

func challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

const verifier = "a-verifier-of-enough-length-0123456789-abcdefghij"

// Codes live 60 s, access tokens an hour and refresh tokens their TTL, by the server's clock;
// the auth layer refuses an expired access token.
func TestLifetimes(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		clk := &clock{now: time.Now()}
		srv := newServer(t, db, clk)
		u, err := srv.Store().CreateUser(ctx, "acme", fmt.Sprintf("Ann-%d@Example.com", time.Now().UnixNano()), "a long enough password", []string{"actions:read", "jobs"})
		require.NoError(t, err)
		reg, err := srv.Register(ctx, oauthserver.ClientMetadata{ClientName: "app", RedirectURIs: []string{"https://app.example.com/cb"}, TokenEndpointAuthMethod: "none"})
		require.NoError(t, err)
		client, err := srv.Client(ctx, reg.ClientID)
		require.NoError(t, err)
		q := url.Values{"client_id": {client.ID}, "redirect_uri": {"https://app.example.com/cb"}, "response_type": {"code"},
			"code_challenge": {challenge(verifier)}, "code_challenge_method": {"S256"}, "scope": {"actions:read actions:write"}, "resource": {issuer + "/mcp/"}}
		req, err := srv.ValidateAuthorize(ctx, q)
		require.NoError(t, err)
		assert.Equal(t, issuer+"/mcp", req.Resource, "a trailing slash names the same resource")
		scopes := oauthserver.GrantScopes(req, u)
		assert.Equal(t, []string{"actions:read"}, scopes, "only the scopes the user holds")

		code, err := srv.IssueCode(ctx, req, u, scopes)
		require.NoError(t, err)
		clk.Add(61 * time.Second)
		_, err = srv.ExchangeCode(ctx, client, code, req.RedirectURI, verifier, nil)
		assert.ErrorContains(t, err, "expired")

		code, err = srv.IssueCode(ctx, req, u, scopes)
		require.NoError(t, err)
		tok, err := srv.ExchangeCode(ctx, client, code, req.RedirectURI, verifier, nil)
		require.NoError(t, err)
		assert.Equal(t, 3600, tok.ExpiresIn)

		verify := auth.New(auth.Config{Local: &auth.LocalConfig{Issuer: issuer, Keys: srv.Keys(), Grants: srv, Now: clk.Now}}, nil)
		creds := auth.Credentials{Authorization: "Bearer " + tok.AccessToken, Resource: issuer + "/mcp"}
		p, err := verify.Authenticate(ctx, creds)
		require.NoError(t, err)
		assert.Equal(t, services.Principal{Tenant: "acme", User: u.Email, Method: services.MethodOAuth2, Scopes: []string{"actions:read"}}, p)
		_, err = verify.Authenticate(ctx, auth.Credentials{Authorization: creds.Authorization, Resource: issuer})
		assert.ErrorContains(t, err, "another resource")

		clk.Add(time.Hour + 10*time.Second)
		_, err = verify.Authenticate(ctx, creds)
		se, ok := services.AsError(err)
		require.True(t, ok, "%v", err)
		assert.Equal(t, services.CodeUnauthorized, se.Code)
		assert.Contains(t, se.Detail, "expired")

		refreshed, err := srv.Refresh(ctx, client, tok.RefreshToken, "", nil)
		require.NoError(t, err, "the refresh token outlives the access token")
		clk.Add(25 * time.Hour)
		_, err = srv.Refresh(ctx, client, refreshed.RefreshToken, "", nil)
		assert.ErrorContains(t, err, "expired")
	})
}

func TestRedirectAllowed(t *testing.T) {
	t.Parallel()
	registered := []string{"https://app.example.com/cb?x=1", "http://127.0.0.1/callback", "http://[::1]:8080/cb", "com.example.app:/oauth"}
	for redirect, want := range map[string]bool{
		"https://app.example.com/cb?x=1":  true,
		"https://app.example.com/cb":      false,
		"https://app.example.com/cb?x=2":  false,
		"https://app.example.com/cb?x=1#": false,
		"https://APP.example.com/cb?x=1":  false,
		"http://127.0.0.1/callback":       true,
		"http://127.0.0.1:5000/callback":  true,
		"http://127.0.0.1:5000/callbackx": false,
		"http://localhost:5000/callback":  false,
		"https://127.0.0.1:5000/callback": false,
		"http://[::1]:9/cb":               true,
		"com.example.app:/oauth":          true,
		"com.example.app:/oauth/x":        false,
		"":                                false,
	} {
		assert.Equal(t, want, oauthserver.RedirectAllowed(registered, redirect), redirect)
	}
}

func TestPasswords(t *testing.T) {
	t.Parallel()
	h, err := oauthserver.HashPassword("a long enough password")
	require.NoError(t, err)
	assert.Regexp(t, `^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`, h)
	ok, err := oauthserver.VerifyPassword(h, "a long enough password")
	require.NoError(t, err)
	assert.True(t, ok)
	ok, _ = oauthserver.VerifyPassword(h, "a long enough passwore")
	assert.False(t, ok)
	h2, _ := oauthserver.HashPassword("a long enough password")
	assert.NotEqual(t, h, h2, "a fresh salt each time")
	_, err = oauthserver.HashPassword("short")
	assert.Error(t, err)
	_, err = oauthserver.VerifyPassword("$2a$10$bcrypt", "x")
	assert.Error(t, err)
}

func TestKeysRotateKeepingThePrevious(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first, err := oauthserver.LoadKeys(dir, "", "")
	require.NoError(t, err)
	again, err := oauthserver.LoadKeys(dir, "", "")
	require.NoError(t, err)
	assert.Equal(t, first.Current.KeyID, again.Current.KeyID, "the key is kept in the data dir")
	second, err := oauthserver.RotateKeys(dir)
	require.NoError(t, err)
	assert.NotEqual(t, first.Current.KeyID, second.Current.KeyID)
	require.NotNil(t, second.Previous)
	assert.Equal(t, first.Current.KeyID, second.Previous.KeyID)
	_, ok := second.PublicKey(first.Current.KeyID)
	assert.True(t, ok, "tokens of the previous key still verify")
	third, err := oauthserver.RotateKeys(dir)
	require.NoError(t, err)
	_, ok = third.PublicKey(first.Current.KeyID)
	assert.False(t, ok, "two rotations later the first key is gone")
	for _, k := range third.Public().Keys {
		assert.True(t, k.IsPublic())
	}
}

func TestCacheAge(t *testing.T) {
	t.Parallel()
	for header, want := range map[string]time.Duration{
		"":                         time.Minute,
		"max-age=300":              5 * time.Minute,
		"public, max-age=5":        time.Minute,
		"max-age=999999":           24 * time.Hour,
		"no-store":                 0,
		"max-age=600, no-cache":    0,
		"max-age=nonsense":         0,
		"private, max-age=7200, x": 2 * time.Hour,
	} {
		assert.Equal(t, want, oauthserver.CacheAge(http.Header{"Cache-Control": {header}}), header)
	}
}
