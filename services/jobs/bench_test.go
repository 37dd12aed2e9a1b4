package jobs_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/aidawg/jarvis/services/jobs"
	"github.com/aidawg/jarvis/services/storage"
	"github.com/aidawg/jarvis/services/storage/storagetest"
)

// BenchmarkCreate measures creating a job (its row and its River job, in one transaction) while
// workers run the jobs beside it, and reports the p50 and p99 latency.
func BenchmarkCreate(b *testing.B) {
	for _, dbName := range []string{"sqlite", "postgres"} {
		b.Run(dbName, func(b *testing.B) {
			var db *storage.DB
			if dbName == "sqlite" {
				db = storagetest.Open(b, storagetest.SQLiteURL(b))
			} else {
				db = storagetest.Open(b, storagetest.PostgresURL(b))
			}
			noop := func(ctx context.Context, j jobs.Job, p *jobs.Progress) (jobs.Outcome, error) {
				return jobs.Outcome{Result: "ok"}, nil
			}
			e := newEngine(b, db, map[string]jobs.Runner{"noop": noop})
			ctx := context.Background()
			took := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				if _, err := e.Create(ctx, alice, "noop", map[string]int{"i": i}, ""); err != nil {
					b.Fatal(err)
				}
				took = append(took, time.Since(start))
			}
			b.StopTimer()
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(took[min(len(took)-1, len(took)*99/100)].Microseconds()), "p99-µs")
		})
	}
}
