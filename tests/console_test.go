package tests

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/gen/client"
	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/keys"
)

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// consoleClient speaks to the console as a browser would, keeping its cookies by hand: the
// server is plain http here while its public URL is https, so a cookie jar would not send
// the Secure cookies back.
type consoleClient struct {
	t       *testing.T
	base    string
	cookies map[string]string
}

func (c *consoleClient) do(method, path, contentType string, body io.Reader, header http.Header) (*http.Response, string) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, body)
	require.NoError(c.t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	for name, value := range c.cookies {
		req.AddCookie(&http.Cookie{Name: name, Value: value})
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, ck := range resp.Cookies() {
		if ck.MaxAge < 0 {
			delete(c.cookies, ck.Name)
		} else {
			c.cookies[ck.Name] = ck.Value
		}
	}
	return resp, string(b)
}

func (c *consoleClient) form(path string, v url.Values) (*http.Response, string) {
	return c.do(http.MethodPost, path, "application/x-www-form-urlencoded", strings.NewReader(v.Encode()), nil)
}

func csrfToken(t *testing.T, page string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(page)
	require.NotNil(t, m, "the page has a CSRF field")
	return m[1]
}

// The console's sign-in and forms refuse what they must, and its session cookie has the
// attributes that keep it to this host, out of scripts and off other sites' requests.
func TestConsoleSecurity(t *testing.T) {
	t.Parallel()
	s := startServer(t, env{"JARVIS_PUBLIC_URL": "https://jarvis.example.test"})
	_, adminToken := createKey(t, s, keys.NewKey{Name: "ops", Scopes: []string{services.ScopeAdmin}})
	_, readerToken := createKey(t, s, keys.NewKey{Name: "reader", Scopes: []string{services.ScopeActionsRead, services.ScopeJobs}})
	victim, _ := createKey(t, s, keys.NewKey{Name: "victim", Scopes: []string{services.ScopeJobs}})
	c := &consoleClient{t: t, base: s.URL, cookies: map[string]string{}}

	resp, page := c.do(http.MethodGet, "/console/login", "", nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	csp := resp.Header.Get("Content-Security-Policy")
	assert.Contains(t, csp, "frame-ancestors 'none'")
	assert.NotContains(t, csp, "unsafe-inline")
	assert.NotContains(t, csp, "http")
	assert.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"))
	require.Contains(t, c.cookies, "__Host-jarvis_login")
	loginToken := csrfToken(t, page)

	t.Run("sign-in needs its CSRF token", func(t *testing.T) {
		for _, tok := range []string{"", "forged", strings.Repeat("A", len(loginToken))} {
			resp, _ := c.form("/console/login", url.Values{"csrf": {tok}, "key": {adminToken}})
			assert.Equal(t, http.StatusForbidden, resp.StatusCode, "token %q", tok)
			assert.NotContains(t, c.cookies, "__Host-jarvis_console")
		}
	})

	t.Run("a key without admin cannot sign in", func(t *testing.T) {
		resp, page := c.form("/console/login", url.Values{"csrf": {loginToken}, "key": {readerToken}})
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		assert.Contains(t, page, "no admin scope")
		assert.NotContains(t, c.cookies, "__Host-jarvis_console")
		resp, _ = c.form("/console/login", url.Values{"csrf": {loginToken}, "key": {"jv_aaaaaaaaaaaa_AAAAAAAAAAAAAAAAAAAAAAAAAA"}})
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	})

	var csrf string
	t.Run("the session cookie", func(t *testing.T) {
		resp, _ := c.form("/console/login", url.Values{"csrf": {loginToken}, "key": {adminToken}, "next": {"https://evil.example/"}})
		require.Equal(t, http.StatusSeeOther, resp.StatusCode)
		assert.Equal(t, "/console/", resp.Header.Get("Location"), "a redirect after sign-in stays in the console")
		var session *http.Cookie
		for _, ck := range resp.Cookies() {
			if ck.Name == "__Host-jarvis_console" {
				session = ck
			}
		}
		require.NotNil(t, session, "a __Host- session cookie over https")
		assert.True(t, session.Secure)
		assert.True(t, session.HttpOnly)
		assert.Equal(t, http.SameSiteStrictMode, session.SameSite)
		assert.Equal(t, "/", session.Path)
		assert.Empty(t, session.Domain)
		assert.NotContains(t, session.Value, adminToken[len(keys.Prefix)+13:], "the key's secret is not in the cookie")

		resp, page := c.do(http.MethodGet, "/console/keys", "", nil, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
		csrf = csrfToken(t, page)
	})

	t.Run("every form refuses a post without its token", func(t *testing.T) {
		var upload bytes.Buffer
		mw := multipart.NewWriter(&upload)
		_ = mw.WriteField("tenant", "acme")
		_ = mw.WriteField("kind", "metrics")
		fw, _ := mw.CreateFormFile("file", "m.csv")
		_, _ = fw.Write([]byte("date,platform,streams\n2026-11-01,spotify,1\n"))
		_ = mw.Close()
		posts := []struct {
			path, contentType string
			body              func() io.Reader
		}{
			{"/console/keys", "application/x-www-form-urlencoded", func() io.Reader {
				return strings.NewReader(url.Values{"tenant": {"acme"}, "user": {"x"}, "scopes": {"admin"}}.Encode())
			}},
			{"/console/keys/" + victim.ID + "/revoke", "application/x-www-form-urlencoded", func() io.Reader { return strings.NewReader("") }},
			{"/console/data", mw.FormDataContentType(), func() io.Reader { return bytes.NewReader(upload.Bytes()) }},
			{"/console/logout", "application/x-www-form-urlencoded", func() io.Reader { return strings.NewReader("") }},
		}
		// The token with its last character changed: replacing it by a fixed one would leave a
		// token that already ends in it unchanged.
		last := "A"
		if strings.HasSuffix(csrf, "A") {
			last = "B"
		}
		wrong := csrf[:len(csrf)-1] + last
		for _, p := range posts {
			resp, page := c.do(http.MethodPost, p.path, p.contentType, p.body(), nil)
			assert.Equal(t, http.StatusForbidden, resp.StatusCode, "%s without a token", p.path)
			assert.Contains(t, page, "CSRF token")
			resp, _ = c.do(http.MethodPost, p.path+"?csrf="+url.QueryEscape(wrong), p.contentType, p.body(), nil)
			assert.Equal(t, http.StatusForbidden, resp.StatusCode, "%s with a wrong token", p.path)
		}
		// Nothing happened: no key was made, the victim still works, nothing was imported.
		list, err := keys.NewStore(openDB(t, s)).List(context.Background(), true)
		require.NoError(t, err)
		assert.Len(t, list, 3)
		for _, k := range list {
			assert.False(t, k.Revoked(), "key %s", k.ID)
		}
		// The session survived the refused logout.
		resp, _ := c.do(http.MethodGet, "/console/keys", "", nil, nil)
		assert.Equal(t, http.StatusOK, resp.StatusCode)

		// With the token, a form works.
		resp, _ = c.form("/console/keys/"+victim.ID+"/revoke", url.Values{"csrf": {csrf}})
		assert.Equal(t, http.StatusOK, resp.StatusCode)
	})

	t.Run("River's UI takes changes only from this origin", func(t *testing.T) {
		body := func() io.Reader { return strings.NewReader(`{"job_ids":["1"]}`) }
		resp, _ := c.do(http.MethodPost, "/console/jobs/api/jobs/cancel", "application/json", body(), nil)
		assert.Equal(t, http.StatusForbidden, resp.StatusCode, "no Origin")
		resp, _ = c.do(http.MethodPost, "/console/jobs/api/jobs/cancel", "application/json", body(),
			http.Header{"Origin": {"https://evil.example"}, "Sec-Fetch-Site": {"cross-site"}})
		assert.Equal(t, http.StatusForbidden, resp.StatusCode, "another origin")
		resp, _ = c.do(http.MethodPost, "/console/jobs/api/jobs/cancel", "application/json", body(),
			http.Header{"Origin": {"https://jarvis.example.test"}, "Sec-Fetch-Site": {"same-origin"}})
		assert.NotEqual(t, http.StatusForbidden, resp.StatusCode, "its own pages")
	})

	t.Run("a tampered or signed-out session is refused", func(t *testing.T) {
		good := c.cookies["__Host-jarvis_console"]
		c.cookies["__Host-jarvis_console"] = good[:len(good)-2] + "AA"
		resp, _ := c.do(http.MethodGet, "/console/keys", "", nil, nil)
		assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
		assert.True(t, strings.HasPrefix(resp.Header.Get("Location"), "/console/login"))
		c.cookies["__Host-jarvis_console"] = good

		resp, _ = c.form("/console/logout", url.Values{"csrf": {csrf}})
		assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
		c.cookies["__Host-jarvis_console"] = good // a copy kept from before the sign-out
		resp, _ = c.do(http.MethodGet, "/console/keys", "", nil, nil)
		assert.Equal(t, http.StatusSeeOther, resp.StatusCode, "a signed-out session stays out")
	})
}

// links.docs and /gpt-config.json point at the reference, which loads nothing from elsewhere.
func TestDocsLinks(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	resp, err := s.Client.GetIntegrationInfoWithResponse(context.Background())
	require.NoError(t, err)
	require.NotNil(t, resp.JSON200)
	require.NotNil(t, resp.JSON200.Links.Docs)
	assert.Equal(t, s.URL+"/docs", *resp.JSON200.Links.Docs)

	r, err := http.Get(s.URL + "/gpt-config.json")
	require.NoError(t, err)
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	assert.Contains(t, string(body), `"docsUrl": "`+s.URL+`/docs"`)

	r, err = http.Get(s.URL + "/docs")
	require.NoError(t, err)
	page, _ := io.ReadAll(r.Body)
	r.Body.Close()
	require.Equal(t, http.StatusOK, r.StatusCode)
	csp := r.Header.Get("Content-Security-Policy")
	assert.NotContains(t, csp, "unsafe-inline")
	assert.NotContains(t, csp, "http")
	assert.Contains(t, csp, "frame-ancestors 'none'")
	assert.NotRegexp(t, `(src|href)="(https?:)?//`, string(page), "every asset is served from this origin")
}

// signIn signs c in with an admin key.
func (c *consoleClient) signIn(token string) {
	c.t.Helper()
	_, page := c.do(http.MethodGet, "/console/login", "", nil, nil)
	resp, _ := c.form("/console/login", url.Values{"csrf": {csrfToken(c.t, page)}, "key": {token}})
	require.Equal(c.t, http.StatusSeeOther, resp.StatusCode)
}

// River's UI, mounted in the console, reads the queue on both databases, including the
// PostgreSQL one that River reaches through database/sql.
func TestConsoleJobsOnEachDatabase(t *testing.T) {
	t.Parallel()
	eachDatabase(t, nil, func(t *testing.T, s *server) {
		_, adminToken := createKey(t, s, keys.NewKey{Name: "ops", Scopes: []string{services.ScopeAdmin}})
		resp, err := s.Client.GenerateMusicWithResponse(context.Background(), nil,
			client.GenerateMusicRequest{Prompt: "a short calm piano sketch", Duration: ptr(5)}, withBearer(adminToken))
		require.NoError(t, err)
		require.NotNil(t, resp.JSON200, "status %d: %s", resp.StatusCode(), resp.Body)

		c := &consoleClient{t: t, base: s.URL, cookies: map[string]string{}}
		r, _ := c.do(http.MethodGet, "/console/jobs/api/jobs?state=completed&limit=20", "", nil, nil)
		assert.Equal(t, http.StatusSeeOther, r.StatusCode, "signed out, River's UI sends to the sign-in")
		c.signIn(adminToken)
		var body string
		require.Eventually(t, func() bool {
			r, body = c.do(http.MethodGet, "/console/jobs/api/jobs?state=completed&limit=20", "", nil, nil)
			return r.StatusCode == http.StatusOK && strings.Contains(body, `"kind":"jarvis.action"`)
		}, 10*time.Second, 100*time.Millisecond, "the job in River's list: %s", body)
		r, page := c.do(http.MethodGet, "/console/", "", nil, nil)
		require.Equal(t, http.StatusOK, r.StatusCode)
		assert.Regexp(t, `completed</text>\s*<rect[^>]*></rect>\s*<text[^>]*>1</text>`, page, "the overview counts the completed job")
	})
}
