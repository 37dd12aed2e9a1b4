package tests

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/gen/client"
	"github.com/aidawg/jarvis/openapi"
	"github.com/aidawg/jarvis/services/storage/storagetest"
)

var (
	binaryOnce sync.Once
	binaryPath string
	binaryErr  error
)

// skipIfShort skips a test that runs jarvis as a process of its own under go test -short.
func skipIfShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs jarvis as a separate process; make test runs it")
	}
}

// TestMain removes the binary the restart tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	if binaryPath != "" {
		os.RemoveAll(filepath.Dir(binaryPath))
	}
	os.Exit(code)
}

// jarvisBinary builds cmd/jarvis once per test run.
func jarvisBinary(t *testing.T) string {
	t.Helper()
	binaryOnce.Do(func() {
		dir, err := os.MkdirTemp("", "jarvis-bin-")
		if err != nil {
			binaryErr = err
			return
		}
		binaryPath = filepath.Join(dir, "jarvis")
		out, err := exec.Command("go", "build", "-o", binaryPath, "github.com/aidawg/jarvis/cmd/jarvis").CombinedOutput()
		if err != nil {
			binaryErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	require.NoError(t, binaryErr)
	return binaryPath
}

// process is a jarvis serve running as a separate process.
type process struct {
	cmd  *exec.Cmd
	logs *syncBuffer
	*server
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// startProcess runs jarvis serve with settings and waits until it answers /ready.
func startProcess(t *testing.T, settings env) *process {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(jarvisBinary(t), "serve")
	cmd.Env = append(os.Environ(), "JARVIS_ENV=development", "JARVIS_DEMO_DATA=off", "JARVIS_ADDR="+addr, "JARVIS_PUBLIC_URL=http://"+addr)
	for k, v := range settings {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	require.NoError(t, cmd.Start())
	p := &process{cmd: cmd, logs: logs}
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("process log:\n%s", logs.String())
		}
	})
	base := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		require.False(t, time.Now().After(deadline), "jarvis did not become ready:\n%s", logs.String())
		time.Sleep(50 * time.Millisecond)
	}
	httpClient := &http.Client{Timeout: 30 * time.Second, Transport: newContractCheck(t, base)}
	c, err := client.NewClientWithResponses(base+openapi.BasePath, client.WithHTTPClient(httpClient))
	require.NoError(t, err)
	p.server = &server{URL: base, API: base + openapi.BasePath, Client: c, HTTP: httpClient, Logs: logs}
	return p
}

// kill ends the process at once, as a crash or an OOM kill would.
func (p *process) kill() {
	if p.cmd.ProcessState == nil {
		_ = p.cmd.Process.Kill()
		_ = p.cmd.Wait()
	}
}

// A job whose process is killed mid-run, while its request waits, is taken back by the server
// restarted under the same instance id as soon as it starts, however long an attempt may take,
// and finishes; one that has no attempts left is failed with the reason. The request retried
// with its Idempotency-Key answers that job, neither refused as still in progress nor
// starting another.
func TestJobSurvivesARestart(t *testing.T) {
	skipIfShort(t)
	t.Parallel()
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			for _, tc := range []struct {
				name        string
				maxAttempts string
				want        client.JobStatusValue
			}{
				{"finishes on the second attempt", "2", "completed"},
				{"fails when no attempt is left", "1", "failed"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					dbURL := "sqlite:" + t.TempDir() + "/jarvis.db"
					if db == "postgres" {
						dbURL = storagetest.PostgresURL(t)
					}
					settings := env{
						"JARVIS_DATA_DIR":             t.TempDir(),
						"JARVIS_DATABASE_URL":         dbURL,
						"JARVIS_INSTANCE_ID":          "replica-1",
						"JARVIS_SYNC_WAIT":            "20s",
						"JARVIS_EMBEDDED_MUSIC_SPEED": "20",
						"JARVIS_JOB_MAX_ATTEMPTS":     tc.maxAttempts,
						"JARVIS_JOB_TIMEOUT":          "15s",
					}
					first := startProcess(t, settings)
					key := &client.GenerateMusicParams{IdempotencyKey: ptr("restart-" + tc.maxAttempts)}
					body := client.GenerateMusicRequest{Prompt: "a track that outlives its server", Duration: ptr(60)}
					inFlight := make(chan error, 1)
					go func() {
						_, err := first.Client.GenerateMusicWithResponse(context.Background(), key, body)
						inFlight <- err
					}()
					var id string
					require.Eventually(t, func() bool {
						list, err := first.Client.ListJobsWithResponse(context.Background(), nil)
						if err != nil || list.JSON200 == nil || len(list.JSON200.Jobs) == 0 {
							return false
						}
						id = list.JSON200.Jobs[0].Id
						return true
					}, 20*time.Second, 20*time.Millisecond, "the job was never created")
					mid := pollJob(t, first.server, id, func(j client.Job) bool { return j.Status == "running" && j.Progress > 0 })
					first.kill()
					require.Less(t, mid.Progress, 100)
					require.Error(t, <-inFlight, "the request was still waiting for its job when the process died")

					restarted := time.Now()
					second := startProcess(t, settings)
					ready := time.Since(restarted)
					// Queued for its next attempt or under way again, no longer the killed attempt; pollJob
					// gives up after 30s.
					again := pollJob(t, second.server, id, func(j client.Job) bool {
						return j.Status == "queued" || (j.Message != nil && strings.HasPrefix(*j.Message, "Started again")) ||
							j.Status == "completed" || j.Status == "failed"
					})
					t.Logf("ready %s and %s %s after the restart", ready.Round(time.Millisecond), again.Status, time.Since(restarted).Round(time.Millisecond))

					retry, err := second.Client.GenerateMusicWithResponse(context.Background(), key, body)
					require.NoError(t, err)
					assert.NotEqual(t, http.StatusConflict, retry.StatusCode(), "%s", retry.Body)
					list, err := second.Client.ListJobsWithResponse(context.Background(), nil)
					require.NoError(t, err)
					require.NotNil(t, list.JSON200)
					require.Len(t, list.JSON200.Jobs, 1, "the retry started no second job")

					done := pollJob(t, second.server, id, func(j client.Job) bool { return j.Status == "completed" || j.Status == "failed" })
					assert.Equal(t, tc.want, done.Status)
					if tc.want == "completed" {
						require.NotNil(t, retry.JSON200, "status %d: %s", retry.StatusCode(), retry.Body)
						assert.Equal(t, 60, retry.JSON200.Track.DurationSeconds)
						require.NotNil(t, done.Result)
						require.NotNil(t, done.Result.Track)
						assert.Equal(t, 60, done.Result.Track.DurationSeconds)
						assert.Equal(t, 100, done.Progress)
					} else {
						require.NotNil(t, done.Problem)
						assert.Contains(t, done.Problem.Detail, "stopped")
						assert.Contains(t, string(retry.Body), id, "the retry answers the failed job")
					}
				})
			}
		})
	}
}

