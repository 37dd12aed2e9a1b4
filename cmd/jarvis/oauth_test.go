package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/services/oauthserver"
)

func TestUsersAndOAuthCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := map[string]string{"JARVIS_DATA_DIR": dir, "JARVIS_PUBLIC_URL": "https://jarvis.example.com"}
	// cmd runs jarvis with the arguments and stdin, and answers what it printed on stdout (the
	// messages on stderr after it) and an error of the message when it failed.
	cmd := func(stdin string, args ...string) (string, error) {
		r := runIn(context.Background(), env, stdin, args...)
		if r.code != 0 {
			return r.String(), errors.New(r.stderr)
		}
		return r.stdout, nil
	}
	users := func(stdin string, args ...string) (string, error) {
		return cmd(stdin, append([]string{"users"}, args...)...)
	}
	oauth := func(args ...string) (string, error) { return cmd("", append([]string{"oauth"}, args...)...) }

	out, err := users("a good long password\n", "create", "--email", "Alice@Example.com", "--tenant", "acme", "--password-stdin")
	require.NoError(t, err, out)
	assert.Contains(t, out, "alice@example.com")
	_, err = users("short\n", "create", "--email", "bob@example.com", "--password-stdin")
	assert.ErrorContains(t, err, "at least 12")
	_, err = users("", "create", "--email", "carol@example.com")
	assert.ErrorContains(t, err, "no terminal", "without a terminal the password is not asked for")
	out, err = users("", "create", "--email", "dan@example.com", "--link", "--admin")
	require.NoError(t, err, out)
	assert.Regexp(t, `https://jarvis\.example\.com/oauth/link\?token=[A-Z0-9]+`, out)
	_, err = users("a good long password\n", "create", "--email", "alice@example.com", "--password-stdin")
	assert.ErrorContains(t, err, "already")

	out, err = users("", "list", "--json")
	require.NoError(t, err, out)
	var listed []map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &listed))
	require.Len(t, listed, 2)
	assert.Equal(t, []any{"actions:read", "actions:write", "admin", "jobs"}, listed[1]["scopes"])
	// The settings come as for every command: here the flag instead of the environment.
	r := run(map[string]string{"JARVIS_DATA_DIR": t.TempDir()}, "--data-dir", dir, "users", "list")
	require.Equal(t, 0, r.code, r.String())
	assert.Contains(t, r.stdout, "dan@example.com")
	assert.Contains(t, r.stderr, "using the sqlite database "+dir)

	out, err = oauth("clients", "create", "--gpt")
	require.NoError(t, err, out)
	assert.Contains(t, out, "Authorization URL:  https://jarvis.example.com/oauth/authorize")
	assert.Contains(t, out, "Client secret (shown once):")
	id := regexp.MustCompile(`cl_[a-z0-9]+`).FindString(out)
	require.NotEmpty(t, id, out)
	out, err = oauth("clients", "add-redirect", id, "https://chatgpt.com/aip/g-123/oauth/callback")
	require.NoError(t, err, out)
	_, err = oauth("clients", "add-redirect", id, "http://chatgpt.com/cb")
	assert.ErrorContains(t, err, "loopback")
	_, err = oauth("clients", "create", "--name", "x")
	assert.Error(t, err, "a client without redirect URIs")

	out, err = oauth("grants", "list", "--json")
	require.NoError(t, err, out)
	assert.Equal(t, "[]", strings.TrimSpace(out))
	_, err = oauth("grants", "revoke", "gr_nothing")
	assert.ErrorContains(t, err, "no grant")

	before, err := os.ReadFile(oauthserver.KeysPath(dir))
	require.NoError(t, err, "the first use generated a key")
	info, err := os.Stat(oauthserver.KeysPath(dir))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	out, err = oauth("keys", "rotate")
	require.NoError(t, err, out)
	ks, err := oauthserver.LoadKeys(dir, "", "")
	require.NoError(t, err)
	require.NotNil(t, ks.Previous)
	assert.Contains(t, string(before), ks.Previous.KeyID, "the replaced key stays as the previous one")
	assert.Len(t, ks.Public().Keys, 2)
}
