package console

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Signing in over plain http is allowed on loopback only, where the key does not cross a
// network; https always.
func TestSignInNeedsHTTPSOffLoopback(t *testing.T) {
	key := []byte(strings.Repeat("k", 32))
	for url, want := range map[string]int{
		"http://127.0.0.1:4000":      http.StatusOK,
		"http://localhost:4000":      http.StatusOK,
		"http://[::1]:4000":          http.StatusOK,
		"https://jarvis.example.com": http.StatusOK,
		"http://jarvis.example.com":  http.StatusForbidden,
		"http://10.0.0.5:4000":       http.StatusForbidden,
	} {
		c, err := New(Deps{}, Options{PublicURL: url, SessionKey: key})
		require.NoError(t, err)
		e := echo.New()
		c.Register(e)
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/console/login", nil))
		assert.Equal(t, want, rec.Code, url)
	}
}

func TestSessionCookie(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	s := &sessions{key: []byte(strings.Repeat("k", 32)), ttl: time.Hour, secure: true, now: func() time.Time { return now }, ended: map[string]time.Time{}}
	ck, sess := s.issue("abcdefghijkl")
	assert.Equal(t, "__Host-jarvis_console", ck.Name)
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.AddCookie(ck)
	got, err := s.read(req)
	require.NoError(t, err)
	assert.Equal(t, sess, got)

	// Another key's id in a valid cookie's place fails the MAC.
	forged := *ck
	forged.Value = strings.Replace(ck.Value, "abcdefghijkl", "mnopqrstuvwx", 1)
	req = httptest.NewRequest(http.MethodGet, "/", nil)
	req.AddCookie(&forged)
	_, err = s.read(req)
	assert.ErrorIs(t, err, errNoSession)

	// Expired, and ended.
	req = httptest.NewRequest(http.MethodGet, "/", nil)
	req.AddCookie(ck)
	now = now.Add(time.Hour + time.Second)
	_, err = s.read(req)
	assert.ErrorIs(t, err, errNoSession)
	now = now.Add(-time.Minute * 30)
	s.end(sess)
	_, err = s.read(req)
	assert.ErrorIs(t, err, errNoSession)

	// The CSRF token is bound to the session.
	_, other := s.issue("abcdefghijkl")
	assert.NotEqual(t, s.csrf(sess), s.csrf(other))
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/console/keys":           "/console/keys",
		"/console/usage?from=x":   "/console/usage?from=x",
		"https://evil.example/":   "/console/",
		"//evil.example/console/": "/console/",
		"/console/\\evil":         "/console/",
		"/docs":                   "/console/",
	} {
		assert.Equal(t, want, safeNext(in), in)
	}
}
