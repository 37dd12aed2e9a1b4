package tests

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/gen/client"
	"github.com/aidawg/jarvis/services/artifacts"
	"github.com/aidawg/jarvis/services/storage/storagetest"
	"github.com/aidawg/jarvis/services/webhook"
)

const artifactKeyHex = "6a61727669732d746573742d61727469666163742d6b65792d33322d62797465732121"

// eachDatabase runs fn against a server on SQLite and one on PostgreSQL.
func eachDatabase(t *testing.T, settings env, fn func(t *testing.T, s *server)) {
	t.Helper()
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			vars := env{}
			for k, v := range settings {
				vars[k] = v
			}
			if name == "postgres" {
				vars["JARVIS_DATABASE_URL"] = storagetest.PostgresURL(t)
			}
			fn(t, startServer(t, vars))
		})
	}
}

func ptr[T any](v T) *T { return &v }

// pollJob reads a job until cond holds or the deadline passes.
func pollJob(t *testing.T, s *server, id string, cond func(client.Job) bool) client.Job {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := s.Client.GetJobStatusWithResponse(context.Background(), id)
		require.NoError(t, err)
		require.NotNil(t, resp.JSON200, "status %d: %s", resp.StatusCode(), resp.Body)
		if cond(*resp.JSON200) {
			return *resp.JSON200
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s is %s at %d%% after 30s", id, resp.JSON200.Status, resp.JSON200.Progress)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A short track is ready within the wait: the answer is the track, with a download link.
func TestGenerateMusicAnswersInline(t *testing.T) {
	t.Parallel()
	eachDatabase(t, env{"JARVIS_ARTIFACT_SECRET": artifactKeyHex}, func(t *testing.T, s *server) {
		ctx := context.Background()
		resp, err := s.Client.GenerateMusicWithResponse(ctx, nil, client.GenerateMusicRequest{
			Prompt: "a calm ambient piece with soft pads", Duration: ptr(6), Seed: ptr(7), Key: ptr("D minor"),
		})
		require.NoError(t, err)
		require.NotNil(t, resp.JSON200, "status %d: %s", resp.StatusCode(), resp.Body)
		track := resp.JSON200.Track
		assert.Equal(t, 6, track.DurationSeconds)
		assert.Equal(t, "D minor", track.Key)
		assert.Equal(t, 7, track.Seed)
		assert.Equal(t, client.ResponseMetaServedBy("embedded"), resp.JSON200.Meta.ServedBy)
		require.NotNil(t, track.Audio)
		audio := track.Audio
		assert.Equal(t, "audio/wav", audio.ContentType)
		require.True(t, strings.HasPrefix(audio.Url, s.URL+"/artifacts/art_"), audio.Url)

		// The link works without credentials, with its type, a file name and ranges.
		r, err := http.Get(audio.Url)
		require.NoError(t, err)
		body, _ := io.ReadAll(r.Body)
		r.Body.Close()
		require.Equal(t, http.StatusOK, r.StatusCode)
		assert.Equal(t, "audio/wav", r.Header.Get("Content-Type"))
		assert.Contains(t, r.Header.Get("Content-Disposition"), `attachment; filename=`)
		assert.Equal(t, *audio.SizeBytes, len(body))
		assert.Equal(t, "RIFF", string(body[:4]))

		req, _ := http.NewRequest(http.MethodGet, audio.Url, nil)
		req.Header.Set("Range", "bytes=0-11")
		r, err = http.DefaultClient.Do(req)
		require.NoError(t, err)
		part, _ := io.ReadAll(r.Body)
		r.Body.Close()
		assert.Equal(t, http.StatusPartialContent, r.StatusCode)
		assert.Equal(t, fmt.Sprintf("bytes 0-11/%d", len(body)), r.Header.Get("Content-Range"))
		assert.Equal(t, body[:12], part)

		// A tampered link and an expired one are refused.
		tampered := strings.Replace(audio.Url, "sig=", "sig=0", 1)
		r, err = http.Get(tampered)
		require.NoError(t, err)
		r.Body.Close()
		assert.Equal(t, http.StatusForbidden, r.StatusCode)
		key, _ := hex.DecodeString(artifactKeyHex)
		id := strings.TrimPrefix(strings.SplitN(audio.Url, "?", 2)[0], s.URL+"/artifacts/")
		expired, _ := artifacts.NewSigner(key, s.URL, -time.Minute).URL(id, time.Now())
		r, err = http.Get(expired)
		require.NoError(t, err)
		problemText, _ := io.ReadAll(r.Body)
		r.Body.Close()
		assert.Equal(t, http.StatusForbidden, r.StatusCode)
		assert.Contains(t, string(problemText), "expired")
		valid, _ := artifacts.NewSigner(key, s.URL, time.Minute).URL(id, time.Now())
		r, err = http.Get(valid)
		require.NoError(t, err)
		r.Body.Close()
		assert.Equal(t, http.StatusOK, r.StatusCode, "a link signed with the configured key is honoured")
	})
}

// A track that takes longer than the wait answers 202 with the job, whose progress comes from
// the rendering and whose result arrives with getJobStatus.
func TestGenerateMusicAnswersWithAJob(t *testing.T) {
	t.Parallel()
	eachDatabase(t, env{"JARVIS_SYNC_WAIT": "100ms", "JARVIS_EMBEDDED_MUSIC_SPEED": "20"}, func(t *testing.T, s *server) {
		ctx := context.Background()
		resp, err := s.Client.GenerateMusicWithResponse(ctx, nil, client.GenerateMusicRequest{Prompt: "an epic orchestral build", Duration: ptr(40)})
		require.NoError(t, err)
		require.NotNil(t, resp.JSON202, "status %d: %s", resp.StatusCode(), resp.Body)
		accepted := resp.JSON202
		assert.Contains(t, []client.JobStatusValue{"queued", "running"}, accepted.Job.Status)
		assert.GreaterOrEqual(t, accepted.PollAfterSeconds, 1)
		assert.Contains(t, accepted.Message, "getJobStatus")
		assert.Contains(t, accepted.Message, accepted.Job.Id)

		mid := pollJob(t, s, accepted.Job.Id, func(j client.Job) bool { return j.Progress > 0 && j.Status == "running" })
		assert.Less(t, mid.Progress, 100)
		require.NotNil(t, mid.EstimatedSecondsRemaining)

		done := pollJob(t, s, accepted.Job.Id, func(j client.Job) bool { return j.Status == "completed" })
		assert.Equal(t, 100, done.Progress)
		require.NotNil(t, done.Result)
		require.NotNil(t, done.Result.Track)
		assert.Equal(t, 40, done.Result.Track.DurationSeconds)
		require.NotNil(t, done.Result.Track.Audio)
		require.Len(t, done.Artifacts, 1)
		require.NotNil(t, done.FinishedAt)

		list, err := s.Client.ListJobsWithResponse(ctx, &client.ListJobsParams{Type: ptr(client.ListJobsParamsType("music-generation"))})
		require.NoError(t, err)
		require.NotNil(t, list.JSON200)
		require.Len(t, list.JSON200.Jobs, 1)
		assert.Equal(t, accepted.Job.Id, list.JSON200.Jobs[0].Id)
		stats, err := s.Client.GetJobStatsWithResponse(ctx)
		require.NoError(t, err)
		require.NotNil(t, stats.JSON200)
		assert.Equal(t, 1, stats.JSON200.ByStatus.Completed)
		require.NotNil(t, stats.JSON200.RunTimeSeconds.P50)
	})
}

func TestCancelJobs(t *testing.T) {
	t.Parallel()
	eachDatabase(t, env{"JARVIS_SYNC_WAIT": "100ms", "JARVIS_EMBEDDED_MUSIC_SPEED": "10", "JARVIS_JOB_WORKERS": "1"}, func(t *testing.T, s *server) {
		ctx := context.Background()
		start := func() string {
			resp, err := s.Client.GenerateMusicWithResponse(ctx, nil, client.GenerateMusicRequest{Prompt: "a long drone", Duration: ptr(300)})
			require.NoError(t, err)
			require.NotNil(t, resp.JSON202, "status %d: %s", resp.StatusCode(), resp.Body)
			return resp.JSON202.Job.Id
		}
		running := start()
		pollJob(t, s, running, func(j client.Job) bool { return j.Status == "running" })
		queued := start() // the only worker is busy

		resp, err := s.Client.CancelJobWithResponse(ctx, queued)
		require.NoError(t, err)
		require.NotNil(t, resp.JSON200, "status %d: %s", resp.StatusCode(), resp.Body)
		assert.Equal(t, client.JobStatusValue("cancelled"), resp.JSON200.Status, "a queued job is cancelled at once")
		assert.Nil(t, resp.JSON200.StartedAt)

		resp, err = s.Client.CancelJobWithResponse(ctx, running)
		require.NoError(t, err)
		require.NotNil(t, resp.JSON200)
		stopped := pollJob(t, s, running, func(j client.Job) bool { return j.Status == "cancelled" })
		assert.Less(t, stopped.Progress, 100, "the work stopped part way")

		again, err := s.Client.CancelJobWithResponse(ctx, running)
		require.NoError(t, err)
		require.NotNil(t, again.ApplicationproblemJSON409, "status %d: %s", again.StatusCode(), again.Body)
		missing, err := s.Client.CancelJobWithResponse(ctx, "job_nope")
		require.NoError(t, err)
		require.NotNil(t, missing.ApplicationproblemJSON404)
		status, err := s.Client.GetJobStatusWithResponse(ctx, "job_nope")
		require.NoError(t, err)
		require.NotNil(t, status.ApplicationproblemJSON404)
		assert.Equal(t, "not_found", status.ApplicationproblemJSON404.Code)
	})
}

func TestListJobsPaginatesNewestFirst(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	ctx := context.Background()
	var ids []string
	for i := range 5 {
		resp, err := s.Client.GenerateMusicWithResponse(ctx, nil, client.GenerateMusicRequest{Prompt: fmt.Sprintf("sketch %d", i), Duration: ptr(5)})
		require.NoError(t, err)
		require.NotNil(t, resp.JSON200, "status %d: %s", resp.StatusCode(), resp.Body)
	}
	var cursor *string
	for {
		resp, err := s.Client.ListJobsWithResponse(ctx, &client.ListJobsParams{Limit: ptr(2), Cursor: cursor})
		require.NoError(t, err)
		require.NotNil(t, resp.JSON200)
		assert.LessOrEqual(t, len(resp.JSON200.Jobs), 2)
		for _, j := range resp.JSON200.Jobs {
			ids = append(ids, j.Id)
		}
		if resp.JSON200.NextCursor == nil {
			break
		}
		cursor = resp.JSON200.NextCursor
	}
	require.Len(t, ids, 5)
	for i := 1; i < len(ids); i++ {
		assert.Greater(t, ids[i-1], ids[i], "newest first")
	}
	bad, err := s.Client.ListJobsWithResponse(ctx, &client.ListJobsParams{Cursor: ptr("garbage")})
	require.NoError(t, err)
	require.NotNil(t, bad.ApplicationproblemJSON400)
	assert.Equal(t, "query:cursor", bad.ApplicationproblemJSON400.Errors[0].Field)
}

// Concurrent requests with one Idempotency-Key make one job; the same key with another body is
// refused.
func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	eachDatabase(t, env{"JARVIS_SYNC_WAIT": "100ms", "JARVIS_EMBEDDED_MUSIC_SPEED": "20"}, func(t *testing.T, s *server) {
		ctx := context.Background()
		key := "order-42"
		body := client.GenerateMusicRequest{Prompt: "a jingle for order 42", Duration: ptr(20)}
		withKey := &client.GenerateMusicParams{IdempotencyKey: &key}

		const n = 8
		var wg sync.WaitGroup
		results := make([]*client.GenerateMusicResponse, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, err := s.Client.GenerateMusicWithResponse(ctx, withKey, body)
				assert.NoError(t, err)
				results[i] = resp
			}()
		}
		wg.Wait()
		jobIDs := map[string]bool{}
		for _, r := range results {
			switch r.StatusCode() {
			case http.StatusAccepted:
				jobIDs[r.JSON202.Job.Id] = true
			case http.StatusConflict:
				assert.Equal(t, "conflict", r.ApplicationproblemJSON409.Code)
			default:
				t.Errorf("unexpected status %d: %s", r.StatusCode(), r.Body)
			}
		}
		require.Len(t, jobIDs, 1, "one job for one key")

		// The first answered 202: a retry answers its job as it now stands, the track once it is
		// done; that answer is final and is replayed from then on.
		var id string
		for id = range jobIDs {
		}
		pollJob(t, s, id, func(j client.Job) bool { return j.Status == "completed" })
		retry, err := s.Client.GenerateMusicWithResponse(ctx, withKey, body)
		require.NoError(t, err)
		require.NotNil(t, retry.JSON200, "status %d: %s", retry.StatusCode(), retry.Body)
		assert.Equal(t, 20, retry.JSON200.Track.DurationSeconds)
		replay, err := s.Client.GenerateMusicWithResponse(ctx, withKey, body)
		require.NoError(t, err)
		require.NotNil(t, replay.JSON200, "status %d: %s", replay.StatusCode(), replay.Body)
		assert.Equal(t, "true", replay.HTTPResponse.Header.Get("Idempotent-Replayed"))

		other, err := s.Client.GenerateMusicWithResponse(ctx, withKey, client.GenerateMusicRequest{Prompt: "something else"})
		require.NoError(t, err)
		require.NotNil(t, other.ApplicationproblemJSON422, "status %d: %s", other.StatusCode(), other.Body)

		list, err := s.Client.ListJobsWithResponse(ctx, nil)
		require.NoError(t, err)
		assert.Len(t, list.JSON200.Jobs, 1, "no second job was made")
	})
}

