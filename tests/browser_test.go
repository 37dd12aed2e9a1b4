package tests

import (
	"context"
	_ "embed"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/gen/client"
	"github.com/aidawg/jarvis/openapi"
	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/keys"
	"github.com/aidawg/jarvis/services/tenantdata"
)

// axeSource is axe-core, pinned in tools/web and copied here by make web-assets.
//
//go:embed testdata/axe.min.js
var axeSource string

// chromium finds the browser, or skips (fails when services are required, as in CI, which
// installs it).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("JARVIS_TEST_REQUIRE_SERVICES") == "1" {
		t.Fatal("chromium is not installed and JARVIS_TEST_REQUIRE_SERVICES=1: apt-get install chromium")
	}
	t.Skip("chromium is not installed (apt-get install chromium); the browser tests need it")
	return ""
}

// screenshotDir is where the browser tests leave their screenshots: JARVIS_TEST_SCREENSHOTS,
// or tests/screenshots (ignored by git).
func screenshotDir(t *testing.T) string {
	dir := os.Getenv("JARVIS_TEST_SCREENSHOTS")
	if dir == "" {
		dir = "screenshots"
	}
	dir, err := filepath.Abs(dir)
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(dir, 0o755))
	t.Logf("screenshots in %s", dir)
	return dir
}

// browser is one headless Chromium tab, and what it saw go wrong: failed requests, console
// errors (CSP refusals among them), uncaught exceptions and requests to any other origin.
type browser struct {
	ctx    context.Context
	origin string
	shots  string
	mu     sync.Mutex
	faults []string
	// refusedStyles counts the style elements River's UI adds, which the console's CSP refuses
	// (it has no 'unsafe-inline'); the UI works without them, as its screenshot shows.
	refusedStyles int
}

// riverUIStyle tells the CSP refusal of a style element that River's UI script adds.
func riverUIStyle(e *log.Entry) bool {
	u, err := url.Parse(e.URL)
	return err == nil && strings.HasPrefix(u.Path, "/console/jobs/assets/") &&
		strings.HasPrefix(e.Text, "Applying inline style violates the following Content Security Policy directive 'style-src 'self''")
}

func newBrowser(t *testing.T, origin string) *browser {
	t.Helper()
	exe := chromium(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	b := &browser{ctx: ctx, origin: origin, shots: screenshotDir(t)}
	require.NoError(t, chromedp.Do(ctx), "start chromium")
	require.NoError(t, chromedp.Listen(ctx, b.observe))
	_, err := chromedp.Call(ctx, network.Enable, network.EnableParams{})
	require.NoError(t, err)
	_, err = chromedp.Call(ctx, log.Enable, cdp.Empty{})
	require.NoError(t, err)
	_, err = chromedp.Call(ctx, runtime.Enable, cdp.Empty{})
	require.NoError(t, err)
	return b
}

func (b *browser) observe(ev any) {
	switch e := ev.(type) {
	case *network.EventRequestWillBeSent:
		if u, err := url.Parse(e.Request.URL); err == nil && u.Scheme != "data" && u.Scheme+"://"+u.Host != b.origin {
			b.fault("request to another origin: %s", e.Request.URL)
		}
	case *network.EventLoadingFailed:
		if !e.Canceled {
			b.fault("request failed: %s %s", e.ErrorText, e.BlockedReason)
		}
	case *network.EventResponseReceived:
		if e.Response.Status >= 400 && !expected(e.Response.URL) {
			b.fault("%s answered %d", e.Response.URL, e.Response.Status)
		}
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError {
			var parts []string
			for _, a := range e.Args {
				parts = append(parts, string(a.Value)+a.Description)
			}
			b.fault("console error: %s", strings.Join(parts, " "))
		}
	case *runtime.EventExceptionThrown:
		b.fault("uncaught exception: %s", e.ExceptionDetails.Text)
	case *log.EventEntryAdded:
		if riverUIStyle(e.Entry) {
			b.mu.Lock()
			b.refusedStyles++
			b.mu.Unlock()
			return
		}
		if e.Entry.Level == log.EntryLevelError && !expected(e.Entry.URL) {
			b.fault("browser log: %s %s", e.Entry.Text, e.Entry.URL)
		}
	}
}

// expectedStatus lists answers that a test provokes on purpose (a refused sign-in, a file
// with a bad row), which are not faults.
var expectedStatus = []string{"/console/login", "/console/data"}

func expected(u string) bool {
	p, err := url.Parse(u)
	return err == nil && slices.Contains(expectedStatus, p.Path)
}

func (b *browser) fault(format string, args ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.faults = append(b.faults, fmt.Sprintf(format, args...))
}

// takeFaults returns what went wrong since the last call.
func (b *browser) takeFaults() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	f := b.faults
	b.faults = nil
	return f
}

