// Package oauthserver makes Jarvis an OAuth 2.1 authorization server for its own resources:
// users who sign in with a password, clients registered by the CLI, by dynamic registration
// (RFC 7591) or named by a Client ID Metadata Document, authorization codes bound to PKCE
// (S256), the redirect URI and the resource (RFC 8707), JWT access tokens audience-bound to
// that resource, refresh tokens rotated on use whose replay revokes the grant, and revocation
// (RFC 7009). The HTTP pages and endpoints are in handlers/oauthpages; access tokens are
// verified by services/auth like any other issuer's.
package oauthserver

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"

	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/storage"
)

// Config is how the authorization server behaves.
type Config struct {
	Issuer string // the public URL; also the default resource
	// Resources are the resource indicators tokens may be issued for (RFC 8707), such as the
	// public URL (the API) and the public URL plus /mcp.
	Resources    []string
	AccessTTL    time.Duration
	RefreshTTL   time.Duration
	CodeTTL      time.Duration
	SessionTTL   time.Duration
	Registration bool // dynamic client registration on
	CIMD         *CIMDFetcher
	Now          func() time.Time
	// GrantCacheTTL is how long the state of a grant is trusted before it is read again; a
	// revocation on this replica applies at once, on the others within it.
	GrantCacheTTL time.Duration
}

// Server is the authorization server's logic, without HTTP.
type Server struct {
	cfg   Config
	store *Store
	keys  *KeySet
	csrf  []byte

	mu     sync.Mutex
	grants map[string]grantState
}

type grantState struct {
	active  bool
	expires time.Time
}

// New returns the server over db with keys.
func New(cfg Config, db *storage.DB, keys *KeySet) *Server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Server{cfg: cfg, store: NewStore(db, cfg.Now), keys: keys, csrf: keys.secretFrom("csrf"), grants: map[string]grantState{}}
}

// Store is the server's store, for the CLI and the grant endpoints.
func (s *Server) Store() *Store { return s.store }

// Issuer is the issuer identifier.
func (s *Server) Issuer() string { return s.cfg.Issuer }

// Resources are the resources tokens may be bound to.
func (s *Server) Resources() []string { return s.cfg.Resources }

// Keys is the signing key set.
func (s *Server) Keys() *KeySet { return s.keys }

// Registration reports whether dynamic client registration is on.
func (s *Server) Registration() bool { return s.cfg.Registration }

// SessionTTL is how long a login lasts.
func (s *Server) SessionTTL() time.Duration { return s.cfg.SessionTTL }

// Error is an OAuth error response: the code of RFC 6749 (or RFC 8707, RFC 7591) and a
// description written for whoever reads it.
type Error struct {
	Code        string
	Description string
	Status      int
}

func (e *Error) Error() string { return e.Code + ": " + e.Description }

func oauthErr(code, format string, args ...any) *Error {
	status := 400
	if code == "invalid_client" {
		status = 401
	}
	return &Error{Code: code, Description: fmt.Sprintf(format, args...), Status: status}
}

// AuthRequest is a validated authorization request.
type AuthRequest struct {
	ClientID      string   `json:"clientId"`
	ClientName    string   `json:"clientName"`
	RedirectURI   string   `json:"redirectUri"`
	State         string   `json:"state"`
	Scopes        []string `json:"scopes"`
	Resource      string   `json:"resource"`
	CodeChallenge string   `json:"codeChallenge"`
}

// RedirectError is an authorization error to send back to the client's redirect URI; an error
// that is not one is shown to the user instead, since the redirect URI is not trusted.
type RedirectError struct {
	OAuth       *Error
	RedirectURI string
	State       string
}

func (e *RedirectError) Error() string { return e.OAuth.Error() }

// DefaultScopes are granted when a client asks for none.
var DefaultScopes = []string{services.ScopeActionsRead, services.ScopeActionsWrite, services.ScopeJobs}