// A callbackUrl gets the finished job, signed per Standard Webhooks; the receiver verifies it
// and, after failing twice, sees the retries.
func TestCallbackOnFinish(t *testing.T) {
	t.Parallel()
	secret := webhook.NewSecret()
	var mu sync.Mutex
	var deliveries []http.Header
	var verifyErrs []error
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		deliveries = append(deliveries, r.Header.Clone())
		verifyErrs = append(verifyErrs, secret.Verify(r.Header, body))
		if len(deliveries) <= 2 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer receiver.Close()

	s := startServer(t, env{
		"JARVIS_WEBHOOK_SECRET":   secret.String(),
		"JARVIS_SSRF_ALLOW":       "127.0.0.0/8",
		"JARVIS_CALLBACK_BACKOFF": "20ms",
	})
	resp, err := s.Client.GenerateMusicWithResponse(context.Background(), nil, client.GenerateMusicRequest{
		Prompt: "a track someone is waiting for", Duration: ptr(5), CallbackUrl: ptr(receiver.URL + "/jarvis"),
	})
	require.NoError(t, err)
	require.NotNil(t, resp.JSON200, "status %d: %s", resp.StatusCode(), resp.Body)

	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		n := len(deliveries)
		mu.Unlock()
		if n >= 3 {
			break
		}
		require.False(t, time.Now().After(deadline), "only %d deliveries", n)
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	for i, err := range verifyErrs {
		assert.NoError(t, err, "delivery %d", i)
	}
	assert.Equal(t, deliveries[0].Get("webhook-id"), deliveries[2].Get("webhook-id"))

	// A callback to a private address is refused before any work is done.
	bad, err := s.Client.GenerateMusicWithResponse(context.Background(), nil, client.GenerateMusicRequest{
		Prompt: "x", CallbackUrl: ptr("http://10.0.0.7/hook"),
	})
	require.NoError(t, err)
	require.NotNil(t, bad.ApplicationproblemJSON400, "status %d: %s", bad.StatusCode(), bad.Body)
	assert.Equal(t, "/callbackUrl", bad.ApplicationproblemJSON400.Errors[0].Field)
}

// In production a callback is https, as the contract says, but to the operator's own receivers
// at the addresses JARVIS_SSRF_ALLOW lists, which may take plain http.
func TestProductionCallbacksAreHTTPS(t *testing.T) {
	t.Parallel()
	delivered := make(chan struct{}, 10)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		delivered <- struct{}{}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer receiver.Close()
	s := startServer(t, production(env{"JARVIS_SSRF_ALLOW": "127.0.0.0/8"}))
	h := hdr("X-API-Key", bootstrapToken, "Content-Type", "application/json")

	resp, p, _ := sendWith(t, s, http.MethodPost, generate, h, `{"prompt": "x", "callbackUrl": "http://receiver.example.com/hook"}`)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, "%+v", p)
	assert.Equal(t, "validation_failed", p.Code)
	assert.Contains(t, fields(p), "/callbackUrl")
	assert.Contains(t, p.Detail, "https")

	resp, p, _ = sendWith(t, s, http.MethodPost, generate, h, `{"prompt": "x", "duration": 5, "callbackUrl": "`+receiver.URL+`/hook"}`)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%+v", p)
	require.Eventually(t, func() bool { return len(delivered) > 0 }, 20*time.Second, 20*time.Millisecond,
		"the allowed receiver to get the callback over http")
}
