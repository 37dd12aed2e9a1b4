// Package oauthpages serves Jarvis's authorization server over HTTP: the RFC 8414 metadata,
// the JWKS, the authorization endpoint with its login and consent pages, and the token,
// revocation and registration endpoints. The logic is services/oauthserver's.
package oauthpages

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"

	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/oauthserver"
	"github.com/aidawg/jarvis/services/ratelimit"
)

// Paths of the endpoints.
const (
	MetadataPath     = "/.well-known/oauth-authorization-server"
	JWKSPath         = "/.well-known/jwks.json"
	AuthorizePath    = "/oauth/authorize"
	LoginPath        = "/oauth/login"
	ConsentPath      = "/oauth/consent"
	LinkPath         = "/oauth/link"
	TokenPath        = "/oauth/token"
	RevokePath       = "/oauth/revoke"
	RegistrationPath = "/oauth/register"
)

// requestTTL is how long a user has to sign in and decide.
const requestTTL = 10 * time.Minute

// Options are what the pages need besides the server.
type Options struct {
	Limiter *ratelimit.Limiter
	// RegistrationLimit caps dynamic registrations per client address.
	RegistrationLimit services.Rate
	Log               zerolog.Logger
}

// Pages serves the authorization server.
type Pages struct {
	srv     *oauthserver.Server
	opts    Options
	secure  bool // https: cookies are Secure and __Host- prefixed
	session string
	prelog  string
}

// New returns the pages of srv.
func New(srv *oauthserver.Server, opts Options) *Pages {
	p := &Pages{srv: srv, opts: opts, secure: strings.HasPrefix(srv.Issuer(), "https://")}
	// The __Host- prefix makes browsers keep the cookie to this host, path / and https; on a
	// plain-http loopback address (development) it cannot be set, so the name goes without.
	p.session, p.prelog = "jarvis-session", "jarvis-login"
	if p.secure {
		p.session, p.prelog = "__Host-jarvis-session", "__Host-jarvis-login"
	}
	return p
}

// Register mounts the endpoints on e.
func (p *Pages) Register(e *echo.Echo) {
	e.GET(MetadataPath, p.metadata)
	e.GET(JWKSPath, p.jwks)
	e.GET(AuthorizePath, p.authorize)
	e.POST(LoginPath, p.login)
	e.GET(LoginPath, p.loginGet)
	e.Any(ConsentPath, p.consent)
	e.GET(LinkPath, p.linkGet)
	e.POST(LinkPath, p.linkPost)
	e.POST(TokenPath, p.token)
	e.POST(RevokePath, p.revoke)
	e.POST(RegistrationPath, p.register)
}

// Metadata is the RFC 8414 document.
func (p *Pages) Metadata() map[string]any {
	iss := p.srv.Issuer()
	m := map[string]any{
		"issuer":                                         iss,
		"authorization_endpoint":                         iss + AuthorizePath,
		"token_endpoint":                                 iss + TokenPath,
		"revocation_endpoint":                            iss + RevokePath,
		"jwks_uri":                                       iss + JWKSPath,
		"response_types_supported":                       []string{"code"},
		"response_modes_supported":                       []string{"query"},
		"grant_types_supported":                          []string{"authorization_code", "refresh_token"},
		"code_challenge_methods_supported":               []string{"S256"},
		"token_endpoint_auth_methods_supported":          []string{oauthserver.AuthNone, oauthserver.AuthBasic, oauthserver.AuthPost},
		"revocation_endpoint_auth_methods_supported":     []string{oauthserver.AuthNone, oauthserver.AuthBasic, oauthserver.AuthPost},
		"scopes_supported":                               services.AllScopes,
		"authorization_response_iss_parameter_supported": true,
		"client_id_metadata_document_supported":          true,
		"resource_indicators_supported":                  true,
		"service_documentation":                          iss + "/openapi.yaml",
	}
	if p.srv.Registration() {
		m["registration_endpoint"] = iss + RegistrationPath
	}
	return m
}

func (p *Pages) metadata(c echo.Context) error { return c.JSON(http.StatusOK, p.Metadata()) }

func (p *Pages) jwks(c echo.Context) error {
	c.Response().Header().Set(echo.HeaderCacheControl, "public, max-age=300")
	return c.JSON(http.StatusOK, p.srv.PublicJWKS())
}

