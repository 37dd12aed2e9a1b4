package tests

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/app"
	"github.com/aidawg/jarvis/gen/client"
	"github.com/aidawg/jarvis/handlers/aidawgapi/standin"
	"github.com/aidawg/jarvis/services/tenantdata"
)

// startStandIn serves the embedded modules Jarvis ships, behind the fault injector.
func startStandIn(t *testing.T) *standin.StandIn {
	t.Helper()
	cfg := standaloneConfig(t, "http://127.0.0.1:1")
	db, _, err := app.OpenDatabase(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	rt, err := app.EmbeddedModules(cfg, zerolog.Nop(), tenantdata.NewStore(db))
	require.NoError(t, err)
	return standin.Start(t, rt)
}

// standaloneConfig is the configuration of embedded modules served on their own at publicURL,
// keeping their files in a directory of the test's.
func standaloneConfig(t *testing.T, publicURL string) app.Config {
	t.Helper()
	vars := map[string]string{"JARVIS_DATA_DIR": t.TempDir(), "JARVIS_PUBLIC_URL": publicURL}
	cfg, err := app.LoadConfig(func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
	require.NoError(t, err)
	return cfg
}

// fastRemote are settings for a remote AI Dawg with short waits, so that failures take
// milliseconds.
func fastRemote(url string) env {
	return env{
		"JARVIS_AIDAWG_URL":              url,
		"JARVIS_AIDAWG_TIMEOUT":          "300ms",
		"JARVIS_AIDAWG_BUDGET":           "3s",
		"JARVIS_AIDAWG_BACKOFF":          "1ms",
		"JARVIS_AIDAWG_BACKOFF_MAX":      "5ms",
		"JARVIS_AIDAWG_MAX_RESPONSE":     "64K",
		"JARVIS_AIDAWG_BREAKER_FAILURES": "1000",
	}
}

func businessRules(t *testing.T, s *server) *client.RunValidationResponse {
	t.Helper()
	resp, err := s.Client.RunValidationWithResponse(context.Background(),
		client.ValidationRequest{ValidationType: client.ValidationRequestValidationTypeBusinessRules})
	require.NoError(t, err)
	return resp
}

func problemOf(t *testing.T, body []byte) client.Problem {
	t.Helper()
	var p client.Problem
	require.NoError(t, json.Unmarshal(body, &p), "body: %s", body)
	return p
}

func checksByName(h *client.HealthReport) map[string]client.HealthCheck {
	out := map[string]client.HealthCheck{}
	for _, c := range h.Checks {
		out[c.Name] = c
	}
	return out
}

// With no remote configured, the embedded modules serve, and the testing module says so.
func TestTestingModuleOnTheEmbeddedDefault(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	ctx := context.Background()

	v := businessRules(t, s)
	require.NotNil(t, v.JSON200, "status %d: %s", v.StatusCode(), v.Body)
	assert.Equal(t, client.Embedded, v.JSON200.Meta.ServedBy)
	assert.True(t, v.JSON200.Validation.Valid)

	h, err := s.Client.RunHealthChecksWithResponse(ctx, client.HealthCheckRequest{})
	require.NoError(t, err)
	require.NotNil(t, h.JSON200, "status %d: %s", h.StatusCode(), h.Body)
	checks := checksByName(&h.JSON200.Health)
	assert.Equal(t, client.Healthy, h.JSON200.Health.Status)
	require.Contains(t, checks, "embedded-modules")
	assert.Equal(t, client.HealthCheckScopeServices, checks["embedded-modules"].Scope)
	assert.Contains(t, checks["embedded-modules"].Detail, "testing 2 of 2")
	assert.NotContains(t, checks, "aidawg-remote")
	require.NotNil(t, h.JSON200.Health.Metrics, "includeMetrics defaults to true")
	assert.GreaterOrEqual(t, h.JSON200.Health.Metrics.Requests.Total, 1, "the validation call above is counted")
	assert.Equal(t, client.Jarvis, h.JSON200.Meta.ServedBy)

	noMetrics := false
	deps := client.HealthCheckRequestScopeDependencies
	h, err = s.Client.RunHealthChecksWithResponse(ctx, client.HealthCheckRequest{IncludeMetrics: &noMetrics, Scope: &deps})
	require.NoError(t, err)
	require.NotNil(t, h.JSON200)
	assert.Nil(t, h.JSON200.Health.Metrics)
	assert.Empty(t, h.JSON200.Health.Checks, "no remote: nothing in scope dependencies")

	info, err := s.Client.GetIntegrationInfoWithResponse(ctx)
	require.NoError(t, err)
	available := map[string]bool{}
	for _, m := range info.JSON200.Modules {
		for _, o := range m.Operations {
			available[o.OperationId] = o.Available != nil && *o.Available
		}
	}
	assert.True(t, available["runHealthChecks"])
	assert.True(t, available["runValidation"])

	// runValidation's api checks and getIntegrationInfo agree on what answers 501.
	api, err := s.Client.RunValidationWithResponse(ctx, client.ValidationRequest{ValidationType: client.ValidationRequestValidationTypeApi})
	require.NoError(t, err)
	require.NotNil(t, api.JSON200)
	issues := map[string]client.ValidationIssue{}
	for _, is := range api.JSON200.Validation.Issues {
		issues[is.Check] = is
	}
	for id, ok := range available {
		is, reported := issues["operation:"+id]
		assert.Equal(t, !ok, reported, "%s: available %v", id, ok)
		if reported {
			assert.Equal(t, client.ValidationIssueSeverityWarning, is.Severity)
			assert.Contains(t, is.Message, "501")
		}
	}
	assert.Len(t, available, len(wantOperations))
	assert.NotContains(t, issues, "jarvis-contract")
	assert.NotContains(t, issues, "aidawg-contract")
	assert.True(t, api.JSON200.Validation.Valid)
	assert.Equal(t, len(wantOperations)+2, api.JSON200.Validation.ChecksRun)

	critical := client.ValidationRequestSeverityCritical
	all, err := s.Client.RunValidationWithResponse(ctx, client.ValidationRequest{ValidationType: client.ValidationRequestValidationTypeAll, Severity: &critical})
	require.NoError(t, err)
	require.NotNil(t, all.JSON200)
	assert.Empty(t, all.JSON200.Validation.Issues, "severity critical leaves the warnings out")
	assert.True(t, all.JSON200.Validation.Valid)
}

func TestRemoteServesAndSaysSo(t *testing.T) {
	t.Parallel()
	a := startStandIn(t)
	s := startServer(t, fastRemote(a.URL))

	v := businessRules(t, s)
	require.NotNil(t, v.JSON200, "status %d: %s", v.StatusCode(), v.Body)
	assert.Equal(t, client.Remote, v.JSON200.Meta.ServedBy)
	assert.Equal(t, 1, a.Executes())

	h, err := s.Client.RunHealthChecksWithResponse(context.Background(), client.HealthCheckRequest{})
	require.NoError(t, err)
	require.NotNil(t, h.JSON200)
	remote := checksByName(&h.JSON200.Health)["aidawg-remote"]
	assert.Equal(t, client.Healthy, remote.Status, remote.Detail)
	assert.Equal(t, client.HealthCheckScopeDependencies, remote.Scope)
	assert.Contains(t, remote.Detail, "all circuits closed")
	assert.Equal(t, client.Healthy, h.JSON200.Health.Status)
	assert.Equal(t, 1, a.HealthCalls())
}

// Each failure of the remote, with no fallback, reaches the caller as the problem the model
// can act on, after the attempts its kind deserves.
func TestRemoteFailuresAnswerProblems(t *testing.T) {
	t.Parallel()
	a := startStandIn(t)
	settings := fastRemote(a.URL)
	settings["JARVIS_AIDAWG_FALLBACK"] = "none"
	s := startServer(t, settings)

	cases := []struct {
		name       string
		fault      standin.Fault
		status     int
		code       string
		attempts   int
		retryAfter int
	}{
		{"503 with Retry-After", standin.Fault{Kind: standin.Status, Status: 503, RetryAfter: "7"}, 503, "unavailable", 1, 7},
		{"503", standin.Fault{Kind: standin.Status, Status: 503}, 503, "unavailable", 3, 5},
		{"429", standin.Fault{Kind: standin.Status, Status: 429, RetryAfter: "0"}, 503, "unavailable", 3, 5},
		{"connection dropped", standin.Fault{Kind: standin.Drop}, 503, "unavailable", 3, 5},
		{"too slow", standin.Fault{Kind: standin.Delay, Delay: 10 * time.Second}, 504, "timeout", 3, 0},
		{"504", standin.Fault{Kind: standin.Status, Status: 504}, 504, "timeout", 3, 0},
		{"502", standin.Fault{Kind: standin.Status, Status: 502}, 502, "bad_gateway", 3, 0},
		{"malformed JSON", standin.Fault{Kind: standin.Malformed}, 502, "bad_gateway", 1, 0},
		{"oversize answer", standin.Fault{Kind: standin.Oversize, Size: 100_000}, 502, "bad_gateway", 1, 0},
		{"result off the contract", standin.Fault{Kind: standin.OffContract}, 502, "bad_gateway", 1, 0},
		{"EXECUTION_FAILED", standin.Fault{Kind: standin.Failure, Code: "EXECUTION_FAILED"}, 502, "bad_gateway", 1, 0},
		{"ACTION_NOT_FOUND", standin.Fault{Kind: standin.Failure, Code: "ACTION_NOT_FOUND"}, 501, "not_implemented", 1, 0},
		// Jarvis made these params, so the caller cannot correct them.
		{"INVALID_PARAMS", standin.Fault{Kind: standin.Failure, Code: "INVALID_PARAMS"}, 502, "bad_gateway", 1, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a.Always(tc.fault)
			defer a.Reset()
			before := a.Executes()
			start := time.Now()
			v := businessRules(t, s)
			took := time.Since(start)

			require.Equal(t, tc.status, v.StatusCode(), "body: %s", v.Body)
			assert.Equal(t, "application/problem+json", v.HTTPResponse.Header.Get("Content-Type"))
			p := problemOf(t, v.Body)
			assert.Equal(t, tc.code, p.Code, p.Detail)
			assert.Contains(t, p.Detail, "testing/run-validation")
			assert.Equal(t, v.HTTPResponse.Header.Get("X-Request-ID"), *p.RequestId)
			assert.Equal(t, tc.attempts, a.Executes()-before, "attempts")
			if tc.retryAfter > 0 {
				require.NotNil(t, p.RetryAfter)
				assert.Equal(t, tc.retryAfter, *p.RetryAfter)
				assert.Equal(t, strconv.Itoa(tc.retryAfter), v.HTTPResponse.Header.Get("Retry-After"))
			}
			assert.Less(t, took, 10*time.Second, "within the budget, far inside ChatGPT's 45s")
		})
	}
}

// While the remote fails, the embedded modules stand in, the answer says so, and the health
// report shows what is wrong without calling the whole service down.
func TestFallbackThroughJarvis(t *testing.T) {
	t.Parallel()
	a := startStandIn(t)
	settings := fastRemote(a.URL)
	settings["JARVIS_AIDAWG_BREAKER_FAILURES"] = "3"
	settings["JARVIS_AIDAWG_BREAKER_COOLDOWN"] = "1m"
	s := startServer(t, settings)
	a.Always(standin.Fault{Kind: standin.Status, Status: 503, RetryAfter: "0"})

	v := businessRules(t, s)
	require.NotNil(t, v.JSON200, "status %d: %s", v.StatusCode(), v.Body)
	assert.Equal(t, client.Embedded, v.JSON200.Meta.ServedBy)
	assert.Equal(t, 3, a.Executes(), "the remote was tried first")

	v = businessRules(t, s)
	require.NotNil(t, v.JSON200)
	assert.Equal(t, client.Embedded, v.JSON200.Meta.ServedBy)
	assert.Equal(t, 3, a.Executes(), "the open circuit keeps Jarvis from calling")
	assert.Contains(t, s.Logs.String(), "the embedded module serves the command")

	h, err := s.Client.RunHealthChecksWithResponse(context.Background(), client.HealthCheckRequest{})
	require.NoError(t, err)
	require.NotNil(t, h.JSON200)
	remote := checksByName(&h.JSON200.Health)["aidawg-remote"]
	assert.Equal(t, client.Down, remote.Status, remote.Detail)
	assert.Equal(t, client.Degraded, h.JSON200.Health.Status, "the fallback carries on: degraded, not down")
}

// Without a fallback, an open circuit fails fast with Retry-After, and a recovered backend
// is called again after the cooldown.
func TestBreakerThroughJarvis(t *testing.T) {
	t.Parallel()
	a := startStandIn(t)
	settings := fastRemote(a.URL)
	settings["JARVIS_AIDAWG_FALLBACK"] = "none"
	settings["JARVIS_AIDAWG_ATTEMPTS"] = "1"
	settings["JARVIS_AIDAWG_BREAKER_FAILURES"] = "2"
	settings["JARVIS_AIDAWG_BREAKER_COOLDOWN"] = "500ms"
	s := startServer(t, settings)

	a.Always(standin.Fault{Kind: standin.Drop})
	for range 2 {
		assert.Equal(t, http.StatusServiceUnavailable, businessRules(t, s).StatusCode())
	}
	require.Equal(t, 2, a.Executes())
	v := businessRules(t, s)
	require.Equal(t, http.StatusServiceUnavailable, v.StatusCode())
	p := problemOf(t, v.Body)
	assert.Contains(t, p.Detail, "testing module is failing")
	require.NotNil(t, p.RetryAfter)
	assert.GreaterOrEqual(t, *p.RetryAfter, 1)
	assert.Equal(t, 2, a.Executes(), "failed fast")

	h, err := s.Client.RunHealthChecksWithResponse(context.Background(), client.HealthCheckRequest{})
	require.NoError(t, err)
	require.NotNil(t, h.JSON200)
	assert.Equal(t, client.Down, h.JSON200.Health.Status, "no fallback: the remote is critical")

	a.Reset()
	h, err = s.Client.RunHealthChecksWithResponse(context.Background(), client.HealthCheckRequest{})
	require.NoError(t, err)
	remote := checksByName(&h.JSON200.Health)["aidawg-remote"]
	assert.Equal(t, client.Degraded, remote.Status, "the backend answers but the circuit is still open")
	assert.Contains(t, remote.Detail, "testing open")

	deadline := time.Now().Add(10 * time.Second)
	for {
		v = businessRules(t, s)
		if v.JSON200 != nil {
			break
		}
		require.True(t, time.Now().Before(deadline), "the circuit did not close again")
		time.Sleep(50 * time.Millisecond)
	}
	assert.Equal(t, client.Remote, v.JSON200.Meta.ServedBy)
}

// jarvis aidawg serve's server stands in for the backend: Jarvis calls it as its remote.
func TestAidawgServeStandsInForTheBackend(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	cfg := standaloneConfig(t, "http://"+ln.Addr().String())
	cfg.SSRFAllow = []string{"127.0.0.1/32"}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.ServeEmbeddedModules(ctx, ln, cfg, zerolog.Nop()) }()

	// Both sides fetch from loopback here: Jarvis the backend's audio, the backend the upload.
	s := startServer(t, env{"JARVIS_AIDAWG_URL": "http://" + ln.Addr().String(), "JARVIS_AIDAWG_FALLBACK": "none",
		"JARVIS_SSRF_ALLOW": "127.0.0.1/32"})
	v := businessRules(t, s)
	require.NotNil(t, v.JSON200, "status %d: %s", v.StatusCode(), v.Body)
	assert.Equal(t, client.Remote, v.JSON200.Meta.ServedBy)

	// A track made by the remote backend: its audio is fetched from the backend's own link and
	// kept as the job's artifact, downloadable from Jarvis.
	gen, err := s.Client.GenerateMusicWithResponse(context.Background(), nil, client.GenerateMusicRequest{Prompt: "made elsewhere", Duration: ptr(5)})
	require.NoError(t, err)
	require.NotNil(t, gen.JSON200, "status %d: %s", gen.StatusCode(), gen.Body)
	assert.Equal(t, client.Remote, gen.JSON200.Meta.ServedBy)
	require.NotNil(t, gen.JSON200.Track.Audio)
	assert.True(t, strings.HasPrefix(gen.JSON200.Track.Audio.Url, s.URL+"/artifacts/"), gen.JSON200.Track.Audio.Url)
	dl, err := http.Get(gen.JSON200.Track.Audio.Url)
	require.NoError(t, err)
	wav, _ := io.ReadAll(dl.Body)
	dl.Body.Close()
	assert.Equal(t, http.StatusOK, dl.StatusCode)
	assert.Equal(t, "RIFF", string(wav[:4]))

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("the AI Dawg server did not stop")
	}
}
