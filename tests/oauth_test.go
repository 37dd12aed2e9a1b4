package tests

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/gen/client"
	"github.com/aidawg/jarvis/services/auth"
	"github.com/aidawg/jarvis/services/keys"
)

// issuer is an OAuth authorization server on loopback: its metadata and its JWKS, whose keys a
// test can rotate, and the private keys to sign tokens with.
type issuer struct {
	srv     *httptest.Server
	URL     string
	mu      sync.Mutex
	public  []jose.JSONWebKey
	private map[string]any
	fetches atomic.Int64
}

func newIssuer(t *testing.T) *issuer {
	t.Helper()
	is := &issuer{private: map[string]any{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"issuer": is.URL, "jwks_uri": is.URL + "/keys"})
	})
	mux.HandleFunc("/keys", func(w http.ResponseWriter, r *http.Request) {
		is.fetches.Add(1)
		is.mu.Lock()
		defer is.mu.Unlock()
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: is.public})
	})
	is.srv = httptest.NewServer(mux)
	t.Cleanup(is.srv.Close)
	is.URL = is.srv.URL
	return is
}

// addKey makes a key pair under kid; publish decides whether the JWKS shows it yet.
func (is *issuer) addKey(t *testing.T, kid, alg string, publish bool) {
	t.Helper()
	var priv, pub any
	switch alg {
	case "RS256":
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		require.NoError(t, err)
		priv, pub = k, &k.PublicKey
	case "ES256":
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		priv, pub = k, &k.PublicKey
	}
	is.mu.Lock()
	defer is.mu.Unlock()
	is.private[kid] = priv
	if publish {
		is.public = append(is.public, jose.JSONWebKey{Key: pub, KeyID: kid, Algorithm: alg, Use: "sig"})
	}
}

// publishOnly rotates the JWKS to the keys named.
func (is *issuer) publishOnly(t *testing.T, kids ...string) {
	t.Helper()
	is.mu.Lock()
	defer is.mu.Unlock()
	is.public = nil
	for _, kid := range kids {
		var pub any
		alg := "RS256"
		switch k := is.private[kid].(type) {
		case *rsa.PrivateKey:
			pub = &k.PublicKey
		case *ecdsa.PrivateKey:
			pub, alg = &k.PublicKey, "ES256"
		}
		is.public = append(is.public, jose.JSONWebKey{Key: pub, KeyID: kid, Algorithm: alg, Use: "sig"})
	}
}

const audience = "https://jarvis.example.com"

func (is *issuer) claims(sub string, scope string) jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{"iss": is.URL, "aud": audience, "sub": sub, "scope": scope,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix()}
}

func (is *issuer) sign(t *testing.T, kid string, claims jwt.MapClaims) string {
	t.Helper()
	is.mu.Lock()
	priv := is.private[kid]
	is.mu.Unlock()
	method := jwt.SigningMethod(jwt.SigningMethodRS256)
	if _, ok := priv.(*ecdsa.PrivateKey); ok {
		method = jwt.SigningMethodES256
	}
	tok := jwt.NewWithClaims(method, claims)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(priv)
	require.NoError(t, err)
	return s
}

