package app

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
