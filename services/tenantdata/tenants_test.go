package tenantdata

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/services/storage"
	"github.com/aidawg/jarvis/services/storage/storagetest"
)

func TestTenants(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s := newTestStore(db)
		got, err := s.Tenants(ctx)
		require.NoError(t, err)
		assert.Empty(t, got)

		_, err = importString(t, s, "zeta", KindMetrics, CSV, metricsCSV)
		require.NoError(t, err)
		_, err = importString(t, s, "alpha", KindCompetitors, CSV, "name,date,monthly_listeners\nRival,2026-01-01,10\n")
		require.NoError(t, err)
		// A file rejected whole leaves its tenant out.
		_, err = importString(t, s, "never", KindMetrics, CSV, "date,platform,streams\nbad,spotify,1\n")
		require.Error(t, err)

		got, err = s.Tenants(ctx)
		require.NoError(t, err)
		assert.Equal(t, []string{"alpha", "zeta"}, got)
	})
}
