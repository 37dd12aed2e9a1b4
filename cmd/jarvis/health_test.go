package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHealthAsksTheServerOfJarvisAddr(t *testing.T) {
	t.Parallel()
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/health" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(status)
	}))
	defer srv.Close()
	_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	require.NoError(t, err)

	// A server listening on every address is asked on loopback.
	r := run(map[string]string{"JARVIS_ADDR": "0.0.0.0:" + port}, "health")
	assert.Equal(t, 0, r.code, r.String())
	assert.Contains(t, r.stdout, "http://127.0.0.1:"+port+"/health: 200 OK")

	status = http.StatusServiceUnavailable
	r = run(map[string]string{"JARVIS_ADDR": "127.0.0.1:" + port}, "health")
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "not healthy")

	r = run(nil, "health", "--url", srv.URL+"/nowhere")
	assert.Equal(t, exitFailure, r.code)
	srv.Close()
	r = run(map[string]string{"JARVIS_ADDR": "127.0.0.1:" + port}, "health", "--timeout", "2s")
	assert.Equal(t, exitFailure, r.code)
}
