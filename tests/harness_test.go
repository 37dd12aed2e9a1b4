// Package tests drives a real Jarvis server on a loopback port through the generated client,
// and checks every response it receives against the contract.
package tests

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/app"
	"github.com/aidawg/jarvis/gen/client"
	"github.com/aidawg/jarvis/openapi"
)

// server is one running Jarvis.
type server struct {
	URL    string // scheme and host
	API    string // URL plus the base path
	Client *client.ClientWithResponses
	HTTP   *http.Client // validates every response against the contract
	Logs   *syncBuffer
	// DatabaseURL is the server's database, where tests create API keys.
	DatabaseURL string
}

// env is a set of JARVIS_* settings for one test server.
type env map[string]string

// startServer builds the real application from settings, serves it on 127.0.0.1:0 and stops it
// when the test ends.
func startServer(t *testing.T, settings env) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	base := "http://" + ln.Addr().String()

	dataDir := t.TempDir()
	vars := map[string]string{
		"JARVIS_ENV":          "development",
		"JARVIS_ADDR":         ln.Addr().String(),
		"JARVIS_PUBLIC_URL":   base,
		"JARVIS_LOG_LEVEL":    "debug",
		"JARVIS_DATA_DIR":     dataDir,
		"JARVIS_DATABASE_URL": "sqlite:" + dataDir + "/jarvis.db",
		// Tests that are not about limits call more often than the default limits allow.
		"JARVIS_RATE_LIMITS": "*=100000",
		// The demo artist is loaded only by the tests about it.
		"JARVIS_DEMO_DATA": "off",
	}
	for k, v := range settings {
		vars[k] = v
	}
	cfg, err := app.LoadConfig(func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
	require.NoError(t, err)

	logs := &syncBuffer{}
	a, err := app.New(cfg, zerolog.New(logs))
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(10 * time.Second):
			t.Error("server did not stop within 10s")
		}
		require.NoError(t, a.Close())
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})

	httpClient := &http.Client{Timeout: 30 * time.Second, Transport: newContractCheck(t, base)}
	c, err := client.NewClientWithResponses(base+openapi.BasePath, client.WithHTTPClient(httpClient))
	require.NoError(t, err)
	return &server{URL: base, API: base + openapi.BasePath, Client: c, HTTP: httpClient, Logs: logs,
		DatabaseURL: vars["JARVIS_DATABASE_URL"]}
}

// contractCheck is a transport that fails the test when a response to one of the contract's
// operations does not match the contract: an undeclared status, a declared header that is
// missing (the contract marks the ones always sent required) or off its schema, a wrong content
// type, or a body off its schema.
type contractCheck struct {
	t      *testing.T
	router routers.Router
	next   http.RoundTripper
}

var (
	checkDocOnce sync.Once
	checkDoc     *openapi3.T
	checkDocErr  error
)

func newContractCheck(t *testing.T, base string) *contractCheck {
	t.Helper()
	checkDocOnce.Do(func() { checkDoc, checkDocErr = openapi.LoadDoc() })
	require.NoError(t, checkDocErr)
	// Each server has its own address; route against a shallow copy naming it.
	doc := *checkDoc
	doc.Servers = openapi3.Servers{{URL: base + openapi.BasePath}}
	router, err := gorillamux.NewRouter(&doc)
	require.NoError(t, err)
	return &contractCheck{t: t, router: router, next: http.DefaultTransport}
}

func (cc *contractCheck) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil {
		var err error
		if reqBody, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	resp, err := cc.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	route, params, err := cc.router.FindRoute(req)
	if err != nil {
		return resp, nil // not an operation of the contract
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))

	checkReq := req.Clone(req.Context())
	checkReq.Body = io.NopCloser(bytes.NewReader(reqBody))
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: checkReq, PathParams: params, Route: route},
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{
			IncludeResponseStatus:   true,
			MultiError:              true,
			SchemaValidationOptions: openapi.SchemaValidationOptions(),
		},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		cc.t.Errorf("%s %s answered %d off contract: %v\nbody: %s", req.Method, req.URL.Path, resp.StatusCode, err, body)
	}
	return resp, nil
}

// syncBuffer collects a server's log for assertions.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