// ValidateAuthorize checks an authorization request. The client and its redirect URI are
// checked first: until both are known good, errors are an *Error for the user; after, a
// *RedirectError for the client.
func (s *Server) ValidateAuthorize(ctx context.Context, q url.Values) (AuthRequest, error) {
	for _, p := range []string{"client_id", "redirect_uri", "response_type", "code_challenge", "code_challenge_method", "state", "scope"} {
		if len(q[p]) > 1 {
			return AuthRequest{}, oauthErr("invalid_request", "The parameter %s is given more than once.", p)
		}
	}
	client, err := s.Client(ctx, q.Get("client_id"))
	if err != nil {
		return AuthRequest{}, err
	}
	redirect := q.Get("redirect_uri")
	if redirect == "" && len(client.RedirectURIs) == 1 {
		redirect = client.RedirectURIs[0]
	}
	if !RedirectAllowed(client.RedirectURIs, redirect) {
		return AuthRequest{}, oauthErr("invalid_request", "The redirect_uri is not one the client %q registered; it must match one exactly.", client.Name)
	}
	state := q.Get("state")
	fail := func(code, format string, args ...any) (AuthRequest, error) {
		return AuthRequest{}, &RedirectError{OAuth: oauthErr(code, format, args...), RedirectURI: redirect, State: state}
	}
	if q.Get("response_type") != "code" {
		return fail("unsupported_response_type", "Only response_type=code is supported.")
	}
	challenge, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	switch {
	case challenge == "":
		return fail("invalid_request", "PKCE is required: send code_challenge with code_challenge_method=S256.")
	case method != "S256":
		return fail("invalid_request", "Only code_challenge_method=S256 is supported.")
	case len(challenge) != 43 || strings.ContainsAny(challenge, "+/="):
		return fail("invalid_request", "The code_challenge must be the base64url SHA-256 of the code verifier (43 characters).")
	}
	scopes, err := s.requestedScopes(q.Get("scope"), client)
	if err != nil {
		return fail("invalid_scope", "%s", err.Error())
	}
	resource, rerr := s.resource(q["resource"])
	if rerr != nil {
		return fail(rerr.Code, "%s", rerr.Description)
	}
	return AuthRequest{ClientID: client.ID, ClientName: client.Name, RedirectURI: redirect, State: state, Scopes: scopes,
		Resource: resource, CodeChallenge: challenge}, nil
}

func (s *Server) requestedScopes(raw string, client Client) ([]string, error) {
	requested := strings.Fields(raw)
	if len(requested) == 0 {
		requested = client.Scopes
	}
	if len(requested) == 0 {
		requested = DefaultScopes
	}
	for _, sc := range requested {
		if !slices.Contains(services.AllScopes, sc) {
			return nil, fmt.Errorf("the scope %q is not one of %s", sc, strings.Join(services.AllScopes, " "))
		}
		if len(client.Scopes) > 0 && !slices.Contains(client.Scopes, sc) {
			return nil, fmt.Errorf("the client may not ask for the scope %q", sc)
		}
	}
	return sortedSet(requested), nil
}

// resource is the one resource of a request, the issuer (the API) when none is named.
func (s *Server) resource(values []string) (string, *Error) {
	switch len(values) {
	case 0:
		return s.cfg.Issuer, nil
	case 1:
	default:
		return "", oauthErr("invalid_target", "Name one resource; tokens are bound to a single one.")
	}
	r := strings.TrimRight(values[0], "/")
	if slices.Contains(s.cfg.Resources, r) {
		return r, nil
	}
	return "", oauthErr("invalid_target", "The resource %q is not served here; use one of %s.", values[0], strings.Join(s.cfg.Resources, ", "))
}

// RedirectAllowed reports whether redirect is one of the registered URIs: equal, except that the
// port of a loopback redirect may differ (RFC 8252 section 7.3). A fragment is never allowed.
func RedirectAllowed(registered []string, redirect string) bool {
	if redirect == "" || strings.Contains(redirect, "#") {
		return false
	}
	if slices.Contains(registered, redirect) {
		return true
	}
	u, err := url.Parse(redirect)
	if err != nil || u.Scheme != "http" || !loopbackHost(u.Hostname()) {
		return false
	}
	for _, r := range registered {
		ru, err := url.Parse(r)
		if err != nil || ru.Scheme != "http" || !loopbackHost(ru.Hostname()) {
			continue
		}
		if ru.Hostname() == u.Hostname() && ru.EscapedPath() == u.EscapedPath() && ru.RawQuery == u.RawQuery && ru.User == nil && u.User == nil {
			return true
		}
	}
	return false
}

func loopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// CheckRedirectURI is the rule for a redirect URI a client registers: absolute, no fragment,
// https, or http only to a loopback host, or a private-use scheme of a native app.
func CheckRedirectURI(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() {
		return fmt.Errorf("%q is not an absolute URI", raw)
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return fmt.Errorf("%q has a fragment, which redirect URIs may not", raw)
	}
	switch u.Scheme {
	case "https":
		if u.Host == "" {
			return fmt.Errorf("%q names no host", raw)
		}
	case "http":
		if !loopbackHost(u.Hostname()) {
			return fmt.Errorf("%q: http redirect URIs are allowed only to a loopback host; use https", raw)
		}
	case "javascript", "data", "file", "vbscript":
		return fmt.Errorf("%q: the scheme %s is not allowed", raw, u.Scheme)
	default:
		if !strings.Contains(u.Scheme, ".") {
			return fmt.Errorf("%q: a native app's scheme must be a reversed domain name such as com.example.app", raw)
		}
	}
	return nil
}

// Client finds a client: a Client ID Metadata Document when the id is a URL, else a registered one.
func (s *Server) Client(ctx context.Context, id string) (Client, error) {
	if id == "" {
		return Client{}, oauthErr("invalid_request", "The client_id is missing.")
	}
	if strings.HasPrefix(id, "https://") || strings.HasPrefix(id, "http://") {
		if s.cfg.CIMD == nil {
			return Client{}, oauthErr("invalid_client", "This server does not accept Client ID Metadata Documents; register the client instead.")
		}
		c, err := s.cfg.CIMD.Fetch(ctx, id)
		if err != nil {
			return Client{}, oauthErr("invalid_client", "The client's metadata document at %s cannot be used: %v.", id, err)
		}
		return c, nil
	}
	c, err := s.store.GetClient(ctx, id)
	if se, ok := services.AsError(err); ok && se.Code == services.CodeNotFound {
		return Client{}, oauthErr("invalid_client", "There is no client %q registered here.", id)
	}
	return c, err
}

// GrantScopes are the scopes of a request that the user holds.
func GrantScopes(req AuthRequest, u User) []string {
	var out []string
	for _, sc := range req.Scopes {
		if slices.Contains(u.Scopes, sc) || slices.Contains(u.Scopes, services.ScopeAdmin) {
			out = append(out, sc)
		}
	}
	return out
}

// IssueCode makes the authorization code for an approved request.
func (s *Server) IssueCode(ctx context.Context, req AuthRequest, u User, scopes []string) (string, error) {
	return s.store.CreateCode(ctx, Code{ClientID: req.ClientID, UserID: u.ID, RedirectURI: req.RedirectURI, CodeChallenge: req.CodeChallenge,
		Scopes: scopes, Resource: req.Resource, ExpiresAt: s.cfg.Now().Add(s.cfg.CodeTTL)})
}

// TokenResponse is the token endpoint's answer (RFC 6749 section 5.1).
type TokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope"`
}

// ClientCredentials are what a token or revocation request authenticates the client with.
type ClientCredentials struct {
	ID, Secret string
	Method     string // the method the credentials came by: none, client_secret_basic or client_secret_post
}

// AuthenticateClient checks the client of a token or revocation request.
func (s *Server) AuthenticateClient(ctx context.Context, cc ClientCredentials) (Client, error) {
	c, err := s.Client(ctx, cc.ID)
	if err != nil {
		if e, ok := err.(*Error); ok {
			e.Code, e.Status = "invalid_client", 401
		}
		return Client{}, err
	}
	if c.Public() {
		if cc.Method != AuthNone {
			return Client{}, oauthErr("invalid_client", "The client %s is public and has no secret; send only client_id.", c.ID)
		}
		return c, nil
	}
	if cc.Method != c.AuthMethod && !(cc.Method == AuthPost && c.AuthMethod == AuthBasic) && !(cc.Method == AuthBasic && c.AuthMethod == AuthPost) {
		return Client{}, oauthErr("invalid_client", "The client %s must authenticate with its secret (%s).", c.ID, c.AuthMethod)
	}
	if !c.VerifySecret(cc.Secret) {
		return Client{}, oauthErr("invalid_client", "The client credentials are not valid.")
	}
	return c, nil
}