type view struct {
	Title, Error, CSRF, Request, ClientName, Email string
	RedirectHost, Resource, Token, Code, Message   string
	Scopes                                         []scopeView
}

type scopeView struct{ Name, Meaning string }

var scopeMeaning = map[string]string{
	services.ScopeActionsRead:  "read your data and run analyses",
	services.ScopeActionsWrite: "act for you: generate music, run campaigns and workflows",
	services.ScopeJobs:         "see and cancel the jobs it started",
	services.ScopeAdmin:        "administer Jarvis: read everyone's usage",
}

func (p *Pages) render(c echo.Context, status int, name string, v view) error {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, v); err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentSecurityPolicy, pageCSP)
	h.Set(echo.HeaderCacheControl, "no-store")
	h.Set(echo.HeaderXFrameOptions, "DENY")
	return c.HTMLBlob(status, buf.Bytes())
}

func (p *Pages) message(c echo.Context, status int, title, code, msg string) error {
	return p.render(c, status, "message", view{Title: title, Code: code, Message: msg})
}

func (p *Pages) cookie(name, value string, ttl time.Duration) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, Secure: p.secure, SameSite: http.SameSiteLaxMode,
		MaxAge: int(ttl / time.Second)}
}

// preLogin is the browser's pre-login cookie, which the login form's CSRF token is bound to;
// one is set when missing.
func (p *Pages) preLogin(c echo.Context) string {
	if ck, err := c.Cookie(p.prelog); err == nil && len(ck.Value) >= 32 {
		return ck.Value
	}
	v := rand.Text() + rand.Text()
	c.SetCookie(p.cookie(p.prelog, v, requestTTL*3))
	return v
}

func (p *Pages) sessionUser(c echo.Context) (oauthserver.User, string, bool, error) {
	ck, err := c.Cookie(p.session)
	if err != nil || ck.Value == "" {
		return oauthserver.User{}, "", false, nil
	}
	u, ok, err := p.srv.Store().SessionUser(c.Request().Context(), ck.Value)
	return u, ck.Value, ok, err
}

func (p *Pages) authorize(c echo.Context) error {
	ctx := c.Request().Context()
	req, err := p.srv.ValidateAuthorize(ctx, c.QueryParams())
	if err != nil {
		return p.authorizeError(c, err)
	}
	rid, err := p.srv.Store().SaveRequest(ctx, req, requestTTL)
	if err != nil {
		return err
	}
	u, session, ok, err := p.sessionUser(c)
	if err != nil {
		return err
	}
	if !ok {
		return p.render(c, http.StatusOK, "login", view{Title: "Sign in", CSRF: p.srv.CSRFToken(p.preLogin(c)), Request: rid, ClientName: req.ClientName})
	}
	return p.proceed(c, rid, req, u, session)
}

func (p *Pages) authorizeError(c echo.Context, err error) error {
	var re *oauthserver.RedirectError
	if errors.As(err, &re) {
		return c.Redirect(http.StatusFound, p.redirect(re.RedirectURI, map[string]string{"error": re.OAuth.Code, "error_description": re.OAuth.Description, "state": re.State}))
	}
	var oe *oauthserver.Error
	if errors.As(err, &oe) {
		// The client or its redirect URI is not known good: the error is shown here, never
		// sent to a redirect URI an attacker may have named.
		return p.message(c, http.StatusBadRequest, "This app cannot sign in", oe.Code, oe.Description)
	}
	return err
}

// redirect is the client's redirect URI with the answer's parameters and iss (RFC 9207).
func (p *Pages) redirect(uri string, params map[string]string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return "/"
	}
	q := u.Query()
	for k, v := range params {
		if v != "" {
			q.Set(k, v)
		}
	}
	q.Set("iss", p.srv.Issuer())
	u.RawQuery = q.Encode()
	return u.String()
}

