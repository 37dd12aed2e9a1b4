package tests

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/keys"
	"github.com/aidawg/jarvis/services/storage"
)

const (
	info      = "/integrations/chatgpt/"
	usagePath = "/integrations/chatgpt/admin/usage"
	sentiment = "/integrations/chatgpt/actions/engagement/sentiment"
	jobsPath  = "/integrations/chatgpt/jobs"

	bootstrapToken = "bootstrap-token-for-tests-0123456789abcdef"
	appKey         = "app-key-for-tests-0123456789abcdef-XYZ"
)

// production is the settings of a server with real authentication.
func production(extra env) env {
	e := env{"JARVIS_ENV": "production", "JARVIS_AUTH_TOKEN": bootstrapToken, "JARVIS_CHATGPT_APP_KEY": appKey}
	for k, v := range extra {
		e[k] = v
	}
	return e
}

var dbs sync.Map // database URL -> *storage.DB, opened once per server

// createKey makes an API key in the server's database and returns the whole key.
func createKey(t *testing.T, s *server, n keys.NewKey) (keys.Key, string) {
	t.Helper()
	if n.Tenant == "" {
		n.Tenant = "acme"
	}
	if n.User == "" {
		n.User = "gpt"
	}
	db := openDB(t, s)
	k, token, err := keys.NewStore(db).Create(context.Background(), n)
	require.NoError(t, err)
	return k, token
}

func openDB(t *testing.T, s *server) *storage.DB {
	t.Helper()
	if db, ok := dbs.Load(s.DatabaseURL); ok {
		return db.(*storage.DB)
	}
	db, err := storage.Open(context.Background(), s.DatabaseURL, t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { dbs.Delete(s.DatabaseURL); db.Close() })
	dbs.Store(s.DatabaseURL, db)
	return db
}

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

// logLine finds the access-log line of the request with id.
func logLine(t *testing.T, s *server, id string) map[string]any {
	t.Helper()
	for _, l := range strings.Split(s.Logs.String(), "\n") {
		if strings.Contains(l, `"requestId":"`+id+`"`) && strings.Contains(l, `"message":"request"`) {
			var m map[string]any
			require.NoError(t, json.Unmarshal([]byte(l), &m))
			return m
		}
	}
	t.Fatalf("no access-log line for %s", id)
	return nil
}

func TestEachAuthMethodIsAccepted(t *testing.T) {
	t.Parallel()
	s := startServer(t, production(nil))
	k, key := createKey(t, s, keys.NewKey{Scopes: []string{"actions:read", "jobs"}})
	cases := []struct {
		name   string
		h      http.Header
		method string
		user   string
	}{
		{"API key as bearer", hdr("Authorization", "Bearer "+key), "apiKey", "gpt"},
		{"API key as bearer, scheme in lower case", hdr("Authorization", "bearer "+key), "apiKey", "gpt"},
		{"API key in X-API-Key", hdr("X-API-Key", key), "apiKey", "gpt"},
		{"app key", hdr("X-ChatGPT-App-Key", appKey), "appKey", "chatgpt-app"},
		{"bootstrap token as bearer", hdr("Authorization", "Bearer "+bootstrapToken), "bootstrap", "bootstrap"},
		{"bootstrap token in X-API-Key", hdr("X-API-Key", bootstrapToken), "bootstrap", "bootstrap"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.h.Set("Openai-Conversation-Id", "conv-123")
			tc.h.Set("Openai-Ephemeral-User-Id", "eph-456")
			resp, p, raw := sendWith(t, s, http.MethodGet, info, tc.h, "")
			require.Equal(t, http.StatusOK, resp.StatusCode, "%+v", p)
			var body struct {
				AuthMethods []string `json:"authMethods"`
			}
			require.NoError(t, json.Unmarshal(raw, &body))
			assert.ElementsMatch(t, []string{"bearer", "apiKey", "appKey"}, body.AuthMethods)
			line := logLine(t, s, resp.Header.Get("X-Request-ID"))
			assert.Equal(t, tc.method, line["authMethod"])
			assert.Equal(t, tc.user, line["user"])
			assert.Equal(t, "conv-123", line["conversationIdHint"])
			assert.Equal(t, "eph-456", line["ephemeralUserIdHint"])
			if tc.method == "apiKey" {
				assert.Equal(t, k.ID, line["keyId"])
				assert.Equal(t, "acme", line["tenant"])
			}
		})
	}
}