// do runs steps, each call within a minute.
func (b *browser) do(t *testing.T, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	require.NoError(t, chromedp.Do(ctx, steps...))
}

func get[T any](t *testing.T, b *browser, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	require.NoError(t, err)
	return v
}

func (b *browser) text(t *testing.T, sel string) string {
	t.Helper()
	return get(t, b, chromedp.Text(chromedp.CSS(sel)))
}

func (b *browser) cookies(t *testing.T) []*network.Cookie {
	t.Helper()
	res, err := chromedp.Call(b.ctx, network.GetCookies, network.GetCookiesParams{})
	require.NoError(t, err)
	return res.Cookies
}

type axeResult struct {
	Violations []struct {
		ID     string `json:"id"`
		Impact string `json:"impact"`
		Help   string `json:"help"`
		Nodes  []struct {
			Target []any `json:"target"`
		} `json:"nodes"`
	} `json:"violations"`
}

// check takes the page's screenshot, runs axe-core on it and fails on any serious or
// critical violation, and on any fault seen since the last check.
func (b *browser) check(t *testing.T, name string) { b.checkPart(t, name, "document", true) }

// checkPart is check over the part of the page that scope (a JavaScript expression) names,
// with a screenshot of the whole page or of the window only (a long page takes seconds).
func (b *browser) checkPart(t *testing.T, name, scope string, full bool) {
	t.Helper()
	shot := chromedp.CaptureScreenshot()
	if full {
		shot = chromedp.FullScreenshot(100)
	}
	png := get(t, b, shot)
	require.NoError(t, os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644))

	if !get(t, b, chromedp.Evaluate[bool](`typeof axe !== "undefined"`)) {
		get(t, b, chromedp.Evaluate[bool](axeSource+";true"))
	}
	res := get(t, b, chromedp.Evaluate[axeResult](`axe.run(`+scope+`, {resultTypes: ["violations"]})`, chromedp.EvalAwaitPromise))
	for _, v := range res.Violations {
		if v.Impact == "serious" || v.Impact == "critical" {
			var where []string
			for _, n := range v.Nodes {
				where = append(where, fmt.Sprint(n.Target...))
			}
			if len(where) > 40 {
				where = append(where[:40], fmt.Sprintf("and %d more", len(where)-40))
			}
			t.Errorf("%s: axe %s violation %s (%s) at %s", name, v.Impact, v.ID, v.Help, strings.Join(where, "; "))
		}
	}
	assert.Empty(t, b.takeFaults(), "%s: the browser saw faults", name)
}