// proceed is the signed-in user's next step: the consent page, or straight back to the client
// with a code when the user already approved this client for these scopes and resource.
func (p *Pages) proceed(c echo.Context, rid string, req oauthserver.AuthRequest, u oauthserver.User, session string) error {
	ctx := c.Request().Context()
	scopes := oauthserver.GrantScopes(req, u)
	if len(scopes) == 0 {
		_ = p.srv.Store().DeleteRequest(ctx, rid)
		return c.Redirect(http.StatusFound, p.redirect(req.RedirectURI, map[string]string{"error": "access_denied",
			"error_description": "The user holds none of the scopes asked for.", "state": req.State}))
	}
	remembered, err := p.srv.Store().Consented(ctx, u.ID, req.ClientID, scopes, req.Resource)
	if err != nil {
		return err
	}
	if remembered {
		return p.approve(c, rid, req, u, scopes)
	}
	v := view{Title: "Allow access", CSRF: p.srv.CSRFToken(session), Request: rid, ClientName: req.ClientName, Email: u.Email, Resource: req.Resource}
	if ru, err := url.Parse(req.RedirectURI); err == nil {
		v.RedirectHost = ru.Host
		if ru.Host == "" {
			v.RedirectHost = ru.Scheme + ":"
		}
	}
	for _, sc := range scopes {
		v.Scopes = append(v.Scopes, scopeView{sc, scopeMeaning[sc]})
	}
	return p.render(c, http.StatusOK, "consent", v)
}

func (p *Pages) approve(c echo.Context, rid string, req oauthserver.AuthRequest, u oauthserver.User, scopes []string) error {
	ctx := c.Request().Context()
	code, err := p.srv.IssueCode(ctx, req, u, scopes)
	if err != nil {
		return err
	}
	if err := p.srv.Store().DeleteRequest(ctx, rid); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, p.redirect(req.RedirectURI, map[string]string{"code": code, "state": req.State}))
}

// loginGet answers a login page reached without an authorization request: the login page takes
// no address to return to, so that it cannot send anyone elsewhere.
func (p *Pages) loginGet(c echo.Context) error {
	return p.message(c, http.StatusBadRequest, "Start from your app", "invalid_request",
		"Sign-in starts from the app you connect (ChatGPT, Claude or another client): connect Jarvis there and it brings you here.")
}

// loginLimited reports whether sign-ins from this address or for this email are locked out,
// and counts a failure when failed is set.
func (p *Pages) loginLimited(ctx context.Context, addr, email string, failed bool) (bool, int, error) {
	locked, retry := false, 0
	now := time.Now()
	for _, key := range []string{addr, "login:" + oauthserver.NormalizeEmail(email)} {
		var d ratelimit.Decision
		var err error
		if failed {
			d, err = p.opts.Limiter.AuthFailed(ctx, key)
		} else {
			d, err = p.opts.Limiter.AuthAllowed(ctx, key)
		}
		if err != nil {
			return false, 0, err
		}
		if !d.Allowed || failed && d.Remaining <= 0 {
			locked, retry = true, max(retry, d.RetryAfter(now))
		}
	}
	return locked, retry, nil
}

func (p *Pages) login(c echo.Context) error {
	ctx := c.Request().Context()
	binding := ""
	if ck, err := c.Cookie(p.prelog); err == nil {
		binding = ck.Value
	}
	if !p.srv.CheckCSRF(binding, c.FormValue("csrf")) {
		return p.message(c, http.StatusForbidden, "Sign-in refused", "invalid_request",
			"The form's security token is missing or does not match this browser. Go back to your app and start again.")
	}
	rid, email, password := c.FormValue("request"), c.FormValue("email"), c.FormValue("password")
	req, found, err := p.srv.Store().GetRequest(ctx, rid)
	if err != nil {
		return err
	}
	if !found {
		return p.message(c, http.StatusBadRequest, "This sign-in has expired", "invalid_request",
			"The sign-in took too long or was finished already. Go back to your app and connect again.")
	}
	again := view{Title: "Sign in", CSRF: p.srv.CSRFToken(binding), Request: rid, ClientName: req.ClientName, Email: email}
	locked, retry, err := p.loginLimited(ctx, c.RealIP(), email, false)
	if err != nil {
		return err
	}
	if locked {
		c.Response().Header().Set("Retry-After", itoa(retry))
		again.Error = "Too many failed sign-ins. Wait " + itoa(retry) + " seconds, then try again."
		return p.render(c, http.StatusTooManyRequests, "login", again)
	}
	u, ok, err := p.srv.Store().CheckPassword(ctx, email, password)
	if err != nil {
		return err
	}
	if !ok {
		if locked, retry, err = p.loginLimited(ctx, c.RealIP(), email, true); err != nil {
			return err
		}
		status := http.StatusUnauthorized
		again.Error = "The email or password is not right."
		if locked {
			status = http.StatusTooManyRequests
			c.Response().Header().Set("Retry-After", itoa(retry))
			again.Error += " Too many failed sign-ins: wait " + itoa(retry) + " seconds, then try again."
		}
		return p.render(c, status, "login", again)
	}
	session, err := p.startSession(c, u)
	if err != nil {
		return err
	}
	return p.proceed(c, rid, req, u, session)
}