// signRaw signs claims with the placeholder replaced by raw bytes, which JSON encoding would
// have changed, such as bytes that are not UTF-8.
func (is *issuer) signRaw(t *testing.T, kid string, claims jwt.MapClaims, placeholder, raw string) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	require.NoError(t, err)
	payload = bytes.Replace(payload, []byte(placeholder), []byte(raw), 1)
	head := b64(map[string]string{"alg": "RS256", "typ": "JWT", "kid": kid})
	body := base64.RawURLEncoding.EncodeToString(payload)
	is.mu.Lock()
	priv := is.private[kid]
	is.mu.Unlock()
	sig, err := jwt.SigningMethodRS256.Sign(head+"."+body, priv)
	require.NoError(t, err)
	return head + "." + body + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func b64(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

func oauthServer(t *testing.T, is *issuer) *server {
	return startServer(t, env{"JARVIS_ENV": "production", "JARVIS_OAUTH_ISSUER": is.URL, "JARVIS_OAUTH_AUDIENCE": audience})
}

func bearer(token string) http.Header { return hdr("Authorization", "Bearer "+token) }

func TestOAuthAccessTokens(t *testing.T) {
	t.Parallel()
	is := newIssuer(t)
	is.addKey(t, "rsa-1", "RS256", true)
	is.addKey(t, "ec-1", "ES256", true)
	s := oauthServer(t, is)
	full := "actions:read actions:write jobs"

	t.Run("valid RS256 and ES256 tokens name the user", func(t *testing.T) {
		for _, kid := range []string{"rsa-1", "ec-1"} {
			resp, p, raw := sendWith(t, s, http.MethodGet, info, bearer(is.sign(t, kid, is.claims("user-"+kid, full))), "")
			require.Equal(t, http.StatusOK, resp.StatusCode, "%+v", p)
			assert.Contains(t, string(raw), `"oauth2"`)
			line := logLine(t, s, resp.Header.Get("X-Request-ID"))
			assert.Equal(t, "oauth2", line["authMethod"])
			assert.Equal(t, auth.OAuthUser(is.URL, "user-"+kid), line["user"])
			assert.Equal(t, "oauth:"+is.URL, line["tenant"])
		}
	})

	pub, err := x509.MarshalPKIXPublicKey(&is.private["rsa-1"].(*rsa.PrivateKey).PublicKey)
	require.NoError(t, err)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})
	hsWithPublicKey := func() string {
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, is.claims("attacker", full))
		tok.Header["kid"] = "rsa-1"
		signed, err := tok.SignedString(pubPEM)
		require.NoError(t, err)
		return signed
	}
	with := func(change func(jwt.MapClaims)) string {
		c := is.claims("user-1", full)
		change(c)
		return is.sign(t, "rsa-1", c)
	}
	rejected := map[string]string{
		"expired":                   with(func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-5 * time.Minute).Unix() }),
		"not yet valid":             with(func(c jwt.MapClaims) { c["nbf"] = time.Now().Add(5 * time.Minute).Unix() }),
		"without exp":               with(func(c jwt.MapClaims) { delete(c, "exp") }),
		"wrong issuer":              with(func(c jwt.MapClaims) { c["iss"] = "https://evil.example.com" }),
		"wrong audience":            with(func(c jwt.MapClaims) { c["aud"] = "https://other.example.com" }),
		"without subject":           with(func(c jwt.MapClaims) { delete(c, "sub") }),
		"with an empty subject":     with(func(c jwt.MapClaims) { c["sub"] = "" }),
		"with NUL in the subject":   with(func(c jwt.MapClaims) { c["sub"] = "alice\x00" }),
		"with a subject not UTF-8":  is.signRaw(t, "rsa-1", is.claims("SUBJECT", full), "SUBJECT", "alice\xff"),
		"alg none":                  b64(map[string]string{"alg": "none", "typ": "JWT", "kid": "rsa-1"}) + "." + b64(is.claims("attacker", full)) + ".",
		"HS256 with the public key": hsWithPublicKey(),
		"tampered payload": func() string {
			parts := strings.Split(is.sign(t, "rsa-1", is.claims("user-1", "actions:read")), ".")
			return parts[0] + "." + b64(is.claims("admin", "admin")) + "." + parts[2]
		}(),
	}
	for name, token := range rejected {
		t.Run("rejects "+name, func(t *testing.T) {
			resp, p, raw := sendWith(t, s, http.MethodGet, info, bearer(token), "")
			require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "%s", raw)
			assert.Equal(t, "unauthorized", p.Code)
			assert.Equal(t, `Bearer realm="jarvis", resource_metadata="`+s.URL+`/.well-known/oauth-protected-resource", error="invalid_token"`,
				resp.Header.Get("WWW-Authenticate"))
			assert.NotContains(t, string(raw), token)
		})
	}

	t.Run("scopes come from the token", func(t *testing.T) {
		reader := bearer(is.sign(t, "rsa-1", is.claims("reader", "actions:read profile")))
		h := reader.Clone()
		h.Set("Content-Type", "application/json")
		resp, p, _ := sendWith(t, s, http.MethodPost, generate, h, `{"prompt": "x"}`)
		assert.Equal(t, http.StatusForbidden, resp.StatusCode, "%+v", p)
		assert.Contains(t, p.Detail, "actions:write")
		resp, _, _ = sendWith(t, s, http.MethodGet, usagePath, reader, "")
		assert.Equal(t, http.StatusForbidden, resp.StatusCode)
		scp := is.claims("array", "")
		delete(scp, "scope")
		scp["scp"] = []string{"jobs"}
		resp, p, _ = sendWith(t, s, http.MethodGet, jobsPath, bearer(is.sign(t, "rsa-1", scp)), "")
		assert.NotEqual(t, http.StatusForbidden, resp.StatusCode, "%+v", p)
	})

	t.Run("protected resource metadata names the issuer", func(t *testing.T) {
		resp, err := http.Get(s.URL + "/.well-known/oauth-protected-resource")
		require.NoError(t, err)
		defer resp.Body.Close()
		var meta struct {
			Resource             string   `json:"resource"`
			AuthorizationServers []string `json:"authorization_servers"`
			ScopesSupported      []string `json:"scopes_supported"`
		}
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&meta))
		assert.Equal(t, s.URL, meta.Resource)
		assert.Equal(t, []string{is.URL}, meta.AuthorizationServers)
		assert.Contains(t, meta.ScopesSupported, "admin")
	})
}