func TestWrongCredentialsAreRejected(t *testing.T) {
	t.Parallel()
	s := startServer(t, production(env{"JARVIS_KEY_CACHE_TTL": "0"}))
	k, key := createKey(t, s, keys.NewKey{Scopes: []string{"actions:read"}})
	_, revokedKey := createKey(t, s, keys.NewKey{Scopes: []string{"actions:read"}})
	revokedID, _, _ := keys.Parse(revokedKey)
	_, err := keys.NewStore(openDB(t, s)).Revoke(context.Background(), revokedID)
	require.NoError(t, err)
	id, secret, _ := keys.Parse(key)
	wrongSecret := keys.Prefix + id + "_" + strings.Repeat("A", len(secret))
	unknownID := keys.Prefix + "aaaaaaaaaaaa_" + secret

	cases := []struct {
		name string
		h    http.Header
	}{
		{"no credentials", hdr()},
		{"basic scheme", hdr("Authorization", "Basic "+key)},
		{"bearer without a token", hdr("Authorization", "Bearer ")},
		{"token without a scheme", hdr("Authorization", key)},
		{"wrong secret", hdr("Authorization", "Bearer "+wrongSecret)},
		{"unknown key id", hdr("X-API-Key", unknownID)},
		{"malformed key", hdr("X-API-Key", keys.Prefix+"short")},
		{"key with a character added", hdr("X-API-Key", key+"A")},
		{"revoked key", hdr("Authorization", "Bearer "+revokedKey)},
		{"wrong app key", hdr("X-ChatGPT-App-Key", appKey+"x")},
		{"app key as a bearer token", hdr("Authorization", "Bearer "+appKey)},
		{"bootstrap token as the app key", hdr("X-ChatGPT-App-Key", bootstrapToken)},
		{"two credentials", hdr("Authorization", "Bearer "+key, "X-API-Key", key)},
		{"random bearer", hdr("Authorization", "Bearer not-a-key")},
		{"JWT while OAuth is off", hdr("Authorization", "Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, p, raw := sendWith(t, s, http.MethodGet, info, tc.h, "")
			require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "%s", raw)
			assert.Equal(t, "unauthorized", p.Code)
			assert.True(t, strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), `Bearer realm="jarvis"`), resp.Header.Get("WWW-Authenticate"))
			assert.NotEmpty(t, resp.Header.Get("X-RateLimit-Limit"))
			for _, secret := range []string{key, secret, appKey, bootstrapToken} {
				assert.NotContains(t, string(raw), secret)
			}
		})
	}
	// The key itself still works: the failures above were the forms, not the key.
	resp, p, _ := sendWith(t, s, http.MethodGet, info, hdr("X-API-Key", key), "")
	assert.Equal(t, http.StatusOK, resp.StatusCode, "%+v", p)
	assert.NotEmpty(t, k.ID)

	// The contract (which the GPT builder imports without credentials), health and readiness
	// stay public.
	for _, path := range []string{"/openapi.yaml", "/integrations/chatgpt/openapi.json", "/health", "/ready"} {
		resp, _, _ := sendWith(t, s, http.MethodGet, path, nil, "")
		assert.Equal(t, http.StatusOK, resp.StatusCode, path)
	}

	t.Run("app key on a server without one", func(t *testing.T) {
		s := startServer(t, env{"JARVIS_ENV": "production"})
		resp, p, _ := sendWith(t, s, http.MethodGet, info, hdr("X-ChatGPT-App-Key", appKey), "")
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		assert.Contains(t, p.Detail, "does not accept X-ChatGPT-App-Key")
	})
}

