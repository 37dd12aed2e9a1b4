package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDataCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	lookup := func(k string) (string, bool) {
		if k == "JARVIS_DATA_DIR" {
			return dir, true
		}
		return "", false
	}
	run := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := dataCommand(args, lookup, &out, &errOut)
		return out.String() + errOut.String(), err
	}
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(body), 0o600))
		return p
	}

	bad := write("bad.csv", "name,date,monthly_listeners\nRival,2026-01-01,10\nRival,2026-13-01,10\n")
	out, err := run("import", "competitors", bad)
	require.Error(t, err)
	assert.Contains(t, out, "2 rows read, 0 inserted, 0 updated, 0 unchanged, 1 rejected")
	assert.Contains(t, out, `3     date    "2026-13-01" is not a date such as 2026-03-01`)

	good := write("good.jsonl", `{"name":"Rival","date":"2026-01-01","monthly_listeners":10}`+"\n")
	out, err = run("import", "competitors", good, "--tenant", "t1")
	require.NoError(t, err, out)
	assert.Contains(t, out, "1 rows read, 1 inserted")
	out, err = run("export", "competitors", "--tenant", "t1", "--format", "jsonl")
	require.NoError(t, err, out)
	assert.Equal(t, `{"name":"Rival","date":"2026-01-01","monthly_listeners":10}`+"\n", out)

	out, err = run("import", "competitors", write("again.txt", "name,date,monthly_listeners\nRival,2026-01-01,10\n"), "--format", "csv", "--tenant", "t1")
	require.NoError(t, err, out)
	assert.Contains(t, out, "1 rows read, 0 inserted, 0 updated, 1 unchanged")

	out, err = run("coverage", "--tenant", "t1")
	require.NoError(t, err, out)
	assert.Contains(t, out, "Tenant t1, dataset imported")

	_, err = run("import", "songs", good)
	assert.ErrorContains(t, err, `"songs" is not a kind`)
	_, err = run("import", "competitors", write("x.xml", ""))
	assert.ErrorContains(t, err, `"xml" is not a format`)
}
