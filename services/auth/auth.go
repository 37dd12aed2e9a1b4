// Package auth turns a request's credentials into a principal: API keys from the database, the
// app key a GPT sends, the bootstrap token, OAuth access tokens (JWTs) verified against the
// issuer's keys, and, in development on a loopback listener only, no credentials at all.
//
// Secrets are compared in constant time (over their SHA-256, so that lengths do not show) and
// never appear in an error: details name what was wrong, never what was sent.
package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/keys"
)

// Tenant is the tenant of the app key's and the bootstrap token's principals.
const Tenant = "default"

// Users of the principals that are not an API key's or a token's subject.
const (
	AppKeyUser    = "chatgpt-app"
	BootstrapUser = "bootstrap"
)

// KeyStore finds API keys by id.
type KeyStore interface {
	Get(ctx context.Context, id string) (keys.Key, error)
}

// Config is which methods are on and their secrets.
type Config struct {
	// Development makes a request without credentials from a loopback client the development
	// principal. Only for JARVIS_ENV=development on a loopback listener; app decides.
	Development    bool
	AppKey         string // X-ChatGPT-App-Key; "" turns the method off
	BootstrapToken string // "" turns the method off
	KeyCacheTTL    time.Duration
	OAuth          *OAuthConfig // nil turns OAuth off
	Local          *LocalConfig // nil when Jarvis is not an authorization server
}

// Credentials are what a request presented.
type Credentials struct {
	Authorization string // the Authorization header as sent
	APIKey        string // X-API-Key
	AppKey        string // X-ChatGPT-App-Key
	// ClientAddr is the client's address once trusted proxies are resolved. A loopback
	// listener still hears a proxy on this machine, which forwards callers from anywhere, so
	// the development bypass needs a loopback client too.
	ClientAddr string
	// Resource is the resource the request is made to (the API, or the MCP endpoint): Jarvis's
	// own access tokens are accepted only where their audience names it.
	Resource string
}

// Present reports whether any credential was sent.
func (c Credentials) Present() bool {
	return c.Authorization != "" || c.APIKey != "" || c.AppKey != ""
}

// Authenticator checks credentials.
type Authenticator struct {
	cfg       Config
	keys      KeyStore
	appKey    []byte // SHA-256 of the configured secret, nil when off
	bootstrap []byte
	oauth     *oauthVerifier
	local     *localVerifier
	cache     keyCache
}

// New returns an authenticator over store.
func New(cfg Config, store KeyStore) *Authenticator {
	a := &Authenticator{cfg: cfg, keys: store, cache: keyCache{ttl: cfg.KeyCacheTTL, entries: map[string]cachedKey{}}}
	if cfg.AppKey != "" {
		a.appKey = digest(cfg.AppKey)
	}
	if cfg.BootstrapToken != "" {
		a.bootstrap = digest(cfg.BootstrapToken)
	}
	if cfg.OAuth != nil {
		a.oauth = newOAuthVerifier(*cfg.OAuth)
	}
	if cfg.Local != nil {
		a.local = newLocalVerifier(*cfg.Local)
	}
	return a
}

func loopback(addr string) bool {
	ip, err := netip.ParseAddr(addr)
	return err == nil && ip.Unmap().IsLoopback()
}

func digest(s string) []byte {
	sum := sha256.Sum256([]byte(s))
	return sum[:]
}

func matches(given string, want []byte) bool {
	return want != nil && subtle.ConstantTimeCompare(digest(given), want) == 1
}

// Methods lists the security schemes this server accepts, as the contract names them.
func (a *Authenticator) Methods() []string {
	m := []string{"bearer", "apiKey"}
	if a.appKey != nil {
		m = append(m, "appKey")
	}
	if a.oauth != nil || a.local != nil {
		m = append(m, "oauth2")
	}
	if a.cfg.Development {
		m = append(m, "development")
	}
	return m

}

func unauthorized(detail string) *services.Error {
	return &services.Error{Code: services.CodeUnauthorized, Detail: detail}
}

func unavailable(what string, cause error) *services.Error {
	return &services.Error{Code: services.CodeUnavailable, RetryAfter: 2, Err: cause,
		Detail: "Jarvis cannot check " + what + " right now. Retry in a few seconds."}
}