func TestDevelopmentBypassOnlyOnLoopbackInDevelopment(t *testing.T) {
	t.Parallel()
	dev := startServer(t, nil)
	resp, p, raw := sendWith(t, dev, http.MethodGet, info, nil, "")
	require.Equal(t, http.StatusOK, resp.StatusCode, "%+v", p)
	assert.Contains(t, string(raw), `"development"`)
	assert.Equal(t, "development", logLine(t, dev, resp.Header.Get("X-Request-ID"))["authMethod"])
	assert.Contains(t, dev.Logs.String(), `"level":"warn","message":"development mode on a loopback listener`)
	// Credentials that are sent are checked even so.
	resp, _, _ = sendWith(t, dev, http.MethodGet, info, hdr("X-API-Key", "jv_aaaaaaaaaaaa_AAAAAAAAAAAAAAAAAAAAAAAAAA"), "")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	// The configured listener decides, so a development server reachable from elsewhere
	// requires credentials.
	public := startServer(t, env{"JARVIS_ADDR": "0.0.0.0:4000"})
	resp, _, _ = sendWith(t, public, http.MethodGet, info, nil, "")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	// Through a proxy on this machine, the client is the one it names: a request forwarded
	// for another machine needs credentials.
	proxied := startServer(t, env{"JARVIS_TRUSTED_PROXIES": "127.0.0.1"})
	resp, p, _ = sendWith(t, proxied, http.MethodGet, usagePath, hdr("X-Forwarded-For", "203.0.113.50"), "")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "%+v", p)
	resp, p, _ = sendWith(t, proxied, http.MethodGet, usagePath, hdr("X-Forwarded-For", "127.0.0.1"), "")
	assert.Equal(t, http.StatusOK, resp.StatusCode, "%+v", p)
	resp, p, _ = sendWith(t, proxied, http.MethodGet, usagePath, nil, "")
	assert.Equal(t, http.StatusOK, resp.StatusCode, "%+v", p)

	prod := startServer(t, production(nil))
	resp, _, _ = sendWith(t, prod, http.MethodGet, info, nil, "")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.NotContains(t, prod.Logs.String(), "development mode on a loopback listener")
}

func TestScopesDecideWhatACallerMayCall(t *testing.T) {
	t.Parallel()
	s := startServer(t, production(nil))
	_, reader := createKey(t, s, keys.NewKey{User: "reader", Scopes: []string{"actions:read"}})
	_, writer := createKey(t, s, keys.NewKey{User: "writer", Scopes: []string{"actions:read", "actions:write"}})
	_, jobs := createKey(t, s, keys.NewKey{User: "jobs", Scopes: []string{"jobs"}})
	_, admin := createKey(t, s, keys.NewKey{User: "admin", Scopes: []string{"admin"}})
	generateBody := `{"prompt": "a calm piano piece"}`
	sentimentBody := `{"texts": ["love it"]}`

	cases := []struct {
		key, method, path, body string
		forbidden               bool
	}{
		{reader, http.MethodPost, sentiment, sentimentBody, false},
		{reader, http.MethodPost, generate, generateBody, true},
		{reader, http.MethodGet, jobsPath, "", true},
		{reader, http.MethodGet, usagePath, "", true},
		{writer, http.MethodPost, generate, generateBody, false},
		{writer, http.MethodGet, usagePath, "", true},
		{jobs, http.MethodGet, jobsPath, "", false},
		{jobs, http.MethodPost, sentiment, sentimentBody, true},
		{admin, http.MethodGet, usagePath, "", false},
		{admin, http.MethodPost, generate, generateBody, false},
		{admin, http.MethodGet, jobsPath, "", false},
	}
	for _, tc := range cases {
		h := hdr("Authorization", "Bearer "+tc.key)
		if tc.body != "" {
			h.Set("Content-Type", "application/json")
		}
		resp, p, raw := sendWith(t, s, tc.method, tc.path, h, tc.body)
		if tc.forbidden {
			assert.Equal(t, http.StatusForbidden, resp.StatusCode, "%s %s: %s", tc.method, tc.path, raw)
			assert.Equal(t, "forbidden", p.Code)
			assert.NotEmpty(t, resp.Header.Get("X-RateLimit-Remaining"), "limit headers on every answer")
		} else {
			assert.NotEqual(t, http.StatusForbidden, resp.StatusCode, "%s %s: %s", tc.method, tc.path, raw)
			assert.NotEqual(t, http.StatusUnauthorized, resp.StatusCode, "%s %s: %s", tc.method, tc.path, raw)
		}
	}

	// getIntegrationInfo lists the limits of what the caller may call, with what is left.
	resp, _, raw := sendWith(t, s, http.MethodGet, info, hdr("X-API-Key", reader), "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var body struct {
		Limits []struct {
			Class     string `json:"class"`
			Limit     int    `json:"limit"`
			Remaining *int   `json:"remaining"`
		} `json:"limits"`
	}
	require.NoError(t, json.Unmarshal(raw, &body))
	classes := map[string]int{}
	for _, l := range body.Limits {
		require.NotNil(t, l.Remaining, l.Class)
		classes[l.Class] = *l.Remaining
	}
	assert.Contains(t, classes, "engagement.sentiment")
	assert.NotContains(t, classes, "music.generate", "a reader cannot generate")
	assert.NotContains(t, classes, "jobs.read")
	assert.Equal(t, 100000-1, classes["integration"], "this call counted")
	assert.Contains(t, classes, "invalid", "the budget of refused calls applies to every caller")
}

