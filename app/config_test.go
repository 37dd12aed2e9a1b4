package app

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/services/checks"
	"github.com/aidawg/jarvis/services/modules"
)

func lookupFrom(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestLoadConfigDefaults(t *testing.T) {
	cfg, err := LoadConfig(lookupFrom(nil))
	require.NoError(t, err)
	assert.Equal(t, "production", cfg.Env)
	assert.Equal(t, "127.0.0.1:4000", cfg.Addr)
	assert.Equal(t, "http://127.0.0.1:4000", cfg.PublicURL)
	assert.Equal(t, "1M", cfg.BodyLimit)
	assert.Equal(t, 15*time.Second, cfg.ReadTimeout)
	assert.Equal(t, 60*time.Second, cfg.WriteTimeout)
	assert.Equal(t, 120*time.Second, cfg.IdleTimeout)
	assert.Equal(t, 100*time.Millisecond, cfg.LogFlushInterval)
}

func TestLogFlushIntervalMayBeOffButNotNegative(t *testing.T) {
	cfg, err := LoadConfig(lookupFrom(map[string]string{"JARVIS_LOG_FLUSH_INTERVAL": "0"}))
	require.NoError(t, err)
	assert.Zero(t, cfg.LogFlushInterval)
	_, err = LoadConfig(lookupFrom(map[string]string{"JARVIS_LOG_FLUSH_INTERVAL": "-1s"}))
	assert.ErrorContains(t, err, `JARVIS_LOG_FLUSH_INTERVAL="-1s": want 0 or a positive duration`)
	_, err = LoadConfig(lookupFrom(map[string]string{"JARVIS_READ_TIMEOUT": "0"}))
	assert.ErrorContains(t, err, `JARVIS_READ_TIMEOUT="0": want a positive duration`)
}

func TestLoadConfigReportsEveryInvalidValue(t *testing.T) {
	_, err := LoadConfig(lookupFrom(map[string]string{
		"JARVIS_ENV":           "staging",
		"JARVIS_ADDR":          "4000",
		"JARVIS_PUBLIC_URL":    "ftp://example.com/api",
		"JARVIS_LOG_LEVEL":     "loud",
		"JARVIS_BODY_LIMIT":    "huge",
		"JARVIS_READ_TIMEOUT":  "soon",
		"JARVIS_WRITE_TIMEOUT": "5s",
	}))
	require.Error(t, err)
	for _, name := range []string{"JARVIS_ENV", "JARVIS_ADDR", "JARVIS_PUBLIC_URL", "JARVIS_LOG_LEVEL",
		"JARVIS_BODY_LIMIT", "JARVIS_READ_TIMEOUT", "JARVIS_WRITE_TIMEOUT"} {
		assert.Contains(t, err.Error(), name)
	}
}

// The AI Dawg settings' defaults are the router's own defaults.
func TestAidawgDefaults(t *testing.T) {
	cfg, err := LoadConfig(lookupFrom(nil))
	require.NoError(t, err)
	assert.Equal(t, "", cfg.AidawgURL)
	assert.Equal(t, "embedded", cfg.AidawgFallback)
	got := cfg.remoteOptions(zerolog.Nop())
	want := modules.DefaultRemoteOptions()
	want.Log = got.Log
	assert.Equal(t, want, got)
}

func TestLoadConfigReportsEveryInvalidAidawgValue(t *testing.T) {
	_, err := LoadConfig(lookupFrom(map[string]string{
		"JARVIS_AIDAWG_URL":              "aidawg.example.com",
		"JARVIS_AIDAWG_FALLBACK":         "cache",
		"JARVIS_AIDAWG_ATTEMPTS":         "0",
		"JARVIS_AIDAWG_MAX_RESPONSE":     "lots",
		"JARVIS_AIDAWG_BREAKER_FAILURES": "x",
		"JARVIS_AIDAWG_BREAKER_COOLDOWN": "-1s",
	}))
	require.Error(t, err)
	for _, name := range []string{"JARVIS_AIDAWG_URL", "JARVIS_AIDAWG_FALLBACK", "JARVIS_AIDAWG_ATTEMPTS",
		"JARVIS_AIDAWG_MAX_RESPONSE", "JARVIS_AIDAWG_BREAKER_FAILURES", "JARVIS_AIDAWG_BREAKER_COOLDOWN"} {
		assert.Contains(t, err.Error(), name)
	}

	// Values valid alone but not together.
	_, err = LoadConfig(lookupFrom(map[string]string{
		"JARVIS_AIDAWG_TIMEOUT":     "20s",
		"JARVIS_AIDAWG_BUDGET":      "15s",
		"JARVIS_AIDAWG_BACKOFF":     "3s",
		"JARVIS_AIDAWG_BACKOFF_MAX": "1s",
	}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "JARVIS_AIDAWG_TIMEOUT=20s is longer than JARVIS_AIDAWG_BUDGET=15s")
	assert.Contains(t, err.Error(), "JARVIS_AIDAWG_BACKOFF=3s")
	_, err = LoadConfig(lookupFrom(map[string]string{"JARVIS_AIDAWG_BUDGET": "90s"}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "JARVIS_WRITE_TIMEOUT")
}

// runValidation's config checks flag what works but will surprise.
func TestConfigValidator(t *testing.T) {
	issues := func(vars map[string]string) map[string]string {
		t.Helper()
		cfg, err := LoadConfig(lookupFrom(vars))
		require.NoError(t, err)
		out, err := checks.SettingsValidator(cfg.checkedSettings()).Run(context.Background())
		require.NoError(t, err)
		assert.Equal(t, 5, out.Checks)
		got := map[string]string{}
		for _, is := range out.Issues {
			got[is.Check] = string(is.Severity)
		}
		return got
	}
	assert.Equal(t, map[string]string{}, issues(map[string]string{"JARVIS_PUBLIC_URL": "https://jarvis.example.com"}))
	assert.Equal(t, map[string]string{
		"public-url":      "warning",
		"environment":     "warning",
		"aidawg-budget":   "warning",
		"aidawg-fallback": "info",
	}, issues(map[string]string{
		"JARVIS_ENV": "development", "JARVIS_ADDR": "0.0.0.0:4000", "JARVIS_AIDAWG_URL": "http://127.0.0.1:3001",
		"JARVIS_AIDAWG_FALLBACK": "none", "JARVIS_AIDAWG_BUDGET": "50s", "JARVIS_WRITE_TIMEOUT": "90s",
	}))
	assert.Equal(t, map[string]string{"aidawg-url": "warning"}, issues(map[string]string{
		"JARVIS_PUBLIC_URL": "https://jarvis.example.com", "JARVIS_AIDAWG_URL": "http://aidawg.internal:3001",
	}))
}

func TestLoadConfigTrimsPublicURL(t *testing.T) {
	cfg, err := LoadConfig(lookupFrom(map[string]string{"JARVIS_PUBLIC_URL": "https://jarvis.example.com/"}))
	require.NoError(t, err)
	assert.Equal(t, "https://jarvis.example.com", cfg.PublicURL)
}

// The README's configuration table documents every setting.
func TestReadmeDocumentsEverySetting(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	for _, s := range Settings {
		assert.True(t, strings.Contains(string(readme), "| `"+s.Name+"` |"), "README lacks a row for %s", s.Name)
	}
}

func TestLoadConfigAccessDefaults(t *testing.T) {
	cfg, err := LoadConfig(lookupFrom(nil))
	require.NoError(t, err)
	assert.Equal(t, "data", cfg.DataDir)
	assert.Equal(t, 30*time.Second, cfg.KeyCacheTTL)
	assert.Equal(t, []string{"RS256", "ES256"}, cfg.OAuthAlgorithms)
	assert.Equal(t, int64(10), cfg.RateLimits["music.generate"].Limit)
	assert.Equal(t, time.Hour, cfg.RateLimits["music.generate"].Period)
	assert.Equal(t, int64(1000), cfg.RateLimits["jobs.read"].Limit)
	assert.Equal(t, "memory", string(cfg.RateLimitOnStoreError))
	assert.Equal(t, int64(30), cfg.AuthFailureLimit.Limit)
	assert.Equal(t, []string{"https://chatgpt.com", "https://chat.openai.com"}, cfg.CORSOrigins)
	assert.False(t, cfg.DevelopmentBypass())
}

func TestLoadConfigAccessOverrides(t *testing.T) {
	cfg, err := LoadConfig(lookupFrom(map[string]string{
		"JARVIS_ENV":                      "development",
		"JARVIS_RATE_LIMITS":              "*=5,music.generate=2/1m",
		"JARVIS_RATELIMIT_ON_STORE_ERROR": "deny",
		"JARVIS_KEY_CACHE_TTL":            "0",
		"JARVIS_TRUSTED_PROXIES":          "10.0.0.0/8, 192.0.2.7",
		"JARVIS_AUTH_TOKEN":               "short-is-fine-in-development",
	}))
	require.NoError(t, err)
	assert.Equal(t, int64(5), cfg.RateLimits["jobs.read"].Limit)
	assert.Equal(t, time.Minute, cfg.RateLimits["music.generate"].Period)
	assert.Equal(t, time.Duration(0), cfg.KeyCacheTTL)
	require.Len(t, cfg.TrustedProxies, 2)
	assert.Equal(t, "192.0.2.7/32", cfg.TrustedProxies[1].String())
	assert.True(t, cfg.DevelopmentBypass())
	cfg.Addr = "0.0.0.0:4000"
	assert.False(t, cfg.DevelopmentBypass(), "never on a listener other machines reach")
}

// Production refuses short or predictable secrets and names the setting, never its value.
func TestLoadConfigRefusesWeakSecretsInProduction(t *testing.T) {
	token, appKey := "bootstrap-secret-17", "app-key-secret-very-short"
	_, err := LoadConfig(lookupFrom(map[string]string{"JARVIS_AUTH_TOKEN": token, "JARVIS_CHATGPT_APP_KEY": appKey}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "JARVIS_AUTH_TOKEN")
	assert.Contains(t, err.Error(), "JARVIS_CHATGPT_APP_KEY")
	assert.NotContains(t, err.Error(), token)
	assert.NotContains(t, err.Error(), appKey)

	for _, weak := range []string{strings.Repeat("a", 32), strings.Repeat("ab", 40), strings.Repeat("0123", 20)} {
		_, err = LoadConfig(lookupFrom(map[string]string{"JARVIS_AUTH_TOKEN": weak, "JARVIS_CHATGPT_APP_KEY": weak}))
		require.Error(t, err, weak)
		assert.Contains(t, err.Error(), "JARVIS_AUTH_TOKEN: too predictable")
		assert.Contains(t, err.Error(), "JARVIS_CHATGPT_APP_KEY: too predictable")
		assert.Contains(t, err.Error(), "openssl rand -hex 32")
		assert.NotContains(t, err.Error(), weak)
	}

	_, err = LoadConfig(lookupFrom(map[string]string{
		"JARVIS_AUTH_TOKEN":      "4f1c9e0b7a2d58c3e6f91b0a4d7c2e85", // 32 hex digits: 128 bits
		"JARVIS_CHATGPT_APP_KEY": "Zq3vN8xK1pL6tR0wY4bH7mC2sF9gJ5dA-e_Uo",
	}))
	require.NoError(t, err)
}

func TestLoadConfigReportsEveryInvalidAccessValue(t *testing.T) {
	_, err := LoadConfig(lookupFrom(map[string]string{
		"JARVIS_DATABASE_URL":             "mysql://x",
		"JARVIS_KEY_CACHE_TTL":            "-1s",
		"JARVIS_OAUTH_ISSUER":             "http://auth.example.com",
		"JARVIS_OAUTH_ALGORITHMS":         "HS256,none",
		"JARVIS_REDIS_URL":                "localhost:6379",
		"JARVIS_RATE_LIMITS":              "music.generate=lots",
		"JARVIS_RATELIMIT_ON_STORE_ERROR": "panic",
		"JARVIS_AUTH_FAILURE_LIMIT":       "0/1m",
		"JARVIS_DAILY_QUOTA":              "-3",
		"JARVIS_CORS_ORIGINS":             "chatgpt.com",
		"JARVIS_TRUSTED_PROXIES":          "10.0.0.0/33",
	}))
	require.Error(t, err)
	for _, name := range []string{"JARVIS_DATABASE_URL", "JARVIS_KEY_CACHE_TTL", "JARVIS_OAUTH_ISSUER", "JARVIS_OAUTH_AUDIENCE",
		"JARVIS_OAUTH_ALGORITHMS", "JARVIS_REDIS_URL", "JARVIS_RATE_LIMITS", "JARVIS_RATELIMIT_ON_STORE_ERROR",
		"JARVIS_AUTH_FAILURE_LIMIT", "JARVIS_DAILY_QUOTA", "JARVIS_CORS_ORIGINS", "JARVIS_TRUSTED_PROXIES"} {
		assert.Contains(t, err.Error(), name)
	}
}

func TestStaleAfterSpansSeveralHeartbeats(t *testing.T) {
	_, err := LoadConfig(lookupFrom(map[string]string{"JARVIS_JOB_HEARTBEAT_INTERVAL": "3s", "JARVIS_JOB_STALE_AFTER": "5s"}))
	assert.ErrorContains(t, err, "JARVIS_JOB_STALE_AFTER=5s: want at least three")
}

func TestLoadConfigOAuthServer(t *testing.T) {
	cfg, err := LoadConfig(lookupFrom(nil))
	require.NoError(t, err)
	assert.False(t, cfg.OAuthServer.On)
	assert.True(t, cfg.OAuthServer.Registration)
	assert.Equal(t, time.Hour, cfg.OAuthServer.AccessTTL)
	assert.Equal(t, []string{"chatgpt.com", "claude.ai", "claude.com"}, cfg.OAuthServer.CIMDHosts)
	assert.Equal(t, int64(16_000), cfg.OAuthServer.CIMDMaxBytes)

	_, err = LoadConfig(lookupFrom(map[string]string{
		"JARVIS_OAUTH_SERVER": "yes", "JARVIS_OAUTH_REGISTRATION": "maybe", "JARVIS_OAUTH_ACCESS_TTL": "48h",
		"JARVIS_OAUTH_REFRESH_TTL": "soon", "JARVIS_OAUTH_REGISTRATION_LIMIT": "0/1h", "JARVIS_OAUTH_CIMD_HOSTS": "https://claude.ai/x",
		"JARVIS_OAUTH_CIMD_MAX_BYTES": "10M", "JARVIS_OAUTH_PREVIOUS_SIGNING_KEY": "/keys/old.pem",
	}))
	require.Error(t, err)
	for _, name := range []string{"JARVIS_OAUTH_SERVER=", "JARVIS_OAUTH_REGISTRATION=", "JARVIS_OAUTH_ACCESS_TTL=48h", "JARVIS_OAUTH_REFRESH_TTL=",
		"JARVIS_OAUTH_REGISTRATION_LIMIT=", "JARVIS_OAUTH_CIMD_HOSTS:", "JARVIS_OAUTH_CIMD_MAX_BYTES=", "JARVIS_OAUTH_PREVIOUS_SIGNING_KEY:"} {
		assert.Contains(t, err.Error(), name)
	}
	_, err = LoadConfig(lookupFrom(map[string]string{"JARVIS_OAUTH_SERVER": "on", "JARVIS_PUBLIC_URL": "http://jarvis.example.com"}))
	assert.ErrorContains(t, err, "JARVIS_OAUTH_SERVER=on: JARVIS_PUBLIC_URL is the issuer")
	cfg, err = LoadConfig(lookupFrom(map[string]string{"JARVIS_OAUTH_SERVER": "on", "JARVIS_PUBLIC_URL": "https://jarvis.example.com"}))
	require.NoError(t, err)
	assert.True(t, cfg.OAuthServer.On)
}