// A token signed with a key the JWKS does not show yet is refused; once the issuer rotates to
// it, the next token with it is accepted without restarting Jarvis.
func TestOAuthKeyRotation(t *testing.T) {
	t.Parallel()
	is := newIssuer(t)
	is.addKey(t, "old", "RS256", true)
	is.addKey(t, "new", "RS256", false)
	s := oauthServer(t, is)

	resp, p, _ := sendWith(t, s, http.MethodGet, info, bearer(is.sign(t, "old", is.claims("u", "actions:read"))), "")
	require.Equal(t, http.StatusOK, resp.StatusCode, "%+v", p)
	require.Equal(t, int64(1), is.fetches.Load())

	newToken := is.sign(t, "new", is.claims("u", "actions:read"))
	resp, _, _ = sendWith(t, s, http.MethodGet, info, bearer(newToken), "")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "unknown kid")
	assert.Equal(t, int64(2), is.fetches.Load(), "an unknown kid makes Jarvis fetch the keys again")

	is.publishOnly(t, "new")
	resp, p, _ = sendWith(t, s, http.MethodGet, info, bearer(newToken), "")
	assert.Equal(t, http.StatusOK, resp.StatusCode, "rotated key: %+v", p)
	assert.Equal(t, int64(3), is.fetches.Load())

	// Known keys are served from the cache.
	for i := 0; i < 5; i++ {
		resp, _, _ = sendWith(t, s, http.MethodGet, info, bearer(newToken), "")
		assert.Equal(t, http.StatusOK, resp.StatusCode)
	}
	assert.Equal(t, int64(3), is.fetches.Load())

	// Tokens with made-up key ids cannot make Jarvis fetch the keys on every call.
	for i := 0; i < 10; i++ {
		forged := is.claims("u", "actions:read")
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, forged)
		tok.Header["kid"] = "made-up-" + string(rune('a'+i))
		signed, err := tok.SignedString(is.private["new"])
		require.NoError(t, err)
		resp, _, _ = sendWith(t, s, http.MethodGet, info, bearer(signed), "")
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	}
	assert.LessOrEqual(t, is.fetches.Load(), int64(4))
}

// While the issuer cannot be reached and no key was ever fetched, a token cannot be checked:
// that is an outage (503), not the caller's fault.
func TestOAuthIssuerDown(t *testing.T) {
	t.Parallel()
	is := newIssuer(t)
	is.addKey(t, "k", "RS256", true)
	s := oauthServer(t, is)
	token := is.sign(t, "k", is.claims("u", "actions:read"))
	is.srv.Close()
	resp, p, _ := sendWith(t, s, http.MethodGet, info, bearer(token), "")
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Equal(t, "unavailable", p.Code)
}