func TestLimitHeadersAndRefusal(t *testing.T) {
	t.Parallel()
	s := startServer(t, production(env{"JARVIS_RATE_LIMITS": "integration=3,engagement.sentiment=50"}))
	_, key := createKey(t, s, keys.NewKey{Scopes: []string{"actions:read", "actions:write"}})
	h := hdr("X-API-Key", key)
	for remaining := 2; remaining >= 0; remaining-- {
		resp, p, _ := sendWith(t, s, http.MethodGet, info, h, "")
		require.Equal(t, http.StatusOK, resp.StatusCode, "%+v", p)
		assert.Equal(t, "3", resp.Header.Get("X-RateLimit-Limit"))
		assert.Equal(t, strconv.Itoa(remaining), resp.Header.Get("X-RateLimit-Remaining"))
		reset, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64)
		require.NoError(t, err)
		assert.InDelta(t, time.Now().Add(time.Hour).Unix(), reset, 5)
		assert.Equal(t, "integration;q=3;w=3600", resp.Header.Get("RateLimit-Policy"))
		assert.Regexp(t, `^integration;r=`+strconv.Itoa(remaining)+`;t=(359\d|3600)$`, resp.Header.Get("RateLimit"))
	}
	resp, p, raw := sendWith(t, s, http.MethodGet, info, h, "")
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	assert.Equal(t, "rate_limited", p.Code)
	retry, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	require.NoError(t, err)
	assert.InDelta(t, 3600, retry, 5)
	var body struct {
		RetryAfter int `json:"retryAfter"`
	}
	require.NoError(t, json.Unmarshal(raw, &body))
	assert.Equal(t, retry, body.RetryAfter)
	assert.Equal(t, "0", resp.Header.Get("X-RateLimit-Remaining"))
	assert.Contains(t, p.Detail, "integration")

	// Other classes are counted apart, and so is another caller.
	resp, _, _ = sendWith(t, s, http.MethodPost, sentiment, hdr("X-API-Key", key, "Content-Type", "application/json"), `{"texts": ["ok"]}`)
	assert.NotEqual(t, http.StatusTooManyRequests, resp.StatusCode)
	assert.Equal(t, "49", resp.Header.Get("X-RateLimit-Remaining"))
	resp, _, _ = sendWith(t, s, http.MethodGet, info, hdr("X-API-Key", bootstrapToken), "")
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	t.Run("per-key overrides and quota", func(t *testing.T) {
		_, limited := createKey(t, s, keys.NewKey{User: "limited", Scopes: []string{"actions:read", "actions:write"},
			Limits: map[string]services.Rate{"music.generate": {Limit: 4, Period: time.Minute}}, DailyQuota: 1})
		h := hdr("X-API-Key", limited, "Content-Type", "application/json")
		// A call that fails gives its quota back.
		resp, p, _ := sendWith(t, s, http.MethodPost, generate, h, `{"prompt": ""}`)
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, "%+v", p)
		resp, p, _ = sendWith(t, s, http.MethodPost, generate, h, `{"prompt": "x", "duration": 5}`)
		require.Equal(t, http.StatusOK, resp.StatusCode, "%+v", p)
		assert.Equal(t, "music.generate;q=4;w=60, daily-quota;q=1;w=86400", resp.Header.Get("RateLimit-Policy"))
		assert.Regexp(t, `^music\.generate;r=3;t=\d+, daily-quota;r=0;t=\d+$`, resp.Header.Get("RateLimit"))
		// The X-RateLimit fields show the limit closest to refusing.
		assert.Equal(t, "1", resp.Header.Get("X-RateLimit-Limit"))
		assert.Equal(t, "0", resp.Header.Get("X-RateLimit-Remaining"))

		resp, p, _ = sendWith(t, s, http.MethodPost, generate, h, `{"prompt": "y", "duration": 5}`)
		require.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "%+v", p)
		assert.Equal(t, "quota_exceeded", p.Code)
		assert.NotEmpty(t, resp.Header.Get("Retry-After"))
	})
}

