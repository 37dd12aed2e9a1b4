package tests

import (
	"context"
	"io"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/gen/client"
	"github.com/aidawg/jarvis/handlers/aidawgapi/standin"
)

// The router's, the jobs' and the limiter's series appear at /metrics once calls used them.
func TestMetricsOfRouterJobsAndLimits(t *testing.T) {
	t.Parallel()
	remote := startStandIn(t)
	s := startServer(t, fastRemote(remote.URL))
	// Jobs on the embedded default, whose track needs no fetching.
	embedded := startServer(t, nil)

	v := businessRules(t, s)
	require.NotNil(t, v.JSON200, "status %d: %s", v.StatusCode(), v.Body)
	remote.Next(standin.Fault{Kind: standin.Status, Status: 503, RetryAfter: "0"})
	v = businessRules(t, s)
	require.NotNil(t, v.JSON200, "a 503 is retried: status %d: %s", v.StatusCode(), v.Body)

	gen, err := embedded.Client.GenerateMusicWithResponse(context.Background(), nil, client.GenerateMusicRequest{Prompt: "a metered sketch", Duration: ptr(5)})
	require.NoError(t, err)
	require.NotNil(t, gen.JSON200, "status %d: %s", gen.StatusCode(), gen.Body)

	text := metricsOf(t, s) + metricsOf(t, embedded)
	for _, series := range []string{
		`jarvis_aidawg_calls_total\{command="testing/[a-z-]+",outcome="ok",served_by="remote"\} 2`,
		`jarvis_aidawg_calls_total\{command="music/generate-music",outcome="ok",served_by="embedded"\} 1`,
		`jarvis_aidawg_remote_attempts_total\{module="testing",outcome="ok"\} 2`,
		`jarvis_aidawg_remote_attempts_total\{module="testing",outcome="unavailable"\} 1`,
		`jarvis_aidawg_circuit_state\{module="testing"\} 0`,
		`jarvis_jobs_queued_total\{type="music-generation"\} 1`,
		`jarvis_jobs_running\{type="music-generation"\} 0`,
		`jarvis_job_duration_seconds_count\{outcome="ok",type="music-generation"\} 1`,
		`jarvis_ratelimit_decisions_total\{class="music.generate",decision="allowed"\} 1`,
	} {
		assert.Regexp(t, regexp.MustCompile(`(?m)^`+series+`$`), text)
	}
}

func metricsOf(t *testing.T, s *server) string {
	t.Helper()
	resp, err := s.HTTP.Get(s.URL + "/metrics")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return string(body)
}