// SIGTERM lets the request in flight finish before the process exits.
func TestSIGTERMDrainsInFlightRequests(t *testing.T) {
	skipIfShort(t)
	t.Parallel()
	p := startProcess(t, env{
		"JARVIS_DATA_DIR":             t.TempDir(),
		"JARVIS_SYNC_WAIT":            "20s",
		"JARVIS_EMBEDDED_MUSIC_SPEED": "10",
	})
	type result struct {
		resp *client.GenerateMusicResponse
		err  error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := p.Client.GenerateMusicWithResponse(context.Background(), nil,
			client.GenerateMusicRequest{Prompt: "the last track before closing time", Duration: ptr(15)})
		done <- result{resp, err}
	}()
	// Signal once the job is under way, so that the request is in flight.
	deadline := time.Now().Add(20 * time.Second)
	for {
		list, err := p.Client.ListJobsWithResponse(context.Background(), &client.ListJobsParams{Status: ptr(client.ListJobsParamsStatus("running"))})
		require.NoError(t, err)
		if list.JSON200 != nil && len(list.JSON200.Jobs) > 0 {
			break
		}
		require.False(t, time.Now().After(deadline), "the job never started")
		time.Sleep(20 * time.Millisecond)
	}
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	r := <-done
	require.NoError(t, r.err)
	require.NotNil(t, r.resp.JSON200, "status %d: %s", r.resp.StatusCode(), r.resp.Body)
	assert.Equal(t, 15, r.resp.JSON200.Track.DurationSeconds)
	require.NoError(t, p.cmd.Wait(), "a drained shutdown exits 0")
	assert.Contains(t, p.logs.String(), `"message":"stopped"`)
}

// Actions still queued for the history when SIGTERM arrives are written before the exit.
func TestRecordingSurvivesGracefulShutdown(t *testing.T) {
	skipIfShort(t)
	t.Parallel()
	settings := env{"JARVIS_DATA_DIR": t.TempDir()}
	p := startProcess(t, settings)
	const n = 40
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := p.Client.AnalyzeMusicWithResponse(context.Background(), client.AnalyzeMusicRequest{})
			assert.NoError(t, err)
		}()
	}
	wg.Wait()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, p.cmd.Wait())

	again := startProcess(t, settings)
	resp, err := again.Client.GetUserContextWithResponse(context.Background(), nil)
	require.NoError(t, err)
	require.NotNil(t, resp.JSON200)
	assert.Equal(t, n, resp.JSON200.Statistics.TotalActions, "every action recorded before the exit")
}