// TestBrowser drives the docs page and the console in one headless Chromium.
func TestBrowser(t *testing.T) {
	t.Parallel()
	chromium(t)
	s := startServer(t, env{"JARVIS_KEY_CACHE_TTL": "30s"})
	admin, adminToken := createKey(t, s, keys.NewKey{Name: "operator", Tenant: "acme", User: "ops", Scopes: []string{services.ScopeAdmin}})
	_, readerToken := createKey(t, s, keys.NewKey{Name: "reader", Tenant: "acme", User: "gpt", Scopes: []string{services.ScopeActionsRead, services.ScopeJobs}})
	b := newBrowser(t, s.URL)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	id := func(s string) chromedp.ID { return chromedp.ID(s) }

	t.Run("docs", func(t *testing.T) {
		spec, err := openapi.Load()
		require.NoError(t, err)
		b.do(t, chromedp.Navigate(s.URL+"/docs"), chromedp.WaitVisible(css(".opblock")))
		ids := get(t, b, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll(".opblock")).map(e => e.id)`))
		for _, o := range spec.Operations {
			assert.Contains(t, ids, "operations-"+o.Module+"-"+o.ID, "the reference shows %s", o.ID)
		}
		assert.Len(t, ids, len(spec.Operations))
		// The auth schemes and the problem format are there.
		b.do(t, chromedp.Click(css(".auth-wrapper .authorize")), chromedp.WaitVisible(css(".modal-ux")))
		modal := b.text(t, ".modal-ux")
		for _, scheme := range []string{"bearerAuth", "apiKeyAuth", "appKeyAuth", "oauth2"} {
			assert.Contains(t, modal, scheme)
		}
		b.do(t, chromedp.Click(css(".modal-ux .close-modal")), chromedp.WaitNotPresent(css(".modal-ux")))
		// An operation's example is shown, and its problems with their media type.
		op := "#operations-integration-getIntegrationInfo"
		b.do(t, chromedp.Click(css(op+" .opblock-summary-control")), chromedp.WaitVisible(css(op+" .example")))
		assert.Contains(t, b.text(t, op+" .example"), "links")
		responses := b.text(t, op+" .responses-wrapper")
		assert.Contains(t, responses, "application/problem+json")
		assert.Contains(t, responses, `"detail"`)
		get(t, b, chromedp.Evaluate[bool](`window.scrollTo(0, 0), true`))
		b.checkPart(t, "docs", "document", false)
	})

	t.Run("docs try it", func(t *testing.T) {
		// Authorize with an API key through the dialog, then call listJobs for real.
		b.do(t, chromedp.Click(css(".auth-wrapper .authorize")), chromedp.WaitVisible(css(".modal-ux")))
		container := `Array.from(document.querySelectorAll(".modal-ux .auth-container")).find(c => c.textContent.includes("apiKeyAuth"))`
		b.do(t, chromedp.SendKeys(chromedp.JSPath(container+`.querySelector("input")`), readerToken),
			chromedp.Click(chromedp.JSPath(container+`.querySelector("button.authorize")`)),
			chromedp.Click(css(".modal-ux .btn-done")), chromedp.WaitNotPresent(css(".modal-ux")))
		op := "#operations-jobs-listJobs"
		b.do(t, chromedp.Click(css(op+" .opblock-summary-control")),
			chromedp.Click(css(op+" .try-out__btn")),
			chromedp.Click(css(op+" .execute")),
			chromedp.WaitVisible(css(op+" .live-responses-table tbody .response-col_status")))
		assert.Equal(t, "200", strings.TrimSpace(b.text(t, op+" .live-responses-table tbody .response-col_status")))
		assert.Contains(t, b.text(t, op+" .live-responses-table tbody .response-col_description"), `"jobs"`)
		// The server saw the call, made with the key.
		readerID, _, _ := keys.Parse(readerToken)
		require.Eventually(t, func() bool {
			logs := s.Logs.String()
			return strings.Contains(logs, `"operation":"listJobs","status":200`) && strings.Contains(logs, `"keyId":"`+readerID+`"`)
		}, 5*time.Second, 50*time.Millisecond)
		b.do(t, chromedp.ScrollIntoView(css(op+" .live-responses-table")))
		// The page was checked whole before; what changed is this operation.
		b.checkPart(t, "docs-try-it", `document.querySelector("`+op+`")`, false)
	})

	t.Run("sign-in refuses a key without admin", func(t *testing.T) {
		b.do(t, chromedp.Navigate(s.URL+"/console/"), chromedp.WaitVisible(id("key")),
			chromedp.SendKeys(id("key"), readerToken), chromedp.Submit(id("key")),
			chromedp.WaitVisible(id("login-error")))
		assert.Contains(t, b.text(t, "#login-error"), "no admin scope")
		for _, c := range b.cookies(t) {
			assert.NotEqual(t, "jarvis_console", c.Name, "no session for a key without admin")
		}
		b.check(t, "console-login-refused")
	})

	t.Run("sign-in", func(t *testing.T) {
		b.do(t, chromedp.Navigate(s.URL+"/console/login"), chromedp.WaitVisible(id("key")), chromedp.SendKeys(id("key"), adminToken),
			chromedp.Submit(id("key")), chromedp.WaitVisible(css("section[aria-labelledby=traffic]")))
		var session *network.Cookie
		for _, c := range b.cookies(t) {
			if c.Name == "jarvis_console" {
				session = c
			}
		}
		require.NotNil(t, session, "a session cookie")
		assert.True(t, session.HTTPOnly)
		assert.Equal(t, network.CookieSameSiteStrict, session.SameSite)
		assert.Equal(t, "/", session.Path)
		assert.False(t, session.Secure, "plain http on loopback: no Secure, so no __Host- prefix either")
		assert.Contains(t, b.text(t, "header"), admin.ID)
		b.check(t, "console-overview")
	})

	var created string
	t.Run("keys: the secret is shown once", func(t *testing.T) {
		b.do(t, chromedp.Navigate(s.URL+"/console/keys"), chromedp.WaitVisible(id("tenant")),
			chromedp.SendKeys(id("name"), "browser test"), chromedp.SendKeys(id("tenant"), "acme"),
			chromedp.SendKeys(id("user"), "tester"),
			chromedp.Click(css(`input[name=scopes][value="jobs"]`)),
			chromedp.SendKeys(id("limits"), "jobs.read=5/1h"),
			chromedp.Submit(id("tenant")), chromedp.WaitVisible(id("secret")))
		created = get(t, b, chromedp.Value(id("secret")))
		keyID, secret, ok := keys.Parse(created)
		require.True(t, ok, "a whole key: %q", created)
		b.check(t, "console-key-created")

		// The key works on the API, with its own limit.
		resp, err := s.Client.ListJobsWithResponse(context.Background(), nil, withBearer(created))
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode(), "%s", resp.Body)
		assert.Equal(t, "5", resp.HTTPResponse.Header.Get("X-RateLimit-Limit"))

		// Shown once: the list names the key, but no page holds its secret again.
		b.do(t, chromedp.Navigate(s.URL+"/console/keys"), chromedp.WaitVisible(css("table")))
		html := get(t, b, chromedp.OuterHTML(css("html")))
		assert.Contains(t, html, keyID)
		assert.NotContains(t, html, secret)
		assert.Contains(t, b.text(t, "table"), "jobs.read=5")
		b.check(t, "console-keys")
	})

	t.Run("keys: revocation stops the key", func(t *testing.T) {
		keyID, _, ok := keys.Parse(created)
		require.True(t, ok)
		b.do(t, chromedp.Click(css(`button[aria-label="Revoke key `+keyID+`"]`)), chromedp.WaitVisible(css(".notice")))
		assert.Contains(t, b.text(t, ".notice"), keyID+" is revoked")
		resp, err := s.Client.ListJobsWithResponse(context.Background(), nil, withBearer(created))
		require.NoError(t, err)
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode(), "a revoked key is refused at once: the cache forgot it")
		b.check(t, "console-key-revoked")
	})

	t.Run("usage", func(t *testing.T) {
		b.do(t, chromedp.Navigate(s.URL+"/console/usage"), chromedp.WaitVisible(css("table")))
		assert.Contains(t, b.text(t, "table"), "listJobs")
		b.check(t, "console-usage")
	})

	t.Run("data: a file with one bad row imports nothing", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "streams.csv")
		require.NoError(t, os.WriteFile(file, []byte("date,platform,streams\n2026-11-01,spotify,100\n2026-11-02,spotify,not-a-number\n2026-11-03,spotify,120\n"), 0o644))
		b.do(t, chromedp.Navigate(s.URL+"/console/data?tenant=acme"), chromedp.WaitVisible(id("file")),
			chromedp.SetValue(id("kind"), "metrics"),
			chromedp.SetUploadFiles(id("file"), []string{file}),
			chromedp.Submit(id("file")), chromedp.WaitVisible(id("report")))
		report := b.text(t, "#report")
		assert.Contains(t, report, "3 rows read, 0 inserted, 0 updated, 0 unchanged, 1 rejected")
		assert.Contains(t, report, "streams")
		assert.Contains(t, b.text(t, "#upload-error"), "nothing was imported")
		cov, err := tenantdata.NewStore(openDB(t, s)).Coverage(context.Background(), "acme")
		require.NoError(t, err)
		assert.Zero(t, cov.Rows(), "nothing was imported")
		b.check(t, "console-data")
	})

	t.Run("settings", func(t *testing.T) {
		b.do(t, chromedp.Navigate(s.URL+"/console/settings"), chromedp.WaitVisible(id("ready")))
		assert.Contains(t, b.text(t, "main"), "database")
		b.check(t, "console-settings")
	})

	t.Run("jobs: River's UI shows a real job", func(t *testing.T) {
		resp, err := s.Client.GenerateMusicWithResponse(context.Background(), nil,
			client.GenerateMusicRequest{Prompt: "a short calm piano sketch", Duration: ptr(5)}, withBearer(adminToken))
		require.NoError(t, err)
		require.NotNil(t, resp.JSON200, "status %d: %s", resp.StatusCode(), resp.Body)
		b.do(t, chromedp.Navigate(s.URL+"/console/jobs/jobs?state=completed"),
			chromedp.WaitVisible(chromedp.Search(`//*[contains(text(), "jarvis.action")]`)))
		b.check(t, "console-jobs")
	})

	t.Run("overview counts the calls", func(t *testing.T) {
		b.do(t, chromedp.Navigate(s.URL+"/console/"), chromedp.WaitVisible(css("section[aria-labelledby=traffic]")))
		traffic := b.text(t, "section[aria-labelledby=traffic]")
		assert.Contains(t, traffic, "listJobs")
		assert.Contains(t, traffic, "generateMusic")
		b.check(t, "console-overview-traffic")
	})

	t.Run("sign out", func(t *testing.T) {
		b.do(t, chromedp.Click(css(".logout button")), chromedp.WaitVisible(id("key")),
			chromedp.Navigate(s.URL+"/console/keys"), chromedp.WaitVisible(id("key")))
		b.check(t, "console-signed-out")
	})
}

func withBearer(token string) client.RequestEditorFn {
	return func(_ context.Context, r *http.Request) error {
		r.Header.Set("Authorization", "Bearer "+token)
		return nil
	}
}
