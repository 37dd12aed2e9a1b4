package app

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type readyBody struct {
	Status   string            `json:"status"`
	Checks   map[string]string `json:"checks"`
	Optional []string          `json:"optional"`
}

func getReady(t *testing.T, url string) (int, readyBody) {
	t.Helper()
	resp, err := http.Get(url + "/ready")
	require.NoError(t, err)
	defer resp.Body.Close()
	var b readyBody
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&b))
	return resp.StatusCode, b
}

// /ready names each dependency, and turns 503 the moment the drain starts, while the listener
// still answers, until the drain delay is over.
func TestReadyReportsDependenciesAndTheDrain(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	dir := t.TempDir()
	cfg, err := LoadConfig(lookupFrom(map[string]string{
		"JARVIS_ENV": "development", "JARVIS_ADDR": ln.Addr().String(), "JARVIS_DATA_DIR": dir,
		"JARVIS_DEMO_DATA": "off", "JARVIS_DRAIN_DELAY": "2s",
	}))
	require.NoError(t, err)
	a, err := New(cfg, zerolog.Nop())
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, a.Close()) })

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln) }()
	url := "http://" + ln.Addr().String()

	status, body := getReady(t, url)
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, readyBody{Status: "ready", Checks: map[string]string{"database": "ok", "jobs": "ok"}, Optional: []string{}}, body)

	start := time.Now()
	cancel()
	for {
		status, body = getReady(t, url)
		if status == http.StatusServiceUnavailable {
			break
		}
		require.Less(t, time.Since(start), time.Second, "/ready still %d after the drain began", status)
	}
	assert.Equal(t, "draining", body.Status)
	assert.Equal(t, "ok", body.Checks["database"], "the dependencies are still reported")
	resp, err := http.Get(url + "/health")
	require.NoError(t, err, "the listener still serves while draining")
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	select {
	case err := <-done:
		require.NoError(t, err)
		assert.GreaterOrEqual(t, time.Since(start), 2*time.Second, "the listener stays open for the drain delay")
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after the drain")
	}
	_, err = http.Get(url + "/health")
	assert.Error(t, err, "the listener is closed after the drain")
}
