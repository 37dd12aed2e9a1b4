package usercontext

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/storage"
	"github.com/aidawg/jarvis/services/storage/storagetest"
)

var (
	alice = services.Owner{Tenant: "acme", User: "alice"}
	bob   = services.Owner{Tenant: "acme", User: "bob"}
)

var seq atomic.Int64

func entry(op, module, outcome string) Entry {
	return Entry{Seq: seq.Add(1), At: time.Now(), OperationID: op, Module: module, Outcome: outcome,
		Params: map[string]any{"n": 1}, DurationMs: 5}
}

// Writers on several replicas record for one user at once: nothing is lost, the history is
// the newest 50, and the counters count all.
func TestConcurrentRecordingsKeepTheBounds(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		store := NewStore(db, time.Hour)
		ctx := context.Background()
		const n = 200
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				outcome := "ok"
				if i%4 == 0 {
					outcome = "validation_failed"
				}
				if err := store.record(ctx, alice, []Entry{entry("analyzeSentiment", "engagement", outcome)}); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		c, err := store.Get(ctx, alice, "")
		require.NoError(t, err)
		assert.Equal(t, n, c.Stats.Total)
		assert.InDelta(t, 0.75, c.Stats.SuccessRate, 0.001)
		require.Len(t, c.History, HistorySize)
		for i := 1; i < len(c.History); i++ {
			assert.Greater(t, c.History[i-1].Seq, c.History[i].Seq, "newest first")
		}
		var rows int
		require.NoError(t, db.QueryRowContext(ctx, `SELECT COUNT(*) FROM context_entries WHERE tenant = $1 AND user_id = $2`,
			alice.Tenant, alice.User).Scan(&rows))
		assert.Equal(t, HistorySize, rows, "older entries are dropped in the same write")
		assert.Equal(t, "engagement", c.Stats.FavouriteModule)
		require.Len(t, c.Stats.TopOperations, 1)
		assert.Equal(t, n, c.Stats.TopOperations[0].Count)
	})
}

// Everything queued when the recorder is closed is written before Close returns, in order.
func TestRecorderWritesEverythingQueuedOnClose(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		store := NewStore(db, time.Hour)
		r := NewRecorder(store, zerolog.Nop(), 1000)
		for i := range 120 {
			require.NoError(t, r.Record(alice, Entry{At: time.Now(), OperationID: fmt.Sprintf("op%03d", i), Module: "music", Outcome: "ok"}))
		}
		require.NoError(t, r.Close())
		assert.ErrorIs(t, r.Record(alice, Entry{}), ErrClosed)
		c, err := store.Get(context.Background(), alice, "")
		require.NoError(t, err)
		assert.Equal(t, 120, c.Stats.Total)
		require.Len(t, c.History, HistorySize)
		assert.Equal(t, "op119", c.History[0].OperationID, "recorded in order")
		assert.Equal(t, "op070", c.History[HistorySize-1].OperationID)
	})
}

func TestEraseAndOwnership(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		store := NewStore(db, time.Hour)
		r := NewRecorder(store, zerolog.Nop(), 100)
		defer r.Close()
		svc := NewService(store, r, nil, time.Hour)
		ctx := context.Background()
		e := entry("generateMusic", "music", "ok")
		e.ConversationID = "conv-1"
		require.NoError(t, r.Record(alice, e))
		require.NoError(t, r.Record(bob, entry("detectChurn", "engagement", "ok")))
		require.NoError(t, svc.SetPreferences(ctx, alice, Preferences{FavouriteModules: []string{"music"}, OutputFormat: "concise"}))
		// Erase waits behind the queued entries, so they are written first and erased with the rest.
		require.NoError(t, svc.Erase(ctx, alice))

		c, _, err := svc.Get(ctx, alice, "conv-1")
		require.NoError(t, err)
		assert.Zero(t, c.Stats.Total)
		assert.Empty(t, c.History)
		assert.Nil(t, c.Session)
		assert.Equal(t, "detailed", c.Preferences.OutputFormat, "preferences are erased too")
		var left int
		for _, table := range []string{"context_entries", "context_operation_counts", "context_sessions", "user_contexts"} {
			var n int
			require.NoError(t, db.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table+` WHERE user_id = $1`, alice.User).Scan(&n))
			left += n
		}
		assert.Zero(t, left, "nothing of alice remains")

		other, _, err := svc.Get(ctx, bob, "")
		require.NoError(t, err)
		assert.Equal(t, 1, other.Stats.Total, "another user's context is untouched")
	})
}