func TestInvalidCallsSpendTheirOwnBudget(t *testing.T) {
	t.Parallel()
	s := startServer(t, production(env{"JARVIS_RATE_LIMITS": "music.generate=2,invalid=3", "JARVIS_DAILY_QUOTA": "2"}))
	h := hdr("X-API-Key", bootstrapToken, "Content-Type", "application/json")
	// A model's malformed calls cost neither a generation nor a unit of the quota.
	for i, body := range []string{`{"prompt": ""}`, `{"prompt": "x", "duration": -1}`, `{"prompt": `} {
		resp, p, _ := sendWith(t, s, http.MethodPost, generate, h, body)
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, "%+v", p)
		assert.Contains(t, []string{"validation_failed", "malformed_json"}, p.Code)
		assert.Equal(t, "invalid;q=3;w=3600", resp.Header.Get("RateLimit-Policy"))
		assert.Regexp(t, `^invalid;r=`+strconv.Itoa(2-i)+`;t=(359\d|3600)$`, resp.Header.Get("RateLimit"))
		assert.Equal(t, "3", resp.Header.Get("X-RateLimit-Limit"))
		assert.Equal(t, strconv.Itoa(2-i), resp.Header.Get("X-RateLimit-Remaining"))
	}
	// Past the invalid budget, invalid calls are refused as such, still naming what is wrong.
	resp, p, _ := sendWith(t, s, http.MethodPost, generate, h, `{"prompt": ""}`)
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "%+v", p)
	assert.Equal(t, "rate_limited", p.Code)
	assert.Contains(t, p.Detail, "invalid budget")
	assert.Contains(t, fields(p), "/prompt")
	assert.NotEmpty(t, resp.Header.Get("Retry-After"))
	assert.Equal(t, "invalid;q=3;w=3600", resp.Header.Get("RateLimit-Policy"))
	assert.Equal(t, "0", resp.Header.Get("X-RateLimit-Remaining"))
	// Neither the invalid calls nor their refusal took a generation or a unit of the quota.
	for remaining := 1; remaining >= 0; remaining-- {
		resp, p, _ = sendWith(t, s, http.MethodPost, generate, h, `{"prompt": "x", "duration": 5}`)
		require.Equal(t, http.StatusOK, resp.StatusCode, "%+v", p)
		assert.Regexp(t, `^music\.generate;r=`+strconv.Itoa(remaining)+`;t=\d+, daily-quota;r=`+strconv.Itoa(remaining)+`;t=\d+$`,
			resp.Header.Get("RateLimit"))
	}
}

