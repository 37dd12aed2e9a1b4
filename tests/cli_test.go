package tests

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runJarvis runs the built binary in dir with the environment less JARVIS_* plus env, and
// answers its exit code, stdout and stderr.
func runJarvis(t *testing.T, dir string, env []string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(jarvisBinary(t), args...)
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "JARVIS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), out.String(), errOut.String()
	}
	require.NoError(t, err)
	return 0, out.String(), errOut.String()
}

// The binary run from another folder than the server's finds the server's database only when
// told where it is, and never makes an empty one in its stead.
func TestCLIFromAnotherFolder(t *testing.T) {
	skipIfShort(t)
	t.Parallel()
	server, elsewhere := t.TempDir(), t.TempDir()
	db := filepath.Join(server, "data", "jarvis.db")

	code, out, errOut := runJarvis(t, server, nil, "keys", "create", "--user", "ops")
	require.Equal(t, 0, code, out+errOut)
	assert.Contains(t, errOut, "using the sqlite database "+db+" (new)")
	assert.FileExists(t, db)

	code, _, errOut = runJarvis(t, elsewhere, nil, "keys", "list")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "no database at "+filepath.Join(elsewhere, "data", "jarvis.db"))
	assert.NoDirExists(t, filepath.Join(elsewhere, "data"))

	for name, way := range map[string]struct {
		env  []string
		args []string
	}{
		"flag":        {nil, []string{"--data-dir", filepath.Join(server, "data")}},
		"environment": {[]string{"JARVIS_DATA_DIR=" + filepath.Join(server, "data")}, nil},
		"relative":    {nil, []string{"--data-dir", "../" + filepath.Base(server) + "/data"}},
		"config file": {[]string{"JARVIS_CONFIG=" + writeSettings(t, server)}, nil},
	} {
		code, out, errOut := runJarvis(t, elsewhere, way.env, append(way.args, "keys", "list", "--json")...)
		require.Equal(t, 0, code, "%s: %s%s", name, out, errOut)
		assert.Contains(t, out, `"user": "ops"`, name)
		assert.Contains(t, errOut, "using the sqlite database "+db+"\n", name)
	}

	code, out, _ = runJarvis(t, elsewhere, nil, "keys", "list", "--help")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "Usage:")
	code, _, errOut = runJarvis(t, elsewhere, nil, "keys", "list", "--everything")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "unknown flag: --everything")
	assert.NoDirExists(t, filepath.Join(elsewhere, "data"))
}

// writeSettings writes a config file naming the data dir relative to the file.
func writeSettings(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "jarvis.yaml")
	require.NoError(t, os.WriteFile(p, []byte("data_dir: data\n"), 0o600))
	return p
}