func TestSessionDataFollowsTheConversation(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		store := NewStore(db, time.Hour)
		ctx := context.Background()
		e := entry("generateMusic", "music", "ok")
		e.ConversationID, e.JobID = "conv-9", "job_1"
		e.Follow = map[string]any{"audioUrl": "https://jarvis.example.com/artifacts/art_1?sig=x"}
		require.NoError(t, store.record(ctx, alice, []Entry{e}))
		c, err := store.Get(ctx, alice, "conv-9")
		require.NoError(t, err)
		require.NotNil(t, c.Session)
		assert.Equal(t, "job_1", c.Session.Data["lastJobId"])
		assert.Equal(t, "generateMusic", c.Session.Data["lastOperation"])
		assert.Equal(t, "https://jarvis.example.com/artifacts/art_1?sig=x", c.Session.Data["audioUrl"])
		c, err = store.Get(ctx, alice, "conv-other")
		require.NoError(t, err)
		assert.Nil(t, c.Session)
		require.NotNil(t, c.Stats.AverageSession)
	})
}

func TestDeleteIdle(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		store := NewStore(db, time.Hour)
		ctx := context.Background()
		old := entry("runHealthChecks", "testing", "ok")
		old.At = time.Now().Add(-48 * time.Hour)
		require.NoError(t, store.record(ctx, alice, []Entry{old}))
		require.NoError(t, store.record(ctx, bob, []Entry{entry("runHealthChecks", "testing", "ok")}))
		n, err := store.DeleteIdle(ctx, time.Now().Add(-24*time.Hour))
		require.NoError(t, err)
		assert.Equal(t, 1, n)
		c, err := store.Get(ctx, alice, "")
		require.NoError(t, err)
		assert.Zero(t, c.Stats.Total)
		c, err = store.Get(ctx, bob, "")
		require.NoError(t, err)
		assert.Equal(t, 1, c.Stats.Total)
	})
}

func ops(recs []Recommendation) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.OperationID
	}
	return out
}