func TestFailedAuthenticationIsLimitedPerAddress(t *testing.T) {
	t.Parallel()
	s := startServer(t, production(env{"JARVIS_AUTH_FAILURE_LIMIT": "3/1m"}))
	_, key := createKey(t, s, keys.NewKey{Scopes: []string{"actions:read"}})
	for i := 0; i < 3; i++ {
		resp, _, _ := sendWith(t, s, http.MethodGet, info, hdr("X-API-Key", "jv_aaaaaaaaaaaa_AAAAAAAAAAAAAAAAAAAAAAAAAA"), "")
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		assert.Equal(t, strconv.Itoa(2-i), resp.Header.Get("X-RateLimit-Remaining"))
	}
	// Now wrong credentials are refused from this address until the window ends.
	resp, p, _ := sendWith(t, s, http.MethodGet, info, hdr("X-API-Key", "jv_aaaaaaaaaaaa_AAAAAAAAAAAAAAAAAAAAAAAAAA"), "")
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	assert.Equal(t, "rate_limited", p.Code)
	retry, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	require.NoError(t, err)
	assert.InDelta(t, 60, retry, 3)
	// Valid credentials from the same address still pass: whoever shares it (a NAT, an
	// assistant's egress) cannot lock the others out.
	resp, p, _ = sendWith(t, s, http.MethodGet, info, hdr("X-API-Key", key), "")
	require.Equal(t, http.StatusOK, resp.StatusCode, "%+v", p)
	resp, p, _ = sendWith(t, s, http.MethodGet, info, hdr("X-ChatGPT-App-Key", appKey), "")
	require.Equal(t, http.StatusOK, resp.StatusCode, "%+v", p)
	resp, _, _ = sendWith(t, s, http.MethodGet, info, hdr("X-ChatGPT-App-Key", appKey+"x"), "")
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
}

// No secret, right or wrong, reaches the log or an answer.
func TestSecretsStayOutOfLogsAndAnswers(t *testing.T) {
	t.Parallel()
	s := startServer(t, production(nil))
	_, key := createKey(t, s, keys.NewKey{Scopes: []string{"actions:read"}})
	_, secret, _ := keys.Parse(key)
	wrong := key[:len(key)-4] + "ABCD"
	var bodies []string
	for _, h := range []http.Header{
		hdr("X-API-Key", key), hdr("Authorization", "Bearer "+key), hdr("Authorization", "Bearer "+wrong),
		hdr("X-ChatGPT-App-Key", appKey), hdr("X-ChatGPT-App-Key", "wrong-"+appKey),
		hdr("Authorization", "Bearer "+bootstrapToken), hdr("Authorization", "Basic "+bootstrapToken),
		hdr("X-API-Key", key, "X-ChatGPT-App-Key", appKey),
	} {
		for _, path := range []string{info, generate, "/integrations/chatgpt/nowhere"} {
			_, _, raw := sendWith(t, s, http.MethodGet, path, h, "")
			bodies = append(bodies, string(raw))
		}
	}
	logs := s.Logs.String()
	require.NotEmpty(t, logs)
	for _, secretText := range []string{key, secret, wrong, appKey, bootstrapToken} {
		assert.NotContains(t, logs, secretText)
		for _, b := range bodies {
			assert.NotContains(t, b, secretText)
		}
	}
}

func TestSecurityHeadersAndCORS(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	for _, path := range []string{info, "/health", "/openapi.yaml", "/wp-admin"} {
		resp, _, _ := sendWith(t, s, http.MethodGet, path, nil, "")
		h := resp.Header
		assert.Equal(t, "nosniff", h.Get("X-Content-Type-Options"), path)
		assert.Equal(t, "DENY", h.Get("X-Frame-Options"), path)
		assert.Equal(t, "no-referrer", h.Get("Referrer-Policy"), path)
		assert.Contains(t, h.Get("Content-Security-Policy"), "default-src 'none'", path)
		assert.Contains(t, h.Get("Content-Security-Policy"), "frame-ancestors 'none'", path)
		assert.Empty(t, h.Get("Strict-Transport-Security"), "no HSTS over http")
	}
	resp, _, _ := sendWith(t, s, http.MethodGet, info, nil, "")
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))

	preflight := func(s *server, origin string) *http.Response {
		resp, _, _ := sendWith(t, s, http.MethodOptions, generate, hdr("Origin", origin,
			"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization,content-type"), "")
		return resp
	}
	for _, origin := range []string{"https://chatgpt.com", "https://chat.openai.com"} {
		resp := preflight(s, origin)
		assert.Equal(t, http.StatusNoContent, resp.StatusCode, origin)
		assert.Equal(t, origin, resp.Header.Get("Access-Control-Allow-Origin"))
		assert.Contains(t, resp.Header.Get("Access-Control-Allow-Headers"), "X-API-Key")
	}
	resp = preflight(s, "https://evil.example.com")
	assert.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))
	resp, _, _ = sendWith(t, s, http.MethodGet, info, hdr("Origin", "https://chatgpt.com"), "")
	assert.Equal(t, "https://chatgpt.com", resp.Header.Get("Access-Control-Allow-Origin"))
	assert.Contains(t, resp.Header.Get("Access-Control-Expose-Headers"), "X-RateLimit-Remaining")

	custom := startServer(t, env{"JARVIS_CORS_ORIGINS": "https://app.example.com", "JARVIS_PUBLIC_URL": "https://jarvis.example.com"})
	assert.Equal(t, "https://app.example.com", preflight(custom, "https://app.example.com").Header.Get("Access-Control-Allow-Origin"))
	assert.Empty(t, preflight(custom, "https://chatgpt.com").Header.Get("Access-Control-Allow-Origin"))
	resp, _, _ = sendWith(t, custom, http.MethodGet, "/health", nil, "")
	assert.Contains(t, resp.Header.Get("Strict-Transport-Security"), "max-age=")
}

