// Package console serves the operator console under /console: an overview of the traffic,
// API keys, usage, jobs (River's own UI), tenant data and settings. Pages are rendered on the
// server from the templates embedded here and need no script of their own; styles and the
// few assets come from /console/assets. Operators sign in with an admin API key, which is
// exchanged for a signed session cookie; every form carries a CSRF token bound to the session.
package console

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/riverqueue/river"
	"github.com/rs/zerolog"
	"riverqueue.com/riverui"

	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/jobs"
	"github.com/aidawg/jarvis/services/keys"
	"github.com/aidawg/jarvis/services/modules"
	"github.com/aidawg/jarvis/services/ratelimit"
	"github.com/aidawg/jarvis/services/tenantdata"
	"github.com/aidawg/jarvis/services/usage"
)

// Path is where the console is served.
const Path = "/console"

// CSP lets a console page load styles, images and scripts from this origin only, post forms
// only here, and be framed by nobody. River's UI, under /console/jobs, is a script bundle from
// the same origin and needs nothing more.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
	"connect-src 'self'; manifest-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// Setting is one effective configuration value, secrets already masked.
type Setting struct {
	Name, Value string
}

// Check is one dependency whose readiness the settings page shows.
type Check struct {
	Name  string
	Check func(context.Context) error
}

// Deps are what the console shows and changes.
type Deps struct {
	Keys    *keys.Store
	Usage   *usage.Meter
	Recent  *usage.Recent
	Jobs    *jobs.Service
	Data    *tenantdata.Store
	Router  *modules.Router
	Limiter *ratelimit.Limiter // counts failed sign-ins per address
	// Revoked is told of each key the console revokes, so that the API's key cache forgets it.
	Revoked  func(keyID string)
	Settings []Setting
	Ready    []Check
	Log      zerolog.Logger
}

// Options are how the console is served.
type Options struct {
	PublicURL  string        // https:// makes the cookies Secure and __Host- prefixed
	SessionKey []byte        // signs session cookies; at least 32 bytes
	SessionTTL time.Duration // how long a sign-in lasts
}

// Console is the operator console.
type Console struct {
	d        Deps
	sessions *sessions
	pages    map[string]*template.Template
	riverUI  *riverui.Handler
	origin   string
	// plainRefused is set when the public URL is plain http on a host other than loopback,
	// where signing in would send an admin key in clear.
	plainRefused bool
}

// New builds the console. Over plain http the console is served only when the public URL is a
// loopback address (development on one machine): elsewhere the admin key would cross the
// network in clear, and the session cookie could not be __Host- prefixed.
func New(d Deps, o Options) (*Console, error) {
	u, err := url.Parse(o.PublicURL)
	if err != nil {
		return nil, err
	}
	secure := u.Scheme == "https"
	if len(o.SessionKey) < 32 {
		return nil, errors.New("console: the session key must be at least 32 bytes")
	}
	if o.SessionTTL <= 0 {
		o.SessionTTL = 8 * time.Hour
	}
	host := u.Hostname()
	ip := net.ParseIP(host)
	loopback := host == "localhost" || ip != nil && ip.IsLoopback()
	c := &Console{d: d, origin: u.Scheme + "://" + u.Host, plainRefused: !secure && !loopback,
		sessions: &sessions{key: o.SessionKey, ttl: o.SessionTTL, secure: secure, now: time.Now, ended: map[string]time.Time{}}}
	if c.pages, err = parsePages(); err != nil {
		return nil, err
	}
	if d.Jobs != nil {
		if c.riverUI, err = newRiverUI(d.Jobs.River(), d.Log); err != nil {
			return nil, fmt.Errorf("console: River UI: %w", err)
		}
	}
	return c, nil
}

func newRiverUI(client *river.Client[*sql.Tx], log zerolog.Logger) (*riverui.Handler, error) {
	return riverui.NewHandler(&riverui.HandlerOpts{
		Endpoints: riverui.NewEndpoints(client, nil),
		Logger:    slog.New(zerolog.NewSlogHandler(log.Level(zerolog.WarnLevel))),
		Prefix:    Path + "/jobs",
	})
}

// Start starts River UI's background work (its cached counts) until ctx is done.
func (c *Console) Start(ctx context.Context) error {
	if c.riverUI == nil {
		return nil
	}
	return c.riverUI.Start(ctx)
}

