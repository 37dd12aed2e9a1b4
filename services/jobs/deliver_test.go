package jobs_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/services/jobs"
	"github.com/aidawg/jarvis/services/storage"
	"github.com/aidawg/jarvis/services/storage/storagetest"
)

// Deliver queues one signed delivery per event, retried until the receiver accepts it, under
// a finished job that its owner's listings show.
func TestDeliverEvents(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		var mu sync.Mutex
		got := map[string][]string{} // body -> webhook-ids of its attempts
		var verifyErrs []error
		e := newEngine(t, db, nil)
		receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			mu.Lock()
			defer mu.Unlock()
			verifyErrs = append(verifyErrs, e.secret.Verify(r.Header, body))
			got[string(body)] = append(got[string(body)], r.Header.Get("webhook-id"))
			if len(got[string(body)]) == 1 {
				w.WriteHeader(http.StatusBadGateway)
				return
			}
			w.WriteHeader(http.StatusOK)
		}))
		defer receiver.Close()

		ctx := context.Background()
		owner := alice
		owner.User = "outbox"
		id, err := e.Deliver(ctx, owner, "batch-delivery", receiver.URL+"/in", []jobs.Event{
			{Type: "t.batch", Body: []byte(`{"n":1}`)}, {Type: "t.batch", Body: []byte(`{"n":2}`)},
		}, time.Now())
		require.NoError(t, err)
		j, err := e.Get(ctx, owner, id)
		require.NoError(t, err)
		assert.Equal(t, jobs.Completed, j.Status)
		assert.Equal(t, "batch-delivery", j.Type)

		require.Eventually(t, func() bool {
			var delivered int
			err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM webhook_deliveries WHERE job_id = $1 AND status = 'delivered'`, id).Scan(&delivered)
			return err == nil && delivered == 2
		}, 20*time.Second, 20*time.Millisecond, "both deliveries to succeed")
		mu.Lock()
		defer mu.Unlock()
		for _, err := range verifyErrs {
			assert.NoError(t, err)
		}
		for body, ids := range got {
			require.Len(t, ids, 2, body)
			assert.Equal(t, ids[0], ids[1], "a retry keeps its delivery id")
		}

		_, err = e.Deliver(ctx, owner, "batch-delivery", "http://10.1.2.3/in", []jobs.Event{{Type: "t", Body: []byte(`{}`)}}, time.Now())
		assert.Error(t, err, "a private address is refused")
		_, err = e.Deliver(ctx, owner, "batch-delivery", "http://crm.example.com/in", []jobs.Event{{Type: "t", Body: []byte(`{}`)}}, time.Now())
		assert.ErrorContains(t, err, "https", "plain http only to the allowed addresses")
	})
}
