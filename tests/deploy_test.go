package tests

import (
	"context"
	"debug/elf"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/app"
)

// loadCompose loads deploy/compose.yaml with compose-go, the loader behind docker compose: the
// file is checked against the Compose specification's schema and for consistency (every
// network, volume and dependency it names exists), variables are interpolated with env set,
// and each service's env files are read into its environment. The env files are the committed
// examples, in a copy of deploy/ beside the repository's Dockerfile.
func loadCompose(t *testing.T, env ...string) *types.Project {
	t.Helper()
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
	opts, err := cli.NewProjectOptions([]string{filepath.Join(deploy, "compose.yaml")}, cli.WithEnv(env))
	require.NoError(t, err)
	project, err := opts.LoadProject(context.Background())
	require.NoError(t, err, "deploy/compose.yaml")
	return project
}

func service(t *testing.T, p *types.Project, name string) types.ServiceConfig {
	t.Helper()
	s, ok := p.Services[name]
	require.True(t, ok, "service %s", name)
	return s
}

// environment is a service's resolved environment, its env files included.
func environment(s types.ServiceConfig) map[string]string {
	out := map[string]string{}
	for k, v := range s.Environment {
		if v != nil {
			out[k] = *v
		}
	}
	return out
}

// The compose stack is wired as the README says, whether or not Docker is here to run it.
func TestComposeStackWiring(t *testing.T) {
	t.Parallel()
	p := loadCompose(t)
	jarvis := service(t, p, "jarvis")
	assert.Equal(t, 2, jarvis.GetScale())
	assert.Empty(t, jarvis.Ports, "the replicas are reached through Caddy only")
	for _, name := range []string{"caddy", "postgres", "redis", "migrate"} {
		service(t, p, name)
	}
	assert.Equal(t, types.ServiceConditionCompletedSuccessfully, jarvis.DependsOn["migrate"].Condition,
		"the replicas start once the schema is up to date")
	assert.Equal(t, []string{"migrate"}, []string(service(t, p, "migrate").Command))

	// JARVIS_TRUSTED_PROXIES is Caddy's fixed address on the network it shares with the
	// replicas, outside the range Docker hands out to the others.
	caddy := service(t, p, "caddy")
	require.Contains(t, caddy.Networks, "edge")
	caddyIP := net.ParseIP(caddy.Networks["edge"].Ipv4Address)
	require.NotNil(t, caddyIP)
	settings := environment(jarvis)
	assert.Equal(t, caddyIP.String(), settings["JARVIS_TRUSTED_PROXIES"])
	assert.Contains(t, jarvis.Networks, "edge")
	edge := p.Networks["edge"].Ipam.Config
	require.Len(t, edge, 1)
	_, subnet, err := net.ParseCIDR(edge[0].Subnet)
	require.NoError(t, err)
	_, dynamic, err := net.ParseCIDR(edge[0].IPRange)
	require.NoError(t, err)
	assert.True(t, subnet.Contains(caddyIP))
	assert.False(t, dynamic.Contains(caddyIP))
	assert.True(t, p.Networks["backend"].Internal)
	for _, name := range []string{"postgres", "redis"} {
		s := service(t, p, name)
		assert.Empty(t, s.Ports, name)
		assert.Equal(t, []string{"backend"}, slices.Collect(maps.Keys(s.Networks)), "%s is on the internal network only", name)
	}
	var published []string
	for _, port := range caddy.Ports {
		published = append(published, fmt.Sprintf("%s:%d/%s", port.Published, port.Target, port.Protocol))
	}
	assert.ElementsMatch(t, []string{"443:443/tcp", "80:80/tcp", "443:443/udp"}, published)

	// The Caddyfile proxies to every replica of the service on the port the replicas listen on.
	caddyfile, err := os.ReadFile("../deploy/Caddyfile")
	require.NoError(t, err)
	_, port, err := net.SplitHostPort(settings["JARVIS_ADDR"])
	require.NoError(t, err)
	assert.Regexp(t, `dynamic a \{\s+name jarvis\s+port `+port+`\s`, string(caddyfile))

	// Secrets come from env files that are not committed; each has a committed example.
	var envFiles []string
	for name, s := range p.Services {
		for _, f := range s.EnvFiles {
			assert.True(t, bool(f.Required), "%s: %s", name, f.Path)
			base := filepath.Base(f.Path)
			envFiles = append(envFiles, base)
			assert.FileExists(t, filepath.Join("../deploy", base+".example"))
			if _, err := exec.LookPath("git"); err == nil {
				assert.NoError(t, exec.Command("git", "check-ignore", "-q", filepath.Join("../deploy", base)).Run(),
					"%s must be ignored by git", base)
			}
		}
	}
	assert.Contains(t, envFiles, "jarvis.env")

	// The replicas' settings, with the examples' values and the secrets make-env.sh writes, are
	// a valid production configuration that shares what replicas must share.
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
	pg := environment(service(t, p, "postgres"))
	assert.Contains(t, cfg.DatabaseURL, ":"+pg["POSTGRES_PASSWORD"]+"@", "the examples hold the same password")
}