// Authenticate returns the principal c authenticates. Failures are services.Errors:
// unauthorized for credentials that are missing or wrong, unavailable when what checks them
// cannot be reached.
func (a *Authenticator) Authenticate(ctx context.Context, c Credentials) (services.Principal, error) {
	sent := 0
	for _, v := range []string{c.Authorization, c.APIKey, c.AppKey} {
		if v != "" {
			sent++
		}
	}
	switch {
	case sent == 0 && a.cfg.Development && loopback(c.ClientAddr):
		return services.DevelopmentPrincipal, nil
	case sent == 0:
		return services.Principal{}, unauthorized("This call needs credentials. Send an API key as Authorization: Bearer <key> or X-API-Key, the GPT's app key as X-ChatGPT-App-Key, or an OAuth access token as Authorization: Bearer <token>.")
	case sent > 1:
		return services.Principal{}, unauthorized("Send one credential: Authorization, X-API-Key or X-ChatGPT-App-Key, not several.")
	}
	switch {
	case c.AppKey != "":
		if a.appKey == nil {
			return services.Principal{}, unauthorized("This server does not accept X-ChatGPT-App-Key. Use an API key or an OAuth access token.")
		}
		if !matches(c.AppKey, a.appKey) {
			return services.Principal{}, unauthorized("The X-ChatGPT-App-Key is not valid. Set the GPT's custom header to the app key this server is configured with.")
		}
		return services.Principal{Tenant: Tenant, User: AppKeyUser, Method: services.MethodAppKey,
			Scopes: []string{services.ScopeActionsRead, services.ScopeActionsWrite, services.ScopeJobs}}, nil
	case c.APIKey != "":
		return a.secret(ctx, strings.TrimSpace(c.APIKey), false, "")
	}
	scheme, token, _ := strings.Cut(strings.TrimSpace(c.Authorization), " ")
	token = strings.TrimSpace(token)
	if !strings.EqualFold(scheme, "Bearer") {
		return services.Principal{}, unauthorized("The Authorization header must use the Bearer scheme: Authorization: Bearer <API key or access token>.")
	}
	if token == "" || strings.ContainsAny(token, " \t") {
		return services.Principal{}, unauthorized("The Authorization header has no usable bearer token. Send Authorization: Bearer <API key or access token>.")
	}
	return a.secret(ctx, token, true, c.Resource)
}

// secret authenticates an API key, the bootstrap token or, as a bearer token, a JWT.
func (a *Authenticator) secret(ctx context.Context, token string, bearer bool, resource string) (services.Principal, error) {
	if keys.LooksLikeKey(token) {
		return a.apiKey(ctx, token)
	}
	if matches(token, a.bootstrap) {
		return services.Principal{Tenant: Tenant, User: BootstrapUser, Method: services.MethodBootstrap,
			Scopes: append([]string(nil), services.AllScopes...)}, nil
	}
	if bearer && a.local != nil && strings.Count(token, ".") == 2 && issuedBy(token) == a.local.cfg.Issuer {
		return a.local.verify(ctx, token, resource)
	}
	if bearer && a.oauth != nil && strings.Count(token, ".") == 2 {
		return a.oauth.verify(ctx, token)
	}
	if bearer {
		return services.Principal{}, unauthorized("The bearer token is neither a valid API key nor a valid access token for this server.")
	}
	return services.Principal{}, unauthorized("The X-API-Key is not a valid API key for this server.")
}

func (a *Authenticator) apiKey(ctx context.Context, token string) (services.Principal, error) {
	id, secret, ok := keys.Parse(token)
	if !ok {
		return services.Principal{}, unauthorized("The API key is malformed. Send the whole key as it was shown when it was created, starting with jv_.")
	}
	k, err := a.lookup(ctx, id)
	if err != nil {
		if se, ok := services.AsError(err); ok && se.Code == services.CodeNotFound {
			// Same answer as a wrong secret, so that the answer does not tell which ids exist.
			return services.Principal{}, unauthorized("The API key is not valid. Check it, or ask the administrator for a new one.")
		}
		return services.Principal{}, unavailable("API keys", err)
	}
	if !k.Verify(secret) {
		return services.Principal{}, unauthorized("The API key is not valid. Check it, or ask the administrator for a new one.")
	}
	if k.Revoked() {
		return services.Principal{}, unauthorized("The API key has been revoked. Ask the administrator for a new one.")
	}
	return k.Principal(), nil
}

func (a *Authenticator) lookup(ctx context.Context, id string) (keys.Key, error) {
	if k, ok := a.cache.get(id); ok {
		return k, nil
	}
	k, err := a.keys.Get(ctx, id)
	if err != nil {
		return keys.Key{}, err
	}
	a.cache.put(id, k)
	return k, nil
}

// keyCache keeps keys read from the database for a short time, so that most calls do not read
// it; a revocation takes effect everywhere within the TTL. Only keys that exist are kept, so
// the cache cannot be grown by guessing ids.
type keyCache struct {
	ttl     time.Duration
	mu      sync.Mutex
	entries map[string]cachedKey
}

type cachedKey struct {
	key     keys.Key
	expires time.Time
}

func (c *keyCache) get(id string) (keys.Key, bool) {
	if c.ttl <= 0 {
		return keys.Key{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[id]
	if !ok || time.Now().After(e.expires) {
		return keys.Key{}, false
	}
	return e.key, true
}

func (c *keyCache) put(id string, k keys.Key) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries[id] = cachedKey{key: k, expires: time.Now().Add(c.ttl)}
}
