package main

import (
	"bytes"
	"encoding/json"
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
	lookup := func(k string) (string, bool) {
		switch k {
		case "JARVIS_DATA_DIR":
			return dir, true
		case "JARVIS_PUBLIC_URL":
			return "https://jarvis.example.com", true
		}
		return "", false
	}
	users := func(stdin string, args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := usersCommand(args, lookup, strings.NewReader(stdin), &out, &errOut)
		return out.String() + errOut.String(), err
	}
	oauth := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := oauthCommand(args, lookup, &out, &errOut)
		return out.String() + errOut.String(), err
	}

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
	assert.Equal(t, []any{"actions:read", "actions:write", "admin", "jobs"}, listed[1]["Scopes"])

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
