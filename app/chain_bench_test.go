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
// id, access log and metrics, body limit, validation and the strict handler, as make bench-load
// drives it over loopback, without the network.
func BenchmarkChain(b *testing.B) {
	cfg, err := LoadConfig(lookupFrom(nil))
	require.NoError(b, err)
	a, err := New(cfg, zerolog.New(io.Discard).With().Timestamp().Logger())
	require.NoError(b, err)
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
		clear(w.header)
		w.status = 0
		h.ServeHTTP(w, req)
		if w.status != http.StatusNotImplemented && w.status != http.StatusOK {
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