// ExchangeCode redeems an authorization code (RFC 6749 section 4.1.3 with PKCE, RFC 7636).
func (s *Server) ExchangeCode(ctx context.Context, client Client, code, redirectURI, verifier string, resources []string) (TokenResponse, error) {
	if code == "" {
		return TokenResponse{}, oauthErr("invalid_request", "The code is missing.")
	}
	c, found, err := s.store.SpendCode(ctx, code)
	if err != nil {
		return TokenResponse{}, err
	}
	if !found {
		return TokenResponse{}, oauthErr("invalid_grant", "The authorization code is not valid.")
	}
	if c.Used {
		// RFC 6749 section 4.1.2: a code used twice revokes what it issued.
		if c.GrantID != "" {
			if err := s.RevokeGrant(ctx, c.GrantID); err != nil {
				return TokenResponse{}, err
			}
		}
		return TokenResponse{}, oauthErr("invalid_grant", "The authorization code was used already; the tokens issued for it are revoked. Start the authorization again.")
	}
	switch {
	case s.cfg.Now().After(c.ExpiresAt):
		return TokenResponse{}, oauthErr("invalid_grant", "The authorization code has expired; start the authorization again.")
	case c.ClientID != client.ID:
		return TokenResponse{}, oauthErr("invalid_grant", "The authorization code was issued to another client.")
	case c.RedirectURI != redirectURI:
		return TokenResponse{}, oauthErr("invalid_grant", "The redirect_uri differs from the one of the authorization request.")
	case verifier == "":
		return TokenResponse{}, oauthErr("invalid_grant", "The code_verifier is missing (PKCE).")
	case !pkceMatches(verifier, c.CodeChallenge):
		return TokenResponse{}, oauthErr("invalid_grant", "The code_verifier does not match the code_challenge.")
	}
	if len(resources) > 1 || len(resources) == 1 && strings.TrimRight(resources[0], "/") != c.Resource {
		return TokenResponse{}, oauthErr("invalid_target", "The resource differs from the one the authorization was for (%s).", c.Resource)
	}
	u, err := s.store.GetUser(ctx, c.UserID)
	if err != nil {
		return TokenResponse{}, err
	}
	if u.Disabled {
		return TokenResponse{}, oauthErr("invalid_grant", "The user is disabled.")
	}
	g, err := s.store.CreateGrant(ctx, Grant{Tenant: u.Tenant, UserID: u.ID, ClientID: client.ID, ClientName: client.Name, Scopes: c.Scopes, Resource: c.Resource})
	if err != nil {
		return TokenResponse{}, err
	}
	if err := s.store.BindCode(ctx, code, g.ID); err != nil {
		return TokenResponse{}, err
	}
	return s.tokens(ctx, g, u)
}

func pkceMatches(verifier, challenge string) bool {
	if len(verifier) < 43 || len(verifier) > 128 {
		return false
	}
	sum := sha256.Sum256([]byte(verifier))
	return constantEqual(base64.RawURLEncoding.EncodeToString(sum[:]), challenge)
}

func constantEqual(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// Refresh rotates a refresh token (RFC 6749 section 6; OAuth 2.1 section 4.3.1): the token is
// spent, and a spent one presented again revokes its whole grant.
func (s *Server) Refresh(ctx context.Context, client Client, token string, scope string, resources []string) (TokenResponse, error) {
	grantID, state, err := s.store.SpendRefresh(ctx, token)
	if err != nil {
		return TokenResponse{}, err
	}
	if state == refreshUnknown {
		return TokenResponse{}, oauthErr("invalid_grant", "The refresh token is not valid.")
	}
	g, err := s.store.GetGrant(ctx, grantID)
	if err != nil {
		return TokenResponse{}, err
	}
	if g.ClientID != client.ID {
		return TokenResponse{}, oauthErr("invalid_grant", "The refresh token was issued to another client.")
	}
	switch {
	case state == refreshReplayed:
		if err := s.RevokeGrant(ctx, g.ID); err != nil {
			return TokenResponse{}, err
		}
		return TokenResponse{}, oauthErr("invalid_grant", "The refresh token was used already; every token of this authorization is revoked. Sign in again.")
	case state == refreshExpired:
		return TokenResponse{}, oauthErr("invalid_grant", "The refresh token has expired; sign in again.")
	case g.Revoked:
		return TokenResponse{}, oauthErr("invalid_grant", "The authorization was revoked; sign in again.")
	}
	if len(resources) > 1 || len(resources) == 1 && strings.TrimRight(resources[0], "/") != g.Resource {
		return TokenResponse{}, oauthErr("invalid_target", "The resource differs from the one the authorization was for (%s).", g.Resource)
	}
	for _, sc := range strings.Fields(scope) {
		if !slices.Contains(g.Scopes, sc) {
			return TokenResponse{}, oauthErr("invalid_scope", "The scope %q was not granted; ask for the granted scopes or fewer.", sc)
		}
	}
	u, err := s.store.GetUser(ctx, g.UserID)
	if err != nil {
		return TokenResponse{}, err
	}
	if u.Disabled {
		return TokenResponse{}, oauthErr("invalid_grant", "The user is disabled.")
	}
	if narrowed := strings.Fields(scope); len(narrowed) > 0 {
		g.Scopes = sortedSet(narrowed)
	}
	return s.tokens(ctx, g, u)
}

// AccessClaims are the claims of an access token.
type AccessClaims struct {
	jwt.RegisteredClaims
	Scope    string `json:"scope"`
	ClientID string `json:"client_id"`
	Tenant   string `json:"tenant"`
	Email    string `json:"email"`
	GrantID  string `json:"gid"`
}

func (s *Server) tokens(ctx context.Context, g Grant, u User) (TokenResponse, error) {
	now := s.cfg.Now()
	claims := AccessClaims{
		RegisteredClaims: jwt.RegisteredClaims{Issuer: s.cfg.Issuer, Subject: u.ID, Audience: jwt.ClaimStrings{g.Resource},
			ExpiresAt: jwt.NewNumericDate(now.Add(s.cfg.AccessTTL)), IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now),
			ID: newID("at_")},
		Scope: strings.Join(g.Scopes, " "), ClientID: g.ClientID, Tenant: u.Tenant, Email: u.Email, GrantID: g.ID,
	}
	access, err := s.Sign(claims)
	if err != nil {
		return TokenResponse{}, err
	}
	refresh, err := s.store.CreateRefresh(ctx, g.ID, s.cfg.RefreshTTL)
	if err != nil {
		return TokenResponse{}, err
	}
	return TokenResponse{AccessToken: access, TokenType: "Bearer", ExpiresIn: int(s.cfg.AccessTTL / time.Second), RefreshToken: refresh,
		Scope: claims.Scope}, nil
}

