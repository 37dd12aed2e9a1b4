package marketing

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/gen/aidawg"
	"github.com/aidawg/jarvis/services/modules"
	"github.com/aidawg/jarvis/services/storage/storagetest"
	"github.com/aidawg/jarvis/services/tenantdata"
)

// A year of the demo artist's five platforms and campaigns, on SQLite in process, through the
// embedded runtime as a call would go; p50-ms is the median call.
func BenchmarkGetMetricsYear(b *testing.B) {
	h := newHarness(&testing.T{}, storagetest.Open(b, storagetest.SQLiteURL(b)))
	_, err := h.data.LoadDemo(context.Background(), "demo", tenantdata.DemoSeed, h.today)
	require.NoError(b, err)
	ctx := as("demo")
	p := aidawg.GetMetricsParams{TimeRange: ptr(aidawg.TimeRangeYear)}
	took := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		res, f := modules.Invoke(ctx, h.rt, modules.CmdGetMetrics, p)
		took = append(took, time.Since(start))
		if f != nil || len(res.Metrics.ByPlatform) != 5 {
			b.Fatalf("%v %d", f, len(res.Metrics.ByPlatform))
		}
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
}