func TestRecommendations(t *testing.T) {
	ok := func(op string, follow map[string]any) Entry {
		return Entry{OperationID: op, Outcome: "ok", Follow: follow}
	}
	failed := Entry{OperationID: "analyzeSentiment", Outcome: "unavailable"}

	t.Run("a new user gets three starting points", func(t *testing.T) {
		assert.Equal(t, []string{"generateMusic", "getMarketingMetrics", "analyzeSentiment"}, ops(Recommend(nil, "", nil)))
	})
	t.Run("generateMusic then validateMusic on its track", func(t *testing.T) {
		recs := Recommend([]Entry{ok("generateMusic", map[string]any{"audioUrl": "https://x/artifacts/a?sig=1"})}, "", nil)
		require.NotEmpty(t, recs)
		assert.Equal(t, "validateMusic", recs[0].OperationID)
		assert.Equal(t, "https://x/artifacts/a?sig=1", recs[0].Params["audioUrl"])
		assert.Len(t, recs, 3)
	})
	t.Run("detectChurn then createReEngagement for the riskiest segment", func(t *testing.T) {
		recs := Recommend([]Entry{ok("detectChurn", map[string]any{"riskiestSegment": "seg_de_free"})}, "", nil)
		assert.Equal(t, "createReEngagement", recs[0].OperationID)
		assert.Equal(t, "seg_de_free", recs[0].Params["targetSegment"])
	})
	t.Run("generateForecast then analyzeGrowth", func(t *testing.T) {
		assert.Equal(t, "analyzeGrowth", Recommend([]Entry{ok("generateForecast", nil)}, "", nil)[0].OperationID)
	})
	t.Run("the favourite module's next step", func(t *testing.T) {
		recs := Recommend([]Entry{ok("runValidation", nil)}, "automation", nil)
		assert.Equal(t, "generateForecast", recs[0].OperationID)
	})
	t.Run("a health check after a run of failures", func(t *testing.T) {
		recs := Recommend([]Entry{failed, failed, failed, ok("generateForecast", nil)}, "", nil)
		assert.Equal(t, "runHealthChecks", recs[0].OperationID)
		assert.Equal(t, "analyzeGrowth", recs[1].OperationID, "the follow-up of the last success comes next")
		two := Recommend([]Entry{failed, failed, ok("generateForecast", nil)}, "", nil)
		assert.NotContains(t, ops(two), "runHealthChecks", "two failures are not a run")
	})
	t.Run("only available operations", func(t *testing.T) {
		recs := Recommend(nil, "", func(op string) bool { return op == "generateMusic" })
		assert.Equal(t, []string{"generateMusic"}, ops(recs))
	})
}

func TestSummarize(t *testing.T) {
	long := ""
	for range 300 {
		long += "a"
	}
	got := Summarize(map[string]any{
		"prompt":    long,
		"audioUrl":  "https://cdn.example.com/t.mp3?token=secret&x=1",
		"apiKey":    "sk-live",
		"texts":     []any{"a", "b", "c", "d"},
		"campaigns": []any{"c1", "c2"},
		"schedule":  map[string]any{"start": "2026-12-01", "token": "x"},
		"duration":  30.0,
	})
	assert.Len(t, []rune(got["prompt"].(string)), 201)
	assert.Equal(t, "https://cdn.example.com", got["audioUrl"])
	assert.NotContains(t, got, "apiKey")
	assert.Equal(t, map[string]any{"items": 4}, got["texts"])
	assert.Equal(t, []any{"c1", "c2"}, got["campaigns"])
	assert.Equal(t, map[string]any{"start": "2026-12-01"}, got["schedule"])
	assert.Equal(t, 30.0, got["duration"])

	got = Summarize(map[string]any{
		"sourceUrl":    "HTTPS://user:pw@cdn.example.com/a.wav#t=3",
		"X-Auth-TOKEN": "x",
		"note":         strings.Repeat("é", 250),
		"plain":        "http:// is not a link",
	})
	assert.Equal(t, "https://cdn.example.com", got["sourceUrl"], "scheme in any case; credentials, path and fragment dropped")
	assert.NotContains(t, got, "X-Auth-TOKEN")
	assert.Equal(t, strings.Repeat("é", 200)+"…", got["note"], "cut by characters, not bytes")
	assert.Equal(t, "http:// is not a link", got["plain"])
}

// The history stores the summary of what was recorded, not the body itself.
func TestTheHistoryStoresTheSummaryOfTheBody(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		store := NewStore(db, time.Hour)
		ctx := context.Background()
		e := entry("analyzeAudio", "music", "ok")
		e.Params = map[string]any{"audioUrl": "https://cdn.example.com/t.mp3?sig=abc", "apiKey": "sk-live", "texts": []any{"a", "b", "c", "d"}}
		require.NoError(t, store.record(ctx, alice, []Entry{e}))
		c, err := store.Get(ctx, alice, "")
		require.NoError(t, err)
		require.Len(t, c.History, 1)
		assert.Equal(t, map[string]any{"audioUrl": "https://cdn.example.com", "texts": map[string]any{"items": 4.0}}, c.History[0].Params)
	})
}
