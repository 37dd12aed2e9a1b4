package oauthpages_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/handlers/oauthpages"
	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/oauthserver"
	"github.com/aidawg/jarvis/services/ratelimit"
	"github.com/aidawg/jarvis/services/storage/storagetest"
)

// On https the pages' cookies are __Host- cookies: Secure, host-only, path /, HttpOnly; the
// pages forbid framing and load nothing from elsewhere.
func TestPagesOnHTTPS(t *testing.T) {
	t.Parallel()
	const issuer = "https://jarvis.example.com"
	db := storagetest.Open(t, storagetest.SQLiteURL(t))
	keys, err := oauthserver.LoadKeys(t.TempDir(), "", "")
	require.NoError(t, err)
	srv := oauthserver.New(oauthserver.Config{Issuer: issuer, Resources: []string{issuer}, AccessTTL: time.Hour, RefreshTTL: time.Hour,
		CodeTTL: time.Minute, SessionTTL: time.Hour, Registration: true}, db, keys)
	ctx := context.Background()
	_, err = srv.Store().CreateUser(ctx, "acme", "gina@example.com", "a long enough password", []string{"actions:read"})
	require.NoError(t, err)
	client, _, err := srv.CreateStaticClient(ctx, "App", []string{"https://app.example.com/cb"}, true, nil)
	require.NoError(t, err)
	limiter := ratelimit.NewMemory(ratelimit.Config{Rates: ratelimit.ResolveRates(nil), AuthFailures: services.Rate{Limit: 10, Period: time.Minute},
		OnStoreError: ratelimit.PolicyMemory}, zerolog.Nop())
	defer limiter.Close()
	e := echo.New()
	oauthpages.New(srv, oauthpages.Options{Limiter: limiter, RegistrationLimit: services.Rate{Limit: 5, Period: time.Hour}}).Register(e)

	q := url.Values{"client_id": {client.ID}, "redirect_uri": {"https://app.example.com/cb"}, "response_type": {"code"}, "state": {"s"},
		"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"}, "scope": {"actions:read"}}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/oauth/authorize?"+q.Encode(), nil))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	csp := rec.Header().Get("Content-Security-Policy")
	assert.Contains(t, csp, "frame-ancestors 'none'")
	assert.Contains(t, csp, "default-src 'none'")
	assert.NotContains(t, rec.Body.String(), "http://", "no external assets")
	assert.NotContains(t, strings.ReplaceAll(rec.Body.String(), issuer, ""), "https://", "no external assets")
	cookies := rec.Result().Cookies()
	require.Len(t, cookies, 1)
	c := cookies[0]
	assert.True(t, strings.HasPrefix(c.Name, "__Host-"), c.Name)
	assert.True(t, c.Secure)
	assert.True(t, c.HttpOnly)
	assert.Equal(t, "/", c.Path)
	assert.Empty(t, c.Domain)
	assert.Equal(t, http.SameSiteLaxMode, c.SameSite)

	// The login sets the session as a __Host- cookie too.
	page := rec.Body.String()
	field := func(name string) string {
		i := strings.Index(page, `name="`+name+`" value="`)
		require.GreaterOrEqual(t, i, 0, name)
		rest := page[i+len(`name="`+name+`" value="`):]
		return rest[:strings.Index(rest, `"`)]
	}
	form := url.Values{"csrf": {field("csrf")}, "request": {field("request")}, "email": {"gina@example.com"}, "password": {"a long enough password"}}
	req := httptest.NewRequest(http.MethodPost, "/oauth/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(c)
	rec = httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Contains(t, rec.Body.String(), "Allow App?")
	session := rec.Result().Cookies()
	require.Len(t, session, 1)
	assert.Equal(t, "__Host-jarvis-session", session[0].Name)
	assert.True(t, session[0].Secure)
}
