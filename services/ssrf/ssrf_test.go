package ssrf

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckURL(t *testing.T) {
	g := New(nil, time.Second, 1024)
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"https://example.com/hook", true},
		{"http://93.184.216.34/x", true},
		{"ftp://example.com/x", false},
		{"file:///etc/passwd", false},
		{"https://user:pw@example.com/", false},
		{"http://127.0.0.1:8080/", false},
		{"http://localhost/", false},
		{"http://10.1.2.3/", false},
		{"http://172.16.0.1/", false},
		{"http://192.168.1.1/", false},
		{"http://169.254.169.254/latest/meta-data", false},
		{"http://100.64.0.1/", false},
		{"http://[::1]/", false},
		{"http://[fd00::1]/", false},
		{"http://[fe80::1]/", false},
		{"http://[::ffff:127.0.0.1]/", false},
		{"http://0.0.0.0/", false},
		{"/relative", false},
	} {
		_, err := g.CheckURL(tc.url)
		if tc.ok {
			assert.NoError(t, err, tc.url)
		} else {
			assert.ErrorIs(t, err, ErrForbidden, tc.url)
		}
	}
}

// A name is checked by the address it resolves to when the connection is made.
func TestClientRefusesLoopbackByName(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	g := New(nil, time.Second, 1024)
	_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	require.NoError(t, err)
	url := "http://localhost:" + port + "/"
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	_, err = g.Client().Do(req)
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrForbidden), "%v", err)
}

func TestAllowListAdmitsConfiguredTargets(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	defer srv.Close()
	allow, err := ParsePrefixes([]string{"127.0.0.0/8"})
	require.NoError(t, err)
	g := New(allow, time.Second, 1024)
	req, err := http.NewRequest(http.MethodGet, srv.URL, nil)
	require.NoError(t, err)
	resp, err := g.Do(context.Background(), req)
	require.NoError(t, err)
	body, err := g.ReadLimited(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, "ok", string(body))

	small := New(allow, time.Second, 1)
	resp, err = small.Do(context.Background(), req)
	require.NoError(t, err)
	_, err = small.ReadLimited(resp.Body)
	resp.Body.Close()
	assert.Error(t, err, "a body over the cap is refused")
}

func TestAllowlistedNamesOnlyConfiguredAddresses(t *testing.T) {
	allow, err := ParsePrefixes([]string{"127.0.0.0/8", "10.1.0.0/16"})
	require.NoError(t, err)
	g := New(allow, time.Second, 1024)
	for raw, want := range map[string]bool{
		"http://127.0.0.1:9000/hook":  true,
		"http://localhost:9000/hook":  true,
		"http://10.1.2.3/hook":        true,
		"http://10.2.0.1/hook":        false,
		"http://93.184.216.34/hook":   false,
		"http://receiver.local/hook":  false, // names are not resolved
		"http://[::ffff:10.1.0.5]/hk": true,
	} {
		u, err := url.Parse(raw)
		require.NoError(t, err)
		assert.Equal(t, want, g.Allowlisted(u), raw)
	}
}

func TestParsePrefixes(t *testing.T) {
	p, err := ParsePrefixes([]string{"10.0.0.0/8", "127.0.0.1", ""})
	require.NoError(t, err)
	assert.Equal(t, []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.1/32")}, p)
	_, err = ParsePrefixes([]string{"nope"})
	assert.Error(t, err)
}
