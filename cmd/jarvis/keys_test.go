package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestKeysAndUsageCommands(t *testing.T) {
	t.Parallel()
	env := map[string]string{"JARVIS_DATA_DIR": t.TempDir()}

	r := run(env, "keys", "create", "--user", "gpt-prod", "--name", "GPT prod", "--scopes", "actions:read,jobs",
		"--limits", "music.generate=20", "--daily-quota", "5")
	require.Equal(t, 0, r.code, r.String())
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	key := lines[len(lines)-1]
	require.True(t, strings.HasPrefix(key, "jv_"), r.stdout)

	r = run(env, "keys", "list", "--json")
	require.Equal(t, 0, r.code, r.String())
	assert.NotContains(t, r.stdout, key[16:], "the secret is shown only at creation")
	var list []struct {
		ID, Name, Limits string
		Scopes           []string
		DailyQuota       int64
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &list))
	require.Len(t, list, 1)
	assert.Equal(t, key[3:15], list[0].ID)
	assert.Equal(t, []string{"actions:read", "jobs"}, list[0].Scopes)
	assert.Equal(t, "music.generate=20", list[0].Limits)
	assert.Equal(t, int64(5), list[0].DailyQuota)

	r = run(env, "keys", "revoke", list[0].ID)
	require.Equal(t, 0, r.code, r.String())
	assert.Contains(t, r.stdout, "Revoked API key "+list[0].ID)
	r = run(env, "keys", "list")
	require.Equal(t, 0, r.code)
	assert.NotContains(t, r.stdout, list[0].ID)
	r = run(env, "keys", "list", "--all")
	require.Equal(t, 0, r.code)
	assert.Contains(t, r.stdout, list[0].ID)

	r = run(env, "keys", "create", "--user", "x", "--scopes", "root")
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, `scope "root"`)
	r = run(env, "keys", "revoke", "aaaaaaaaaaaa")
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "no API key")

	r = run(env, "usage", "--json")
	require.Equal(t, 0, r.code, r.String())
	assert.JSONEq(t, "[]", r.stdout)
}
