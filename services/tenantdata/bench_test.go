package tenantdata

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/aidawg/jarvis/services/storage/storagetest"
)

// BenchmarkImportMetrics1M imports 1,000,000 daily metric rows into a new SQLite database per
// iteration: five files of 200,000 rows, one per tenant, since dates are bounded to 2000-2100
// and one tenant holds at most one row per day and platform (about 221,000). Each CSV is
// generated while it is read, so memory never holds a file.
func BenchmarkImportMetrics1M(b *testing.B) {
	const tenants, perTenant = 5, 200_000
	for b.Loop() {
		b.StopTimer()
		s := NewStore(storagetest.Open(b, storagetest.SQLiteURL(b)))
		b.StartTimer()
		for t := range tenants {
			pr, pw := io.Pipe()
			go writeMetricsCSV(pw, perTenant)
			rep, err := s.Import(context.Background(), fmt.Sprintf("bench-%d", t), KindMetrics, CSV, pr)
			if err != nil {
				b.Fatal(err)
			}
			if rep.Inserted != perTenant {
				b.Fatalf("inserted %d of %d", rep.Inserted, perTenant)
			}
		}
	}
	b.ReportMetric(float64(tenants*perTenant*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// writeMetricsCSV writes n rows of every platform on consecutive days from 2000-01-01.
func writeMetricsCSV(w *io.PipeWriter, n int) {
	buf := []byte("date,platform,streams,listeners,followers,saves,revenue,currency\n")
	start := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		d := start.AddDate(0, 0, i/len(Platforms))
		buf = fmt.Appendf(buf, "%s,%s,%d,%d,%d,%d,%d.%02d,USD\n", d.Format(time.DateOnly), Platforms[i%len(Platforms)],
			1000+i%977, 300+i%311, 50+i%13, i%29, i%100, i%97)
		if len(buf) > 60*1024 {
			if _, err := w.Write(buf); err != nil {
				return
			}
			buf = buf[:0]
		}
	}
	_, _ = w.Write(buf)
	w.Close()
}