// A token's subject names a user of its issuer only: sub=alice is not the API key user
// default/alice, and sub=bootstrap is not the bootstrap token, so neither sees their jobs or
// context.
func TestOAuthUsersAreNotOtherCredentialsUsers(t *testing.T) {
	t.Parallel()
	is := newIssuer(t)
	is.addKey(t, "rsa-1", "RS256", true)
	s := startServer(t, production(env{"JARVIS_OAUTH_ISSUER": is.URL, "JARVIS_OAUTH_AUDIENCE": audience}))
	ctx := context.Background()
	full := "actions:read actions:write jobs"
	_, alice := createKey(t, s, keys.NewKey{Tenant: "default", User: "alice", Scopes: []string{"actions:read", "actions:write", "jobs"}})

	for _, owner := range []string{alice, bootstrapToken} {
		made, err := s.Client.GenerateMusicWithResponse(ctx, nil, client.GenerateMusicRequest{Prompt: "a song", Duration: ptr(5)}, as(owner))
		require.NoError(t, err)
		require.NotNil(t, made.JSON200, "status %d: %s", made.StatusCode(), made.Body)
	}
	require.Eventually(t, func() bool {
		resp, err := s.Client.GetUserContextWithResponse(ctx, nil, as(alice))
		return err == nil && resp.JSON200 != nil && resp.JSON200.Statistics.TotalActions == 1
	}, 20*time.Second, 20*time.Millisecond, "alice's action to be recorded")

	for sub, owner := range map[string]string{"alice": alice, "bootstrap": bootstrapToken} {
		own, err := s.Client.ListJobsWithResponse(ctx, nil, as(owner))
		require.NoError(t, err)
		require.Len(t, own.JSON200.Jobs, 1)
		token := is.sign(t, "rsa-1", is.claims(sub, full))

		list, err := s.Client.ListJobsWithResponse(ctx, nil, as(token))
		require.NoError(t, err)
		require.NotNil(t, list.JSON200, "status %d: %s", list.StatusCode(), list.Body)
		assert.Empty(t, list.JSON200.Jobs, "sub=%s sees no one else's jobs", sub)
		status, err := s.Client.GetJobStatusWithResponse(ctx, own.JSON200.Jobs[0].Id, as(token))
		require.NoError(t, err)
		assert.NotNil(t, status.ApplicationproblemJSON404, "sub=%s: status %d", sub, status.StatusCode())
		theirs, err := s.Client.GetUserContextWithResponse(ctx, nil, as(token))
		require.NoError(t, err)
		require.NotNil(t, theirs.JSON200)
		assert.Zero(t, theirs.JSON200.Statistics.TotalActions, "sub=%s sees no one else's context", sub)
	}
}

// With JARVIS_OAUTH_TENANT_CLAIM the tenant is the claim's, within the issuer; a token without
// it is refused.
func TestOAuthTenantClaim(t *testing.T) {
	t.Parallel()
	is := newIssuer(t)
	is.addKey(t, "rsa-1", "RS256", true)
	s := startServer(t, env{"JARVIS_ENV": "production", "JARVIS_OAUTH_ISSUER": is.URL, "JARVIS_OAUTH_AUDIENCE": audience,
		"JARVIS_OAUTH_TENANT_CLAIM": "org"})
	claims := is.claims("alice", "actions:read")
	claims["org"] = "acme"
	resp, p, _ := sendWith(t, s, http.MethodGet, info, bearer(is.sign(t, "rsa-1", claims)), "")
	require.Equal(t, http.StatusOK, resp.StatusCode, "%+v", p)
	line := logLine(t, s, resp.Header.Get("X-Request-ID"))
	assert.Equal(t, "oauth:"+is.URL+"#acme", line["tenant"])
	assert.Equal(t, auth.OAuthUser(is.URL, "alice"), line["user"])

	for name, org := range map[string]any{"without the claim": nil, "empty": "", "with NUL": "acme\x00", "not a string": 7} {
		c := is.claims("alice", "actions:read")
		if org != nil {
			c["org"] = org
		}
		resp, p, _ := sendWith(t, s, http.MethodGet, info, bearer(is.sign(t, "rsa-1", c)), "")
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, name)
		assert.Contains(t, p.Detail, "org claim", name)
	}
}