// JARVIS_DOMAIN names the public host to Caddy and to the replicas alike.
func TestComposeDomain(t *testing.T) {
	t.Parallel()
	p := loadCompose(t, "JARVIS_DOMAIN=jarvis.example.com")
	assert.Equal(t, "https://jarvis.example.com", environment(service(t, p, "jarvis"))["JARVIS_PUBLIC_URL"])
	assert.Equal(t, "jarvis.example.com", environment(service(t, p, "caddy"))["JARVIS_DOMAIN"])
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

// docker compose itself, where its plugin is installed, agrees with the loader above.
func TestComposeConfig(t *testing.T) {
	t.Parallel()
	if err := exec.Command("docker", "compose", "version").Run(); err != nil {
		t.Skip("docker compose is not installed on this machine; TestComposeStackWiring loads the file with its loader")
	}
	p := loadCompose(t)
	out, err := exec.Command("docker", "compose", "-f", p.ComposeFiles[0], "config", "--quiet").CombinedOutput()
	require.NoError(t, err, "docker compose config:\n%s", out)
}

// dockerfileStage is the final stage of the Dockerfile, as the instructions the image's runtime
// depends on.
type dockerfileStage struct {
	env         map[string]string
	user        string
	healthcheck []string
	entrypoint  []string
	cmd         []string
	ldflags     string
}

func readDockerfile(t *testing.T) dockerfileStage {
	t.Helper()
	raw, err := os.ReadFile("../Dockerfile")
	require.NoError(t, err)
	text := strings.ReplaceAll(string(raw), "\\\n", " ")
	var st dockerfileStage
	execForm := func(s string) []string {
		var out []string
		require.NoError(t, json.Unmarshal([]byte(s), &out), "%q is not the exec form", s)
		return out
	}
	for _, line := range strings.Split(text, "\n") {
		inst, rest, _ := strings.Cut(strings.TrimSpace(line), " ")
		rest = strings.TrimSpace(rest)
		switch inst {
		case "FROM":
			st.env = map[string]string{}
		case "ENV":
			for _, kv := range strings.Fields(rest) {
				k, v, ok := strings.Cut(kv, "=")
				require.True(t, ok, "ENV %s", kv)
				st.env[k] = v
			}
		case "USER":
			st.user = rest
		case "HEALTHCHECK":
			_, form, ok := strings.Cut(rest, "CMD ")
			require.True(t, ok)
			st.healthcheck = execForm(form)
		case "ENTRYPOINT":
			st.entrypoint = execForm(rest)
		case "CMD":
			st.cmd = execForm(rest)
		case "RUN":
			if m := regexp.MustCompile(`-ldflags "([^"]*)"`).FindStringSubmatch(rest); m != nil {
				st.ldflags = m[1]
			}
		}
	}
	return st
}

// What the image runs, run without Docker: the binary built as the build stage builds it is
// static, and started as the final stage starts it (its user, its environment, an empty data
// directory of that user's) it serves, answers its own HEALTHCHECK, and stops cleanly on
// SIGTERM.
func TestImageRuntimeNatively(t *testing.T) {
	skipIfShort(t)
	t.Parallel()
	st := readDockerfile(t)
	require.NotEmpty(t, st.ldflags)
	dir, err := os.MkdirTemp("", "jarvis-image-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755))
	bin := filepath.Join(dir, "jarvis")
	ldflags := strings.ReplaceAll(st.ldflags, "${VERSION:+-X github.com/aidawg/jarvis/app.Version=$VERSION}",
		"-X github.com/aidawg/jarvis/app.Version=9.9.9")
	// As the build stage builds it, but for -trimpath, which only rewrites the file names kept in
	// the binary and would rebuild every package instead of reusing the tests' build cache.
	build := exec.Command("go", "build", "-ldflags", ldflags, "-o", bin, "github.com/aidawg/jarvis/cmd/jarvis")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build:\n%s", out)

	f, err := elf.Open(bin)
	require.NoError(t, err)
	for _, prog := range f.Progs {
		assert.NotEqual(t, elf.PT_INTERP, prog.Type, "a static binary needs no dynamic loader, which distroless/static lacks")
	}
	libs, err := f.ImportedLibraries()
	require.NoError(t, err)
	assert.Empty(t, libs)
	f.Close()

	// The user and its data directory, as the image has them; the user only when this test
	// may switch to it.
	var cred *syscall.Credential
	data := filepath.Join(dir, "data")
	require.NoError(t, os.Mkdir(data, 0o700))
	if os.Geteuid() == 0 {
		uid, gid, ok := strings.Cut(st.user, ":")
		require.True(t, ok, "USER %s names no group", st.user)
		u, err := strconv.Atoi(uid)
		require.NoError(t, err)
		g, err := strconv.Atoi(gid)
		require.NoError(t, err)
		require.NotZero(t, u, "the image runs as a user other than root")
		require.NoError(t, os.Chown(data, u, g))
		cred = &syscall.Credential{Uid: uint32(u), Gid: uint32(g)}
	}
	_, port, err := net.SplitHostPort(freeAddr(t))
	require.NoError(t, err)
	env := []string{"PATH=/usr/bin:/bin", "HOME=/nonexistent",
		"JARVIS_PUBLIC_URL=https://jarvis.example.com", "JARVIS_DEMO_DATA=off",
		"JARVIS_ARTIFACT_SECRET=" + strings.Repeat("ab", 32),
		"JARVIS_WEBHOOK_SECRET=whsec_" + strings.Repeat("QUJD", 11)}
	for k, v := range st.env {
		switch k {
		case "JARVIS_DATA_DIR":
			v = data
		case "JARVIS_ADDR":
			// docker run -p maps the image's port; here the image's address on a free port.
			host, _, err := net.SplitHostPort(v)
			require.NoError(t, err)
			v = net.JoinHostPort(host, port)
		}
		env = append(env, k+"="+v)
	}
	run := func(args []string) *exec.Cmd {
		require.Equal(t, "/usr/local/bin/jarvis", args[0])
		cmd := exec.Command(bin, args[1:]...)
		cmd.Env, cmd.Dir = env, "/"
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		return cmd
	}

	out, err = run([]string{"/usr/local/bin/jarvis", "version"}).CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Equal(t, "9.9.9\n", string(out))

	serve := run(append(st.entrypoint, st.cmd...))
	logs := &syncBuffer{}
	serve.Stdout, serve.Stderr = logs, logs
	require.NoError(t, serve.Start())
	t.Cleanup(func() {
		_ = serve.Process.Kill()
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	var health []byte
	deadline := time.Now().Add(30 * time.Second)
	for {
		health, err = run(st.healthcheck).CombinedOutput()
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	require.NoError(t, err, "HEALTHCHECK %v: %s", st.healthcheck, health)
	assert.FileExists(t, filepath.Join(data, "jarvis.db"))

	require.NoError(t, serve.Process.Signal(syscall.SIGTERM))
	assert.NoError(t, serve.Wait(), "SIGTERM stops the server cleanly")
}
