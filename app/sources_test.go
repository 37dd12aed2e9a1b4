package app

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/services"
)

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte(body), 0o600))
	return p
}

func TestLoadTakesTheFileThenTheEnvironmentThenFlags(t *testing.T) {
	dir := t.TempDir()
	file := writeFile(t, dir, "jarvis.yaml", `
addr: 127.0.0.1:4100
log_level: debug
data_dir: state
job_workers: 7
cors_origins: [https://a.example, https://b.example]
rate_limits:
  music.generate: 20
  jobs.read: 2000/1h
database_url: sqlite:/tmp/file.db
redis_prefix:
`)
	cfg, err := Load(Sources{File: file, Lookup: lookupFrom(map[string]string{
		"JARVIS_LOG_LEVEL":    "warn",
		"JARVIS_DATABASE_URL": "sqlite:/tmp/env.db",
		"JARVIS_JOB_WORKERS":  " ", // empty: not set, so the file's value stands
	}), Flags: []FlagValue{{Setting: "JARVIS_DATABASE_URL", Flag: "--database-url", Value: "sqlite:/tmp/flag.db"}}})
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:4100", cfg.Addr, "from the file")
	assert.Equal(t, "http://127.0.0.1:4100", cfg.PublicURL, "defaults follow the file's values")
	assert.Equal(t, "warn", cfg.LogLevel, "the environment overrides the file")
	assert.Equal(t, "sqlite:/tmp/flag.db", cfg.DatabaseURL, "a flag overrides the environment")
	assert.Equal(t, 7, cfg.JobWorkers)
	assert.Equal(t, filepath.Join(dir, "state"), cfg.DataDir, "a relative data dir of the file is the file's folder's")
	assert.Equal(t, []string{"https://a.example", "https://b.example"}, cfg.CORSOrigins)
	assert.Equal(t, services.Rate{Limit: 20, Period: time.Hour}, cfg.RateLimits["music.generate"])
	assert.Equal(t, services.Rate{Limit: 2000, Period: time.Hour}, cfg.RateLimits["jobs.read"])
	assert.Equal(t, "jarvis", cfg.RedisPrefix, "an empty value in the file is the default")
}

func TestLoadMakesTheDataDirAbsolute(t *testing.T) {
	cfg, err := Load(Sources{Lookup: lookupFrom(nil)})
	require.NoError(t, err)
	wd, err := os.Getwd()
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(wd, "data"), cfg.DataDir)

	cfg, err = Load(Sources{Lookup: lookupFrom(map[string]string{"JARVIS_DATABASE_URL": "sqlite:db/j.db"})})
	require.NoError(t, err)
	assert.Equal(t, "sqlite:"+filepath.Join(wd, "db", "j.db"), cfg.DatabaseURL)

	file := writeFile(t, t.TempDir(), "jarvis.yaml", "database_url: sqlite:j.db\n")
	cfg, err = Load(Sources{File: file, Lookup: lookupFrom(nil)})
	require.NoError(t, err)
	assert.Equal(t, "sqlite:"+filepath.Join(filepath.Dir(file), "j.db"), cfg.DatabaseURL)

	cfg, err = Load(Sources{Lookup: lookupFrom(map[string]string{"JARVIS_DATA_DIR": "/srv/a"}),
		Flags: []FlagValue{{Setting: "JARVIS_DATA_DIR", Flag: "--data-dir", Value: "/srv/b"}}})
	require.NoError(t, err)
	assert.Equal(t, "/srv/b", cfg.DataDir)
}

func TestLoadReportsEveryBadSettingOfTheFileByItsKey(t *testing.T) {
	file := writeFile(t, t.TempDir(), "jarvis.yaml", `
addr: "4000"
log_level: loud
adress: 127.0.0.1:4000
read_timeout: [1, 2]
body_limit: {a: 1}
env: development
`)
	_, err := Load(Sources{File: file, Lookup: lookupFrom(map[string]string{
		"JARVIS_WRITE_TIMEOUT": "5s",
		"JARVIS_ENV":           "staging",
	}), Flags: []FlagValue{{Setting: "JARVIS_DATABASE_URL", Flag: "--database-url", Value: "mysql://x"}}})
	require.Error(t, err)
	msg := err.Error()
	for _, want := range []string{
		`addr (in ` + file + `)="4000": want host:port`,
		`log_level (in ` + file + `)="loud"`,
		file + `: "adress" is not a setting`,
		`read_timeout (in ` + file + `)="1,2": want a positive duration`,
		file + `: body_limit: want a single value`,
		`JARVIS_WRITE_TIMEOUT=5s`,
		`JARVIS_ENV="staging"`, // the environment's value overrode the file's, and is named as the environment's
		`--database-url: want a postgres://`,
	} {
		assert.Contains(t, msg, want)
	}
	assert.NotContains(t, msg, "JARVIS_ADDR")
	assert.NotContains(t, msg, "JARVIS_LOG_LEVEL")
}

func TestLoadNamesAFileItCannotRead(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "none.yaml")
	_, err := Load(Sources{File: missing, Lookup: lookupFrom(nil)})
	assert.ErrorContains(t, err, "read the config file "+missing)
	bad := writeFile(t, t.TempDir(), "bad.yaml", "addr: [\n")
	_, err = Load(Sources{File: bad, Lookup: lookupFrom(nil)})
	assert.ErrorContains(t, err, "read the config file "+bad)
}

// The example file in the repository is a valid configuration.
func TestExampleConfigFileLoads(t *testing.T) {
	cfg, err := Load(Sources{File: "../jarvis.example.yaml", Lookup: lookupFrom(nil)})
	require.NoError(t, err)
	assert.Equal(t, "production", cfg.Env)
}