func TestUsageIsMeteredAndReadByAdmins(t *testing.T) {
	t.Parallel()
	s := startServer(t, production(nil))
	k, key := createKey(t, s, keys.NewKey{User: "meter", Scopes: []string{"actions:read"}})
	_, admin := createKey(t, s, keys.NewKey{User: "admin", Scopes: []string{"admin"}})
	for i := 0; i < 3; i++ {
		resp, _, _ := sendWith(t, s, http.MethodGet, info, hdr("X-API-Key", key), "")
		require.Equal(t, http.StatusOK, resp.StatusCode)
	}
	resp, _, _ := sendWith(t, s, http.MethodPost, sentiment, hdr("X-API-Key", key, "Content-Type", "application/json"), `{"texts": ["ok"], "unknown": 1}`)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)

	resp, p, raw := sendWith(t, s, http.MethodGet, usagePath+"?keyId="+k.ID, hdr("X-API-Key", admin), "")
	require.Equal(t, http.StatusOK, resp.StatusCode, "%+v", p)
	var report struct {
		Usage []struct {
			Subject, Method, Operation, User string
			KeyID                            string `json:"keyId"`
			Calls, Errors                    int
		} `json:"usage"`
	}
	require.NoError(t, json.Unmarshal(raw, &report))
	got := map[string][2]int{}
	for _, r := range report.Usage {
		assert.Equal(t, k.ID, r.KeyID)
		assert.Equal(t, "key:"+k.ID, r.Subject)
		assert.Equal(t, "apiKey", r.Method)
		got[r.Operation] = [2]int{r.Calls, r.Errors}
	}
	assert.Equal(t, map[string][2]int{"getIntegrationInfo": {3, 0}, "analyzeSentiment": {1, 1}}, got)

	resp, p, _ = sendWith(t, s, http.MethodGet, usagePath+"?from=2026-12-01&to=2026-11-01", hdr("X-API-Key", admin), "")
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Contains(t, fields(p), "query:from")
}

// When the key store cannot be read, the caller gets a 503 that says nothing of why.
func TestAnOutageRevealsNoInternals(t *testing.T) {
	t.Parallel()
	s := startServer(t, production(env{"JARVIS_KEY_CACHE_TTL": "0"}))
	_, key := createKey(t, s, keys.NewKey{Scopes: []string{"actions:read"}})
	_, err := openDB(t, s).ExecContext(context.Background(), `ALTER TABLE api_keys RENAME TO api_keys_gone`)
	require.NoError(t, err)
	resp, p, raw := sendWith(t, s, http.MethodGet, info, hdr("X-API-Key", key), "")
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "%s", raw)
	assert.Equal(t, "unavailable", p.Code)
	assert.NotEmpty(t, resp.Header.Get("Retry-After"))
	for _, internal := range []string{"api_keys", "SQL", "sqlite", "no such table", "goroutine", ".go:"} {
		assert.NotContains(t, string(raw), internal)
	}
	assert.Contains(t, s.Logs.String(), "no such table", "the cause is logged for the operator")
}
