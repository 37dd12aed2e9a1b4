package tests

import (
	"bufio"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	yaml "go.yaml.in/yaml/v3"

	"github.com/aidawg/jarvis/app"
)

// composeFile is the part of deploy/compose.yaml the checks read.
type composeFile struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Command     []string          `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
		EnvFile     []struct {
			Path     string `yaml:"path"`
			Required bool   `yaml:"required"`
		} `yaml:"env_file"`
		Deploy struct {
			Replicas int `yaml:"replicas"`
		} `yaml:"deploy"`
		Ports    []string  `yaml:"ports"`
		Networks yaml.Node `yaml:"networks"`
	} `yaml:"services"`
	Networks map[string]struct {
		Internal bool `yaml:"internal"`
		IPAM     struct {
			Config []struct {
				Subnet  string `yaml:"subnet"`
				IPRange string `yaml:"ip_range"`
			} `yaml:"config"`
		} `yaml:"ipam"`
	} `yaml:"networks"`
}

func readCompose(t *testing.T) composeFile {
	t.Helper()
	raw, err := os.ReadFile("../deploy/compose.yaml")
	require.NoError(t, err)
	var c composeFile
	require.NoError(t, yaml.Unmarshal(raw, &c))
	return c
}

// readEnvFile reads KEY=VALUE lines, leaving out comments and empty values.
func readEnvFile(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	out := map[string]string{}
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		require.True(t, ok, "%s: %q is not KEY=VALUE", path, line)
		if v != "" {
			out[k] = v
		}
	}
	require.NoError(t, s.Err())
	return out
}

var composeVariable = regexp.MustCompile(`\$\{([A-Z_]+):-([^}]*)\}`)

// The compose stack is wired as the README says, whether or not Docker is here to run it.
func TestComposeStackWiring(t *testing.T) {
	t.Parallel()
	c := readCompose(t)
	jarvis, ok := c.Services["jarvis"]
	require.True(t, ok)
	assert.Equal(t, 2, jarvis.Deploy.Replicas)
	assert.Empty(t, jarvis.Ports, "the replicas are reached through Caddy only")
	for _, name := range []string{"caddy", "postgres", "redis", "migrate"} {
		assert.Contains(t, c.Services, name)
	}

	// JARVIS_TRUSTED_PROXIES is Caddy's fixed address on the network it shares with the
	// replicas, outside the range Docker hands out to the others.
	var caddyNets map[string]struct {
		IPv4 string `yaml:"ipv4_address"`
	}
	caddy := c.Services["caddy"]
	require.NoError(t, caddy.Networks.Decode(&caddyNets))
	caddyIP := net.ParseIP(caddyNets["edge"].IPv4)
	require.NotNil(t, caddyIP)
	assert.Equal(t, caddyIP.String(), jarvis.Environment["JARVIS_TRUSTED_PROXIES"])
	edge := c.Networks["edge"].IPAM.Config
	require.Len(t, edge, 1)
	_, subnet, err := net.ParseCIDR(edge[0].Subnet)
	require.NoError(t, err)
	_, dynamic, err := net.ParseCIDR(edge[0].IPRange)
	require.NoError(t, err)
	assert.True(t, subnet.Contains(caddyIP))
	assert.False(t, dynamic.Contains(caddyIP))
	assert.True(t, c.Networks["backend"].Internal)
	assert.ElementsMatch(t, []string{"443:443", "80:80", "443:443/udp"}, caddy.Ports)

	// The Caddyfile proxies to every replica of the service on the port the replicas listen on.
	caddyfile, err := os.ReadFile("../deploy/Caddyfile")
	require.NoError(t, err)
	_, port, err := net.SplitHostPort(jarvis.Environment["JARVIS_ADDR"])
	require.NoError(t, err)
	assert.Regexp(t, `dynamic a \{\s+name jarvis\s+port `+port+`\s`, string(caddyfile))

	// Secrets come from env files that are not committed; each has a committed example.
	var envFiles []string
	for name, s := range c.Services {
		for _, f := range s.EnvFile {
			assert.True(t, f.Required, "%s: %s", name, f.Path)
			envFiles = append(envFiles, f.Path)
			assert.FileExists(t, filepath.Join("../deploy", f.Path+".example"))
			if _, err := exec.LookPath("git"); err == nil {
				assert.NoError(t, exec.Command("git", "check-ignore", "-q", filepath.Join("../deploy", f.Path)).Run(),
					"%s must be ignored by git", f.Path)
			}
		}
	}
	assert.Contains(t, envFiles, "jarvis.env")

	// The replicas' settings, with the examples' values and the secrets make-env.sh writes, are
	// a valid production configuration that shares what replicas must share.
	settings := readEnvFile(t, "../deploy/jarvis.env.example")
	for k, v := range jarvis.Environment {
		settings[k] = composeVariable.ReplaceAllString(v, "$2")
	}
	settings["JARVIS_ARTIFACT_SECRET"] = strings.Repeat("ab", 32)
	settings["JARVIS_WEBHOOK_SECRET"] = "whsec_" + strings.Repeat("QUJD", 11)
	for k := range settings {
		known := false
		for _, s := range app.Settings {
			known = known || s.Name == k
		}
		assert.True(t, known, "%s is no setting", k)
	}
	cfg, err := app.LoadConfig(func(k string) (string, bool) { v, ok := settings[k]; return v, ok })
	require.NoError(t, err)
	assert.Equal(t, "production", cfg.Env)
	assert.True(t, strings.HasPrefix(cfg.DatabaseURL, "postgres://"), "replicas share PostgreSQL")
	assert.Contains(t, cfg.DatabaseURL, "@postgres:5432/")
	assert.Equal(t, "redis://redis:6379/0", cfg.RedisURL, "replicas share their rate limits in Redis")
	assert.Equal(t, "https://localhost", cfg.PublicURL)
	pg := readEnvFile(t, "../deploy/postgres.env.example")
	assert.Contains(t, cfg.DatabaseURL, ":"+pg["POSTGRES_PASSWORD"]+"@", "the examples hold the same password")
}

func TestDockerfile(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../Dockerfile")
	require.NoError(t, err)
	d := string(raw)
	assert.Contains(t, d, "CGO_ENABLED=0")
	stages := regexp.MustCompile(`(?m)^FROM (\S+)`).FindAllStringSubmatch(d, -1)
	require.GreaterOrEqual(t, len(stages), 2, "multi-stage")
	assert.Regexp(t, `^(gcr\.io/distroless/static|scratch)`, stages[len(stages)-1][1])
	assert.Regexp(t, `(?m)^USER 65532`, d)
	assert.Regexp(t, `(?m)^\s+CMD \["/usr/local/bin/jarvis", "health"`, d, "HEALTHCHECK without curl")
}

// dockerDaemon skips the test when no Docker daemon answers. It is not one of the services
// JARVIS_TEST_REQUIRE_SERVICES demands.
func dockerDaemon(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("docker"); err != nil {
		t.Skip("no docker command on this machine; the image is built where Docker is installed")
	}
	out, err := exec.Command("docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput()
	if err != nil {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		t.Skipf("no Docker daemon reachable (docker info: %s); the image is built where one runs", lines[len(lines)-1])
	}
}

func TestDockerImage(t *testing.T) {
	skipIfShort(t)
	dockerDaemon(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	tag := "jarvis:test-" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))
	out, err := exec.CommandContext(ctx, "docker", "build", "-t", tag, "--build-arg", "VERSION=9.9.9", "..").CombinedOutput()
	require.NoError(t, err, "docker build:\n%s", out)
	t.Cleanup(func() { _ = exec.Command("docker", "image", "rm", "-f", tag).Run() })

	out, err = exec.CommandContext(ctx, "docker", "run", "--rm", tag, "version").CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Equal(t, "9.9.9\n", string(out))
	out, err = exec.CommandContext(ctx, "docker", "image", "inspect", "--format", "{{.Config.User}} {{json .Config.Healthcheck.Test}}", tag).CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Equal(t, `65532:65532 ["CMD","/usr/local/bin/jarvis","health","--timeout","4s"]`, strings.TrimSpace(string(out)))
}

// docker compose config needs no daemon, only the compose plugin.
func TestComposeConfig(t *testing.T) {
	t.Parallel()
	if err := exec.Command("docker", "compose", "version").Run(); err != nil {
		t.Skip("docker compose is not installed on this machine")
	}
	// The env files are the examples, in a copy of deploy/ beside the repository's Dockerfile.
	dir := t.TempDir()
	deploy := filepath.Join(dir, "deploy")
	require.NoError(t, os.Mkdir(deploy, 0o700))
	for _, f := range [][2]string{{"compose.yaml", "compose.yaml"}, {"Caddyfile", "Caddyfile"},
		{"jarvis.env.example", "jarvis.env"}, {"postgres.env.example", "postgres.env"}} {
		raw, err := os.ReadFile(filepath.Join("../deploy", f[0]))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(deploy, f[1]), raw, 0o600))
	}
	wd, err := os.Getwd()
	require.NoError(t, err)
	require.NoError(t, os.Symlink(filepath.Join(wd, "../Dockerfile"), filepath.Join(dir, "Dockerfile")))
	out, err := exec.Command("docker", "compose", "-f", filepath.Join(deploy, "compose.yaml"), "config", "--quiet").CombinedOutput()
	require.NoError(t, err, "docker compose config:\n%s", out)
}
