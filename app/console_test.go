package app

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/aidawg/jarvis/handlers/console"
)

func TestMaskedSettings(t *testing.T) {
	got := maskedSettings([]EffectiveSetting{
		{"JARVIS_AUTH_TOKEN", "s3cret-token-value"},
		{"JARVIS_WEBHOOK_SECRET", ""},
		{"JARVIS_DATABASE_URL", "postgres://jarvis:hunter2@db:5432/jarvis?sslmode=require"},
		{"JARVIS_REDIS_URL", "redis://cache:6379/0?password=hunter2"},
		{"JARVIS_ADDR", "127.0.0.1:4000"},
	})
	assert.Equal(t, []console.Setting{
		{Name: "JARVIS_AUTH_TOKEN", Value: "(set, masked)"},
		{Name: "JARVIS_WEBHOOK_SECRET", Value: "(unset)"},
		{Name: "JARVIS_DATABASE_URL", Value: "postgres://jarvis:masked@db:5432/jarvis?sslmode=require"},
		{Name: "JARVIS_REDIS_URL", Value: "redis://cache:6379/0?password=masked"},
		{Name: "JARVIS_ADDR", Value: "127.0.0.1:4000"},
	}, got)
	for _, s := range got {
		assert.NotContains(t, s.Value, "hunter2")
	}
}

// Every setting whose name says it holds a secret is masked whole.
func TestSecretSettingsAreListed(t *testing.T) {
	for _, s := range Settings {
		if containsAny(s.Name, "SECRET", "TOKEN", "APP_KEY") {
			assert.True(t, secretSettings[s.Name], "%s is masked on the console", s.Name)
		}
	}
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