// startSession signs the browser in with a new session id, so that an id planted before the
// login is worth nothing.
func (p *Pages) startSession(c echo.Context, u oauthserver.User) (string, error) {
	session, err := p.srv.Store().CreateSession(c.Request().Context(), u.ID, p.srv.SessionTTL())
	if err != nil {
		return "", err
	}
	c.SetCookie(p.cookie(p.session, session, p.srv.SessionTTL()))
	return session, nil
}

// consent takes the user's decision. Only a POST with the session's CSRF token decides: a GET
// (a link or an image someone planted) changes nothing.
func (p *Pages) consent(c echo.Context) error {
	if c.Request().Method != http.MethodPost {
		c.Response().Header().Set(echo.HeaderAllow, http.MethodPost)
		return p.message(c, http.StatusMethodNotAllowed, "Nothing was approved", "invalid_request",
			"Consent is given only with the Allow button of the consent page.")
	}
	ctx := c.Request().Context()
	u, session, ok, err := p.sessionUser(c)
	if err != nil {
		return err
	}
	if !ok {
		return p.message(c, http.StatusUnauthorized, "Signed out", "login_required", "Your sign-in has ended. Go back to your app and connect again.")
	}
	if !p.srv.CheckCSRF(session, c.FormValue("csrf")) {
		return p.message(c, http.StatusForbidden, "Nothing was approved", "invalid_request",
			"The form's security token is missing or does not match your sign-in. Go back to your app and connect again.")
	}
	rid := c.FormValue("request")
	req, found, err := p.srv.Store().GetRequest(ctx, rid)
	if err != nil {
		return err
	}
	if !found {
		return p.message(c, http.StatusBadRequest, "This request has expired", "invalid_request", "Go back to your app and connect again.")
	}
	scopes := oauthserver.GrantScopes(req, u)
	if c.FormValue("decision") != "approve" || len(scopes) == 0 {
		_ = p.srv.Store().DeleteRequest(ctx, rid)
		return c.Redirect(http.StatusSeeOther, p.redirect(req.RedirectURI, map[string]string{"error": "access_denied",
			"error_description": "The user denied the request.", "state": req.State}))
	}
	if err := p.srv.Store().RememberConsent(ctx, u.ID, req.ClientID, scopes, req.Resource); err != nil {
		return err
	}
	return p.approve(c, rid, req, u, scopes)
}

func (p *Pages) linkGet(c echo.Context) error {
	return p.render(c, http.StatusOK, "setpassword", view{Title: "Set password", CSRF: p.srv.CSRFToken(p.preLogin(c)), Token: c.QueryParam("token")})
}

func (p *Pages) linkPost(c echo.Context) error {
	ctx := c.Request().Context()
	binding := ""
	if ck, err := c.Cookie(p.prelog); err == nil {
		binding = ck.Value
	}
	if !p.srv.CheckCSRF(binding, c.FormValue("csrf")) {
		return p.message(c, http.StatusForbidden, "Refused", "invalid_request", "The form's security token is missing or does not match this browser. Open the link again.")
	}
	password := c.FormValue("password")
	if len(password) < oauthserver.MinPasswordLen {
		return p.render(c, http.StatusBadRequest, "setpassword", view{Title: "Set password", CSRF: c.FormValue("csrf"), Token: c.FormValue("token"),
			Error: "The password must have at least 12 characters."})
	}
	u, ok, err := p.srv.Store().UseLoginLink(ctx, c.FormValue("token"))
	if err != nil {
		return err
	}
	if !ok {
		return p.message(c, http.StatusBadRequest, "This link cannot be used", "invalid_grant", "The link was used already or has expired. Ask the administrator for a new one.")
	}
	if err := p.srv.Store().SetPassword(ctx, u.ID, password); err != nil {
		return err
	}
	return p.message(c, http.StatusOK, "Password set", "", "You can now connect Jarvis in ChatGPT, Claude or another app, and sign in as "+u.Email+".")
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
