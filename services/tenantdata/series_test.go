package tenantdata

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/storage"
	"github.com/aidawg/jarvis/services/storage/storagetest"
)

func TestDailyMetric(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s := newTestStore(db)
		_, err := importString(t, s, "t1", KindMetrics, CSV, metricsCSV)
		require.NoError(t, err)
		_, err = importString(t, s, "t2", KindMetrics, CSV, "date,platform,streams\n2026-01-01,spotify,999999\n")
		require.NoError(t, err)

		day := func(d int) time.Time { return time.Date(2026, 1, d, 0, 0, 0, 0, time.UTC) }
		streams, err := s.DailyMetric(ctx, "t1", "streams")
		require.NoError(t, err)
		require.Len(t, streams, 3, "one point a day, the platforms summed, the other tenant's left out")
		for i, want := range []float64{150, 200, 10} {
			assert.Equal(t, day(i+1), streams[i].Date)
			assert.Equal(t, want, streams[i].Value, "streams of %s", streams[i].Date)
		}

		revenue, err := s.DailyMetric(ctx, "t1", "revenue")
		require.NoError(t, err)
		require.Len(t, revenue, 3)
		assert.InDelta(t, 1.75, revenue[0].Value, 1e-9, "micros back to the currency's unit")
		assert.InDelta(t, 0, revenue[2].Value, 1e-9)

		listeners, err := s.DailyMetric(ctx, "t1", "listeners")
		require.NoError(t, err)
		assert.Equal(t, 60.0, listeners[0].Value)

		none, err := s.DailyMetric(ctx, "nobody", "followers")
		require.NoError(t, err)
		assert.Empty(t, none)

		_, err = s.DailyMetric(ctx, "t1", "engagement")
		se, ok := services.AsError(err)
		require.True(t, ok, "%v", err)
		assert.Equal(t, services.CodeUnprocessable, se.Code)
		assert.Equal(t, "/metric", se.Fields[0].Field)

		_, err = importString(t, s, "t1", KindMetrics, CSV, "date,platform,streams,revenue,currency\n2026-01-05,other,1,2,EUR\n")
		require.NoError(t, err)
		_, err = s.DailyMetric(ctx, "t1", "revenue")
		se, ok = services.AsError(err)
		require.True(t, ok, "%v", err)
		assert.Contains(t, se.Detail, "EUR, USD")
	})
}