// Register mounts the console's routes on e.
func (c *Console) Register(e *echo.Echo) {
	g := e.Group(Path, c.headers)
	assets, _ := fs.Sub(assetFS, "assets")
	g.GET("/assets/*", echo.WrapHandler(http.StripPrefix(Path+"/assets/", http.FileServer(http.FS(assets)))), cacheAssets)
	g.GET("/login", c.loginPage)
	g.POST("/login", c.login)
	g.GET("", func(ec echo.Context) error { return ec.Redirect(http.StatusSeeOther, Path+"/") })
	auth := g.Group("", c.requireSession)
	auth.POST("/logout", c.logout)
	auth.GET("/", c.overview)
	auth.GET("/keys", c.keysPage)
	auth.POST("/keys", c.createKey)
	auth.POST("/keys/:id/revoke", c.revokeKey)
	auth.GET("/usage", c.usagePage)
	auth.GET("/usage.csv", c.usageCSV)
	auth.GET("/data", c.dataPage)
	auth.POST("/data", c.upload)
	auth.GET("/settings", c.settingsPage)
	if c.riverUI != nil {
		jobsUI := echo.WrapHandler(c.riverUI)
		auth.Any("/jobs", jobsUI, c.sameOrigin)
		auth.Any("/jobs/*", jobsUI, c.sameOrigin)
	}
}

// headers replace the API's page-less CSP with the console's, and keep answers out of caches.
func (c *Console) headers(next echo.HandlerFunc) echo.HandlerFunc {
	return func(ec echo.Context) error {
		h := ec.Response().Header()
		h.Set(echo.HeaderContentSecurityPolicy, CSP)
		h.Set(echo.HeaderXFrameOptions, "DENY")
		if !strings.HasPrefix(ec.Request().URL.Path, Path+"/assets/") {
			h.Set(echo.HeaderCacheControl, "no-store")
		}
		return next(ec)
	}
}

func cacheAssets(next echo.HandlerFunc) echo.HandlerFunc {
	return func(ec echo.Context) error {
		ec.Response().Header().Set(echo.HeaderCacheControl, "public, max-age=3600")
		return next(ec)
	}
}

// operator is who is signed in, for the pages.
type operator struct {
	Session session
	Key     keys.Key
	CSRF    string
}

// requireSession lets through a request with a valid session whose key is still an admin
// key; a revoked key ends its sessions. A form post must carry the session's CSRF token.
func (c *Console) requireSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(ec echo.Context) error {
		r := ec.Request()
		sess, err := c.sessions.read(r)
		var k keys.Key
		if err == nil {
			k, err = c.d.Keys.Get(r.Context(), sess.KeyID)
		}
		if err == nil && (k.Revoked() || !slices.Contains(k.Scopes, services.ScopeAdmin)) {
			err = errNoSession
		}
		if err != nil {
			if se, ok := services.AsError(err); err != errNoSession && (!ok || se.Code != services.CodeNotFound) {
				return err
			}
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				return ec.Redirect(http.StatusSeeOther, Path+"/login?next="+url.QueryEscape(r.URL.RequestURI()))
			}
			return c.refuse(ec, http.StatusUnauthorized, "Your session has ended. Sign in again.")
		}
		op := &operator{Session: sess, Key: k, CSRF: c.sessions.csrf(sess)}
		if isForm(r) && !validToken(ec, op.CSRF) {
			return c.refuse(ec, http.StatusForbidden, "The form's CSRF token is missing or does not belong to this session. Reload the page and send the form again.")
		}
		ec.Set("operator", op)
		return next(ec)
	}
}

// isForm reports whether r is a form post, which must carry a CSRF token. River's UI sends
// JSON instead, which sameOrigin guards.
func isForm(r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodOptions {
		return false
	}
	return !strings.HasPrefix(r.URL.Path, Path+"/jobs")
}

func validToken(ec echo.Context, want string) bool {
	got := ec.FormValue("csrf")
	return got != "" && len(got) == len(want) && got == want
}

// sameOrigin refuses a state-changing request to River's UI that does not come from a page
// of this origin: the browser says where a request comes from in Origin and Sec-Fetch-Site,
// which no page of another site can forge. The cookie's SameSite=Strict is the first line.
func (c *Console) sameOrigin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(ec echo.Context) error {
		r := ec.Request()
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			return next(ec)
		}
		if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
			return c.refuse(ec, http.StatusForbidden, "Requests to the jobs console must come from its own pages.")
		}
		if o := r.Header.Get("Origin"); o != c.origin {
			return c.refuse(ec, http.StatusForbidden, "Requests to the jobs console must come from its own pages.")
		}
		return next(ec)
	}
}

func (c *Console) refuse(ec echo.Context, status int, message string) error {
	return c.render(ec, status, "error", map[string]any{"Title": http.StatusText(status), "Message": message})
}

func operatorOf(ec echo.Context) *operator {
	op, _ := ec.Get("operator").(*operator)
	return op
}
