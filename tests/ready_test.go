package tests

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// With a remote AI Dawg, /ready reports it; its outage is every replica's, so the server stays
// ready and says what failed.
func TestReadyReportsTheRemote(t *testing.T) {
	t.Parallel()
	ready := func(s *server) (int, map[string]any) {
		resp, err := http.Get(s.URL + "/ready")
		require.NoError(t, err)
		defer resp.Body.Close()
		var body map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
		return resp.StatusCode, body
	}

	up := startServer(t, fastRemote(startStandIn(t).URL))
	status, body := ready(up)
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, map[string]any{"database": "ok", "jobs": "ok", "aidawg": "ok"}, body["checks"])
	assert.Equal(t, []any{"aidawg"}, body["optional"])

	down := startServer(t, fastRemote("http://127.0.0.1:1"))
	status, body = ready(down)
	assert.Equal(t, http.StatusOK, status, "%v", body)
	assert.Equal(t, "ready", body["status"])
	checks, _ := body["checks"].(map[string]any)
	assert.NotEqual(t, "ok", checks["aidawg"])
	assert.NotEmpty(t, checks["aidawg"])
}
