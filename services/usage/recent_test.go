package usage

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRecentWindows(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 30, 0, 0, time.UTC)
	r := NewRecent()
	r.now = func() time.Time { return now }

	// 100 calls: 94 fast, 6 slow, so the 95th is among the slow ones.
	for i := range 100 {
		d := time.Millisecond
		if i >= 94 {
			d = 200 * time.Millisecond
		}
		status := 200
		switch i {
		case 0:
			status = 429
		case 1:
			status = 503
		case 2, 3:
			status = 422
		}
		r.Record("analyzeMusic", status, d)
	}
	r.Record("listJobs", 200, time.Millisecond)

	hour := r.Stats(LastHour)
	require.Len(t, hour, 2)
	a := hour[0]
	assert.Equal(t, OperationStats{Operation: "analyzeMusic", Calls: 100, ClientErrors: 2, ServerErrors: 1, Limited: 1, P95: a.P95}, a)
	assert.GreaterOrEqual(t, a.P95, 200*time.Millisecond)
	assert.Less(t, a.P95, 250*time.Millisecond)
	assert.Equal(t, "listJobs", hour[1].Operation)

	// Two hours on, the hour window has forgotten them and the day window has not.
	now = now.Add(2 * time.Hour)
	assert.Empty(t, r.Stats(LastHour))
	day := r.Stats(LastDay)
	require.Len(t, day, 2)
	assert.EqualValues(t, 100, day[0].Calls)

	// A day on, a call lands in the reused slots, which start again from nothing.
	now = now.Add(24 * time.Hour)
	r.Record("listJobs", 200, time.Millisecond)
	day = r.Stats(LastDay)
	require.Len(t, day, 1)
	assert.EqualValues(t, 1, day[0].Calls)
}

// The cost Recent adds to each request, from every core at once.
func BenchmarkRecentRecord(b *testing.B) {
	r := NewRecent()
	ops := []string{"analyzeMusic", "listJobs", "getJobStatus", "generateMusic"}
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			r.Record(ops[i%len(ops)], 200, time.Duration(i%5000)*time.Microsecond)
			i++
		}
	})
}
