package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string { return r.stdout + r.stderr }

// runIn runs the command line with env as the whole environment and stdin as its input.
func runIn(ctx context.Context, env map[string]string, stdin string, args ...string) result {
	var out, errOut bytes.Buffer
	code := execute(ctx, args, func(k string) (string, bool) { v, ok := env[k]; return v, ok }, strings.NewReader(stdin), &out, &errOut)
	return result{code, out.String(), errOut.String()}
}

func run(env map[string]string, args ...string) result {
	return runIn(context.Background(), env, "", args...)
}

// commandPaths lists every command and subcommand, cobra's help and completion included.
func commandPaths() [][]string {
	root := (&cli{lookup: func(string) (string, bool) { return "", false }}).root()
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	var paths [][]string
	var walk func(cmd *cobra.Command, path []string)
	walk = func(cmd *cobra.Command, path []string) {
		paths = append(paths, path)
		for _, sub := range cmd.Commands() {
			walk(sub, append(append([]string{}, path...), sub.Name()))
		}
	}
	walk(root, nil)
	return paths
}

// --help on every command prints its help and does nothing else: the context is already
// cancelled, so that a server which started anyway would stop at once instead of hanging, and
// the data directory it would have created is looked for.
func TestEveryCommandsHelpExitsZeroAndDoesNothing(t *testing.T) {
	t.Parallel()
	paths := commandPaths()
	require.Greater(t, len(paths), 20)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, path := range paths {
		for _, help := range []string{"--help", "-h"} {
			name := strings.Join(append(path, help), " ")
			t.Run(name, func(t *testing.T) {
				dataDir := filepath.Join(t.TempDir(), "data")
				env := map[string]string{"JARVIS_DATA_DIR": dataDir, "JARVIS_ADDR": "127.0.0.1:0", "JARVIS_ENV": "development"}
				r := runIn(ctx, env, "", append(append([]string{}, path...), help)...)
				assert.Equal(t, 0, r.code, r.String())
				assert.Contains(t, r.stdout, "Usage:")
				assert.Empty(t, r.stderr)
				assert.NoDirExists(t, dataDir, "help must not open the database")
			})
		}
	}
	// help COMMAND is the same as COMMAND --help.
	r := run(nil, "help", "keys", "create")
	assert.Equal(t, 0, r.code)
	assert.Contains(t, r.stdout, "--daily-quota")
}

func TestUnknownFlagsAndArgumentsAreUsageErrors(t *testing.T) {
	t.Parallel()
	for _, path := range commandPaths() {
		name := strings.Join(path, " ")
		t.Run("flag "+name, func(t *testing.T) {
			dataDir := filepath.Join(t.TempDir(), "data")
			r := run(map[string]string{"JARVIS_DATA_DIR": dataDir}, append(append([]string{}, path...), "--no-such-flag")...)
			assert.Equal(t, exitUsage, r.code, r.String())
			assert.Contains(t, r.stderr, "unknown flag: --no-such-flag")
			assert.Contains(t, r.stderr, "--help' for usage")
			assert.NoDirExists(t, dataDir)
		})
	}
	for _, args := range [][]string{
		{"bogus"}, {"serv"}, {"keys", "rotate"}, {"data", "delete"}, {"aidawg", "start"},
		{"serve", "now"}, {"version", "2"}, {"keys", "list", "extra"}, {"keys", "revoke"},
		{"keys", "revoke", "not-an-id"}, {"data", "import", "metrics"}, {"data", "export"},
		{"data", "export", "songs"}, {"data", "export", "metrics", "--format", "xml"},
		{"usage", "--from", "yesterday"}, {"keys", "create", "--user", "u", "--limits", "x=y"},
		{"data", "demo", "--seed", "minus"},
		{"users", "create"}, {"users", "create", "--email", "a@example.com", "--link", "--password-stdin"},
		{"users", "list", "extra"}, {"oauth", "clients", "create", "--name", "x"},
		{"oauth", "clients", "create", "--gpt", "--public"}, {"oauth", "clients", "add-redirect", "cl_x"},
		{"oauth", "grants", "revoke"}, {"oauth", "keys", "list"}, {"oauth", "keys", "rotate", "now"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			dataDir := filepath.Join(t.TempDir(), "data")
			r := run(map[string]string{"JARVIS_DATA_DIR": dataDir}, args...)
			assert.Equal(t, exitUsage, r.code, r.String())
			assert.NoDirExists(t, dataDir)
		})
	}
	r := run(nil, "serv")
	assert.Contains(t, r.stderr, `did you mean serve?`)
}

func TestBareGroupsPrintTheirHelp(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{nil, {"keys"}, {"data"}, {"aidawg"}, {"users"}, {"oauth"}, {"oauth", "clients"}} {
		r := run(nil, args...)
		assert.Equal(t, 0, r.code, r.String())
		assert.Contains(t, r.stdout, "Available Commands:")
	}
}

