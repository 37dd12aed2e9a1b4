package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/sync/singleflight"
	"golang.org/x/time/rate"

	"github.com/aidawg/jarvis/services"
)

// Algorithms are the JWT signature algorithms that may be allowed: asymmetric ones only, since
// the keys come from a public JWKS.
var Algorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// OAuthConfig is the authorization server whose access tokens are accepted.
type OAuthConfig struct {
	Issuer     string   // must equal the token's iss
	Audience   string   // must be among the token's aud
	JWKSURL    string   // "" to discover it from the issuer's metadata
	Algorithms []string // allowed signature algorithms
	// TenantClaim names the claim whose value is the user's tenant (within the issuer); ""
	// puts every user of the issuer in one tenant of its own.
	TenantClaim string
	Leeway      time.Duration
	// KeysMaxAge is how long fetched keys are used before they are fetched again.
	KeysMaxAge time.Duration
	HTTPClient *http.Client
}

type tokenClaims struct {
	jwt.RegisteredClaims
	Scope string `json:"scope"`
	Scp   any    `json:"scp"`
}

type oauthVerifier struct {
	cfg OAuthConfig
	// issuerTenant is the tenant of the issuer's users, or the prefix of their tenants when
	// they come from a claim: never one of another credential's tenants.
	issuerTenant string
	parser       *jwt.Parser
	keys         *jwksCache
}

func newOAuthVerifier(cfg OAuthConfig) *oauthVerifier {
	if cfg.Leeway <= 0 {
		cfg.Leeway = 30 * time.Second
	}
	if cfg.KeysMaxAge <= 0 {
		cfg.KeysMaxAge = 15 * time.Minute
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 5 * time.Second}
	}
	return &oauthVerifier{
		cfg:          cfg,
		issuerTenant: "oauth:" + cfg.Issuer,
		parser: jwt.NewParser(
			jwt.WithValidMethods(cfg.Algorithms),
			jwt.WithIssuer(cfg.Issuer),
			jwt.WithAudience(cfg.Audience),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(cfg.Leeway),
		),
		keys: &jwksCache{
			issuer: cfg.Issuer, url: cfg.JWKSURL, client: cfg.HTTPClient, maxAge: cfg.KeysMaxAge,
			// Tokens naming unknown key ids may make Jarvis fetch the keys again, but not
			// more than a few times a minute, whoever sends them.
			unknownKid: rate.NewLimiter(rate.Every(10*time.Second), 3),
		},
	}
}

var errKeysUnavailable = errors.New("the issuer's keys cannot be fetched")

func (v *oauthVerifier) verify(ctx context.Context, token string) (services.Principal, error) {
	var claims tokenClaims
	_, err := v.parser.ParseWithClaims(token, &claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, errors.New("the token names no key id (kid)")
		}
		k, err := v.keys.key(ctx, kid)
		if err != nil {
			return nil, err
		}
		if k.Algorithm != "" && k.Algorithm != t.Method.Alg() {
			return nil, fmt.Errorf("key %s is for %s, not %s", kid, k.Algorithm, t.Method.Alg())
		}
		return k.Key, nil
	})
	if err != nil {
		if errors.Is(err, errKeysUnavailable) {
			return services.Principal{}, unavailable("access tokens", err)
		}
		return services.Principal{}, &services.Error{Code: services.CodeUnauthorized, Err: err, Detail: tokenDetail(err)}
	}
	// The JSON decoder turns bytes that are not UTF-8 into U+FFFD, so that two subjects
	// could read as one; such a payload is refused as a whole.
	payload, err := v.parser.DecodeSegment(strings.Split(token, ".")[1])
	if err != nil || !utf8.Valid(payload) {
		return services.Principal{}, unauthorized("The access token's claims are not UTF-8 text. Get a new token from the authorization server.")
	}
	if !usableClaim(claims.Subject) {
		return services.Principal{}, unauthorized("The access token has no usable subject (sub). Get a token for a user from the authorization server.")
	}
	tenant := v.issuerTenant
	if v.cfg.TenantClaim != "" {
		value, ok := v.tenantClaim(payload)
		if !ok {
			return services.Principal{}, unauthorized("The access token has no usable " + v.cfg.TenantClaim + " claim, which names the user's tenant on this server. Get a token that carries it from the authorization server.")
		}
		tenant += "#" + value
	}
	return services.Principal{Tenant: tenant, User: OAuthUser(v.cfg.Issuer, claims.Subject), Method: services.MethodOAuth2, Scopes: claims.scopes()}, nil
}

// OAuthUser is the user a token's subject is. A subject names a user only within its issuer,
// so the issuer is part of the name; and since the issuer is a URL, the name holds a slash,
// which the user of an API key never does (nor the built-in users), so no token can be taken
// for another credential's user.
func OAuthUser(issuer, sub string) string { return "oauth:" + issuer + "#" + sub }

// usableClaim reports whether an identity claim can name a record: not empty, short, UTF-8
// and without NUL, which the databases refuse or truncate.
func usableClaim(s string) bool {
	return s != "" && len(s) <= 256 && utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// tenantClaim reads the configured tenant claim of a verified token's payload.
func (v *oauthVerifier) tenantClaim(payload []byte) (string, bool) {
	var all map[string]any
	if err := json.Unmarshal(payload, &all); err != nil {
		return "", false
	}
	value, ok := all[v.cfg.TenantClaim].(string)
	return value, ok && usableClaim(value)
}

func tokenDetail(err error) string {
	const next = " Sign in again to get a new access token."
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return "The access token has expired." + next
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "The access token is not valid yet. Check the clock of the system that made it, or sign in again."
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return "The access token was issued by another authorization server than the one this server trusts." + next
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "The access token is meant for another audience than this server." + next
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "The access token lacks a required claim (exp)." + next
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "The bearer token is not a well-formed access token." + next
	}
	return "The access token's signature cannot be verified with the authorization server's keys." + next
}

