package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDataCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := map[string]string{"JARVIS_DATA_DIR": dir}
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(body), 0o600))
		return p
	}

	bad := write("bad.csv", "name,date,monthly_listeners\nRival,2026-01-01,10\nRival,2026-13-01,10\n")
	r := run(env, "data", "import", "competitors", bad)
	require.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stdout, "2 rows read, 0 inserted, 0 updated, 0 unchanged, 1 rejected")
	assert.Contains(t, r.stdout, `3     date    "2026-13-01" is not a date such as 2026-03-01`)

	good := write("good.jsonl", `{"name":"Rival","date":"2026-01-01","monthly_listeners":10}`+"\n")
	r = run(env, "data", "import", "competitors", good, "--tenant", "t1")
	require.Equal(t, 0, r.code, r.String())
	assert.Contains(t, r.stdout, "1 rows read, 1 inserted")
	r = run(env, "data", "export", "competitors", "--tenant", "t1", "--format", "jsonl")
	require.Equal(t, 0, r.code, r.String())
	assert.Equal(t, `{"name":"Rival","date":"2026-01-01","monthly_listeners":10}`+"\n", r.stdout)

	r = run(env, "data", "import", "--format", "csv", "competitors", write("again.txt", "name,date,monthly_listeners\nRival,2026-01-01,10\n"), "--tenant", "t1", "--json")
	require.Equal(t, 0, r.code, r.String())
	assert.JSONEq(t, `{"kind":"competitors","format":"csv","read":1,"inserted":0,"updated":0,"unchanged":1,"rejected":0,"errors":[]}`, r.stdout)

	r = run(env, "data", "coverage", "--tenant", "t1")
	require.Equal(t, 0, r.code, r.String())
	assert.Contains(t, r.stdout, "Tenant t1, dataset imported")

	r = run(env, "data", "import", "songs", good)
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, `"songs" is not a kind`)
	r = run(env, "data", "import", "competitors", write("x.xml", ""))
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, `"xml" is not a format`)
}