// Sign signs access token claims with the current key.
func (s *Server) Sign(claims jwt.Claims) (string, error) {
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
	tok.Header["kid"] = s.keys.Current.KeyID
	tok.Header["typ"] = "at+jwt"
	return tok.SignedString(s.keys.Current.Key)
}

// Revoke ends the grant of a refresh or access token the client holds (RFC 7009). Tokens that
// are unknown, or of another client, change nothing: the answer is the same either way.
func (s *Server) Revoke(ctx context.Context, client Client, token string) error {
	grantID, ok, err := s.store.RefreshGrant(ctx, token)
	if err != nil {
		return err
	}
	if !ok {
		var claims AccessClaims
		_, perr := jwt.ParseWithClaims(token, &claims, func(t *jwt.Token) (any, error) {
			kid, _ := t.Header["kid"].(string)
			k, found := s.keys.PublicKey(kid)
			if !found {
				return nil, fmt.Errorf("unknown key")
			}
			return k, nil
		}, jwt.WithValidMethods([]string{SigningAlgorithm}), jwt.WithIssuer(s.cfg.Issuer), jwt.WithTimeFunc(s.cfg.Now))
		if perr != nil {
			return nil
		}
		grantID = claims.GrantID
	}
	g, err := s.store.GetGrant(ctx, grantID)
	if err != nil || g.ClientID != client.ID {
		return nil
	}
	return s.RevokeGrant(ctx, g.ID)
}

// RevokeGrant ends a grant; this replica stops accepting its access tokens at once.
func (s *Server) RevokeGrant(ctx context.Context, id string) error {
	if err := s.store.RevokeGrant(ctx, id); err != nil {
		return err
	}
	s.mu.Lock()
	s.grants[id] = grantState{active: false, expires: s.cfg.Now().Add(s.cfg.GrantCacheTTL)}
	s.mu.Unlock()
	return nil
}

// GrantActive reports whether a grant still stands, for the verification of access tokens.
func (s *Server) GrantActive(ctx context.Context, id string) (bool, error) {
	now := s.cfg.Now()
	s.mu.Lock()
	st, ok := s.grants[id]
	s.mu.Unlock()
	if ok && now.Before(st.expires) {
		return st.active, nil
	}
	g, err := s.store.GetGrant(ctx, id)
	if se, ok := services.AsError(err); ok && se.Code == services.CodeNotFound {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if s.cfg.GrantCacheTTL > 0 {
		s.mu.Lock()
		if len(s.grants) > 10000 {
			clear(s.grants)
		}
		s.grants[id] = grantState{active: !g.Revoked, expires: now.Add(s.cfg.GrantCacheTTL)}
		s.mu.Unlock()
	}
	return !g.Revoked, nil
}

// PublicJWKS is the key set to publish.
func (s *Server) PublicJWKS() jose.JSONWebKeySet { return s.keys.Public() }