// scopes are the known scopes the token grants, from scope (space-separated) or scp.
func (c tokenClaims) scopes() []string {
	granted := strings.Fields(c.Scope)
	switch scp := c.Scp.(type) {
	case string:
		granted = append(granted, strings.Fields(scp)...)
	case []any:
		for _, s := range scp {
			if s, ok := s.(string); ok {
				granted = append(granted, s)
			}
		}
	}
	var out []string
	for _, s := range services.AllScopes {
		if slices.Contains(granted, s) {
			out = append(out, s)
		}
	}
	return out
}

// jwksCache holds the issuer's public keys by key id. Keys are fetched on first use, again
// when older than maxAge, and again when a token names a key id it does not know (the issuer
// has rotated its keys), within the unknownKid allowance. While the issuer cannot be reached,
// the keys fetched last go on being used.
type jwksCache struct {
	issuer     string
	url        string
	client     *http.Client
	maxAge     time.Duration
	unknownKid *rate.Limiter

	mu        sync.RWMutex
	keys      map[string]jose.JSONWebKey
	fetchedAt time.Time
	jwksURL   string // url, or the one the issuer's metadata named
	group     singleflight.Group
}

func (c *jwksCache) lookup(kid string) (jose.JSONWebKey, bool, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	k, ok := c.keys[kid]
	fresh := !c.fetchedAt.IsZero() && time.Since(c.fetchedAt) < c.maxAge
	return k, ok, fresh
}

func (c *jwksCache) key(ctx context.Context, kid string) (jose.JSONWebKey, error) {
	k, ok, fresh := c.lookup(kid)
	if ok && fresh {
		return k, nil
	}
	if !fresh {
		err := c.refresh(ctx)
		if nk, nok, _ := c.lookup(kid); nok {
			return nk, nil
		}
		if err != nil {
			if ok {
				return k, nil
			}
			return jose.JSONWebKey{}, fmt.Errorf("%w: %v", errKeysUnavailable, err)
		}
		return jose.JSONWebKey{}, fmt.Errorf("no key %q among the issuer's keys", kid)
	}
	if !c.unknownKid.Allow() {
		return jose.JSONWebKey{}, fmt.Errorf("no key %q among the issuer's keys", kid)
	}
	if err := c.refresh(ctx); err != nil {
		return jose.JSONWebKey{}, fmt.Errorf("no key %q among the issuer's keys, and fetching them again failed: %v", kid, err)
	}
	if nk, nok, _ := c.lookup(kid); nok {
		return nk, nil
	}
	return jose.JSONWebKey{}, fmt.Errorf("no key %q among the issuer's keys", kid)
}

// refresh fetches the keys once for all callers waiting at the same time.
func (c *jwksCache) refresh(ctx context.Context) error {
	ch := c.group.DoChan("jwks", func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		keys, err := c.fetch(fctx)
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		c.keys, c.fetchedAt = keys, time.Now()
		c.mu.Unlock()
		return nil, nil
	})
	select {
	case r := <-ch:
		return r.Err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *jwksCache) fetch(ctx context.Context) (map[string]jose.JSONWebKey, error) {
	jwksURL, err := c.resolveURL(ctx)
	if err != nil {
		return nil, err
	}
	var set jose.JSONWebKeySet
	if err := c.getJSON(ctx, jwksURL, &set); err != nil {
		return nil, err
	}
	keys := map[string]jose.JSONWebKey{}
	for _, k := range set.Keys {
		if k.KeyID == "" || !k.Valid() || !k.IsPublic() || (k.Use != "" && k.Use != "sig") {
			continue
		}
		keys[k.KeyID] = k
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%s has no usable public signing keys with a kid", jwksURL)
	}
	return keys, nil
}

// resolveURL is the configured JWKS URL, or the jwks_uri of the issuer's OpenID Connect or
// OAuth 2.0 authorization server metadata.
func (c *jwksCache) resolveURL(ctx context.Context) (string, error) {
	if c.url != "" {
		return c.url, nil
	}
	c.mu.RLock()
	u := c.jwksURL
	c.mu.RUnlock()
	if u != "" {
		return u, nil
	}
	base := strings.TrimRight(c.issuer, "/")
	var errs []error
	for _, doc := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
		var meta struct {
			Issuer  string `json:"issuer"`
			JWKSURI string `json:"jwks_uri"`
		}
		if err := c.getJSON(ctx, base+doc, &meta); err != nil {
			errs = append(errs, err)
			continue
		}
		if meta.Issuer != c.issuer {
			return "", fmt.Errorf("%s names issuer %q, not %q", base+doc, meta.Issuer, c.issuer)
		}
		if err := CheckURL(meta.JWKSURI); err != nil {
			return "", fmt.Errorf("%s: jwks_uri: %w", base+doc, err)
		}
		c.mu.Lock()
		c.jwksURL = meta.JWKSURI
		c.mu.Unlock()
		return meta.JWKSURI, nil
	}
	return "", errors.Join(errs...)
}

func (c *jwksCache) getJSON(ctx context.Context, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", u, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20+1))
	if err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	if len(body) > 1<<20 {
		return fmt.Errorf("GET %s: larger than 1 MiB", u)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	return nil
}

// CheckURL accepts https URLs, and http ones only to a loopback host (a local authorization
// server in development and tests): keys fetched in the clear could be swapped on the way.
func CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q is not an absolute URL", raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); host == "localhost" || ip != nil && ip.IsLoopback() {
			return nil
		}
	}
	return fmt.Errorf("%q must be an https URL (http only to a loopback host)", raw)
}
