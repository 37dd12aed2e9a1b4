package usage

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/storage"
	"github.com/aidawg/jarvis/services/storage/storagetest"
)

func TestMeter(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		m := NewMeter(db, zerolog.Nop(), 0)
		defer m.Close()
		day := time.Date(2026, 11, 27, 23, 0, 0, 0, time.UTC)
		m.now = func() time.Time { return day }

		key := services.Principal{Tenant: "acme", User: "gpt", KeyID: "abcdefgh2345", Method: services.MethodAPIKey}
		user := services.Principal{Tenant: "default", User: "u-1", Method: services.MethodOAuth2}
		m.Record(key, "generateMusic", false, 1500*time.Millisecond)
		m.Record(key, "generateMusic", true, 500*time.Millisecond)
		m.Record(user, "analyzeSentiment", false, 20*time.Millisecond)
		require.NoError(t, m.Flush(ctx))
		// A second flush adds to the same rows.
		m.Record(key, "generateMusic", false, time.Second)
		day = day.Add(2 * time.Hour) // the next UTC day
		m.Record(key, "generateMusic", false, time.Second)

		rows, next, err := m.Query(ctx, Filter{From: "2026-11-27", To: "2026-11-28"})
		require.NoError(t, err)
		assert.Empty(t, next)
		require.Len(t, rows, 3)
		assert.Equal(t, Row{Day: "2026-11-28", Subject: "key:abcdefgh2345", Operation: "generateMusic", Method: "apiKey",
			KeyID: "abcdefgh2345", Tenant: "acme", User: "gpt", Calls: 1, DurationMs: 1000}, rows[0])
		assert.Equal(t, Row{Day: "2026-11-27", Subject: "key:abcdefgh2345", Operation: "generateMusic", Method: "apiKey",
			KeyID: "abcdefgh2345", Tenant: "acme", User: "gpt", Calls: 3, Errors: 1, DurationMs: 3000}, rows[1])
		assert.Equal(t, Row{Day: "2026-11-27", Subject: "oauth2:default/u-1", Operation: "analyzeSentiment", Method: "oauth2",
			Tenant: "default", User: "u-1", Calls: 1, DurationMs: 20}, rows[2])

		rows, _, err = m.Query(ctx, Filter{From: "2026-11-27", To: "2026-11-27", KeyID: "abcdefgh2345"})
		require.NoError(t, err)
		require.Len(t, rows, 1)
		rows, _, err = m.Query(ctx, Filter{From: "2026-11-01", To: "2026-11-30", Operation: "analyzeSentiment"})
		require.NoError(t, err)
		require.Len(t, rows, 1)

		// Pages of one row walk the same rows in the same order.
		var paged []Row
		cursor := ""
		for i := 0; i < 10; i++ {
			page, next, err := m.Query(ctx, Filter{From: "2026-11-27", To: "2026-11-28", Limit: 1, Cursor: cursor})
			require.NoError(t, err)
			paged = append(paged, page...)
			if next == "" {
				break
			}
			cursor = next
		}
		all, _, err := m.Query(ctx, Filter{From: "2026-11-27", To: "2026-11-28"})
		require.NoError(t, err)
		assert.Equal(t, all, paged)

		_, _, err = m.Query(ctx, Filter{From: "2026-11-27", To: "2026-11-28", Cursor: "not-a-cursor"})
		se, ok := services.AsError(err)
		require.True(t, ok, "%v", err)
		assert.Equal(t, services.CodeValidation, se.Code)
	})
}

// Counts that cannot be written stay pending and are written by a later flush.
func TestMeterKeepsCountsWhenWritingFails(t *testing.T) {
	db := storagetest.Open(t, storagetest.SQLiteURL(t))
	ctx := context.Background()
	m := NewMeter(db, zerolog.Nop(), 0)
	defer m.Close()
	p := services.Principal{Tenant: "t", User: "u", Method: services.MethodBootstrap}
	m.Record(p, "getUsage", false, time.Millisecond)

	_, err := db.ExecContext(ctx, `ALTER TABLE usage_daily RENAME TO usage_daily_away`)
	require.NoError(t, err)
	require.Error(t, m.Flush(ctx))
	m.Record(p, "getUsage", false, time.Millisecond)
	_, err = db.ExecContext(ctx, `ALTER TABLE usage_daily_away RENAME TO usage_daily`)
	require.NoError(t, err)

	require.NoError(t, m.Flush(ctx))
	var calls int64
	require.NoError(t, db.QueryRowContext(ctx, `SELECT calls FROM usage_daily`).Scan(&calls))
	assert.Equal(t, int64(2), calls)
}
