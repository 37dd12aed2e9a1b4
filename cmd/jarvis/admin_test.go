package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestKeysAndUsageCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	lookup := func(k string) (string, bool) {
		switch k {
		case "JARVIS_DATA_DIR":
			return dir, true
		}
		return "", false
	}
	run := func(cmd func([]string, func(string) (string, bool), *bytes.Buffer, *bytes.Buffer) error, args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := cmd(args, lookup, &out, &errOut)
		return out.String() + errOut.String(), err
	}
	keysCmd := func(args []string, l func(string) (string, bool), o, e *bytes.Buffer) error {
		return keysCommand(args, l, o, e)
	}
	usageCmd := func(args []string, l func(string) (string, bool), o, e *bytes.Buffer) error {
		return usageCommand(args, l, o, e)
	}

	out, err := run(keysCmd, "create", "--user", "gpt-prod", "--name", "GPT prod", "--scopes", "actions:read,jobs",
		"--limits", "music.generate=20", "--daily-quota", "5")
	require.NoError(t, err, out)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	key := lines[len(lines)-1]
	require.True(t, strings.HasPrefix(key, "jv_"), out)

	out, err = run(keysCmd, "list", "--json")
	require.NoError(t, err, out)
	assert.NotContains(t, out, key[16:], "the secret is shown only at creation")
	var list []struct {
		ID, Name, Limits string
		Scopes           []string
		DailyQuota       int64
	}
	require.NoError(t, json.Unmarshal([]byte(out), &list))
	require.Len(t, list, 1)
	assert.Equal(t, key[3:15], list[0].ID)
	assert.Equal(t, []string{"actions:read", "jobs"}, list[0].Scopes)
	assert.Equal(t, "music.generate=20", list[0].Limits)
	assert.Equal(t, int64(5), list[0].DailyQuota)

	out, err = run(keysCmd, "revoke", list[0].ID)
	require.NoError(t, err, out)
	assert.Contains(t, out, "Revoked API key "+list[0].ID)
	out, err = run(keysCmd, "list")
	require.NoError(t, err)
	assert.NotContains(t, out, list[0].ID)
	out, err = run(keysCmd, "list", "--all")
	require.NoError(t, err)
	assert.Contains(t, out, list[0].ID)

	_, err = run(keysCmd, "create", "--user", "x", "--scopes", "root")
	assert.ErrorContains(t, err, `scope "root"`)
	_, err = run(keysCmd, "revoke", "aaaaaaaaaaaa")
	assert.ErrorContains(t, err, "no API key")
	_, err = run(keysCmd, "rotate")
	assert.Error(t, err)

	out, err = run(usageCmd, "--json")
	require.NoError(t, err, out)
	assert.JSONEq(t, "[]", out)
	_, err = run(usageCmd, "--from", "yesterday")
	assert.Error(t, err)
}