func TestCompletionScripts(t *testing.T) {
	t.Parallel()
	for _, shell := range []string{"bash", "zsh", "fish"} {
		r := run(nil, "completion", shell)
		require.Equal(t, 0, r.code, r.String())
		assert.Contains(t, r.stdout, "jarvis", shell)
	}
	// Completion knows the kinds and the formats.
	r := run(nil, "__complete", "data", "export", "")
	require.Equal(t, 0, r.code, r.String())
	assert.Contains(t, r.stdout, "listener-activity")
	r = run(nil, "__complete", "data", "export", "metrics", "--format", "")
	assert.Contains(t, r.stdout, "jsonl")
}

func TestVersionAndConfig(t *testing.T) {
	t.Parallel()
	r := run(nil, "version")
	assert.Equal(t, 0, r.code)
	assert.Regexp(t, `^\d+\.\d+\.\d+\n$`, r.stdout)
	r = run(nil, "--version")
	assert.Equal(t, 0, r.code)
	assert.Regexp(t, `^\d+\.\d+\.\d+\n$`, r.stdout)

	r = run(nil, "config")
	assert.Equal(t, 0, r.code)
	assert.Regexp(t, `JARVIS_DATA_DIR\s+data_dir\s+data\s+`, r.stdout)
}

// Every --json output is camelCase, as the API's answers are.
func TestJSONOutputsAreCamelCase(t *testing.T) {
	t.Parallel()
	env := map[string]string{"JARVIS_DATA_DIR": t.TempDir()}
	require.Equal(t, 0, run(env, "keys", "create", "--user", "u", "--daily-quota", "3").code)
	require.Equal(t, 0, run(env, "users", "create", "--email", "u@example.com", "--link").code)
	outputs := map[string]result{}
	for _, args := range [][]string{
		{"config", "--json"}, {"keys", "list", "--json"}, {"usage", "--json"},
		{"data", "coverage", "--json"}, {"gpt"}, {"users", "list", "--json"}, {"oauth", "grants", "list", "--json"},
	} {
		r := run(env, args...)
		require.Equal(t, 0, r.code, r.String())
		outputs[strings.Join(args, " ")] = r
	}
	for name, r := range outputs {
		assertCamelCaseKeys(t, name, []byte(r.stdout))
	}
	assert.Contains(t, outputs["keys list --json"].stdout, `"dailyQuota": 3`)
	assert.Contains(t, outputs["users list --json"].stdout, `"createdAt"`)
}

func TestReadCommandsDoNotCreateADatabase(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(t.TempDir(), "elsewhere")
	env := map[string]string{"JARVIS_DATA_DIR": dataDir}
	for _, args := range [][]string{
		{"keys", "list"}, {"keys", "revoke", "aaaaaaaaaaaa"}, {"usage"}, {"data", "coverage"}, {"data", "export", "metrics"},
		{"users", "list"}, {"oauth", "grants", "list"}, {"oauth", "grants", "revoke", "gr_x"},
		{"oauth", "clients", "add-redirect", "cl_x", "https://example.com/cb"},
	} {
		r := run(env, args...)
		assert.Equal(t, exitFailure, r.code, r.String())
		assert.Contains(t, r.stderr, "no database at "+filepath.Join(dataDir, "jarvis.db"))
		assert.NoDirExists(t, dataDir)
	}
	// A command that writes creates it, and says so; the others then use it and say which.
	r := run(env, "keys", "create", "--user", "u")
	require.Equal(t, 0, r.code, r.String())
	assert.Contains(t, r.stderr, "using the sqlite database "+filepath.Join(dataDir, "jarvis.db")+" (new)")
	r = run(env, "keys", "list")
	require.Equal(t, 0, r.code, r.String())
	assert.Contains(t, r.stderr, "using the sqlite database "+filepath.Join(dataDir, "jarvis.db")+"\n")

	// The flags override the environment.
	other := t.TempDir()
	r = run(env, "--data-dir", other, "keys", "list")
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "no database at "+filepath.Join(other, "jarvis.db"))
	r = run(env, "keys", "list", "--database-url", "sqlite:"+filepath.Join(dataDir, "jarvis.db"), "--data-dir", other)
	assert.Equal(t, 0, r.code, r.String())
}

func TestConfigFileFlagAndEnvironment(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "jarvis.yaml")
	require.NoError(t, os.WriteFile(file, []byte("data_dir: state\npublic_url: https://jarvis.example.com\n"), 0o600))
	r := run(nil, "--config", file, "migrate")
	require.Equal(t, 0, r.code, r.String())
	assert.Contains(t, r.stdout, filepath.Join(dir, "state", "jarvis.db"), "relative to the file's folder")
	r = run(map[string]string{"JARVIS_CONFIG": file}, "openapi")
	require.Equal(t, 0, r.code, r.String())
	assert.Contains(t, r.stdout, "https://jarvis.example.com/integrations/chatgpt")

	require.NoError(t, os.WriteFile(file, []byte("adress: x\nlog_level: loud\n"), 0o600))
	r = run(map[string]string{"JARVIS_ENV": "staging"}, "--config", file, "keys", "list")
	assert.Equal(t, exitFailure, r.code)
	for _, want := range []string{`"adress" is not a setting`, `log_level (in ` + file + `)="loud"`, `JARVIS_ENV="staging"`} {
		assert.Contains(t, r.stderr, want)
	}
}
