package app

import (
	"bytes"
	"io"
	"net/http"
	"testing"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"
)

// BenchmarkChain is one call through the whole in-process chain as served: recover, request
// id, access log and metrics, security headers, body limit, authentication, usage metering,
// rate limit, scope check, memory of the user, idempotency, validation and the strict handler,
// as make bench-load drives it over loopback, without the network.
func BenchmarkChain(b *testing.B) {
	const token = "chain-benchmark-bootstrap-token-0123456789"
	cfg, err := LoadConfig(lookupFrom(map[string]string{
		"JARVIS_ENV": "production", "JARVIS_AUTH_TOKEN": token, "JARVIS_RATE_LIMITS": "*=1000000000",
		"JARVIS_DATA_DIR": b.TempDir(),
	}))
	require.NoError(b, err)
	a, err := New(cfg, zerolog.New(io.Discard).With().Timestamp().Logger())
	require.NoError(b, err)
	b.Cleanup(func() { a.Close() })
	h := a.Handler()
	body := []byte(`{"validationType":"config"}`)
	w := &discardResponse{header: http.Header{}}

	b.ReportAllocs()
	for b.Loop() {
		req, err := http.NewRequest(http.MethodPost, "http://127.0.0.1:4000/integrations/chatgpt/actions/testing/validate", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		clear(w.header)
		w.status = 0
		h.ServeHTTP(w, req)
		if w.status != http.StatusOK {
			b.Fatalf("status %d", w.status)
		}
	}
}

type discardResponse struct {
	header http.Header
	status int
}

func (w *discardResponse) Header() http.Header         { return w.header }
func (w *discardResponse) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardResponse) WriteHeader(status int)      { w.status = status }
