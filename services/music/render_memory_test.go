package music

import (
	"context"
	"os"
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRenderPeakMemory300s samples the heap while a five-minute track renders; the WAV itself
// is 53 MB, and mastering in one-second blocks should add little to it. It takes several
// seconds, so it runs only with JARVIS_MUSIC_LONG=1.
func TestRenderPeakMemory300s(t *testing.T) {
	if os.Getenv("JARVIS_MUSIC_LONG") != "1" {
		t.Skip("set JARVIS_MUSIC_LONG=1 to render 300 s and measure peak memory")
	}
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak, live atomic.Uint64
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	done := make(chan struct{})
	go func() {
		var m runtime.MemStats
		for {
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peak.Load() {
					peak.Store(m.HeapInuse)
				}
				metrics.Read(sample)
				if v := sample[0].Value.Uint64(); v > live.Load() {
					live.Store(v)
				}
			}
		}
	}()
	seed := int64(5)
	start := time.Now()
	tr, data, err := Generator{}.Generate(context.Background(), GenerateParams{Prompt: "long", Duration: 300, Tempo: 124, Seed: &seed}, noReport)
	close(done)
	require.NoError(t, err)
	above := float64(peak.Load()-base.HeapInuse) / 1e6
	liveMB := float64(live.Load()) / 1e6
	// HeapInuse also holds garbage awaiting collection (the WAV decoder that measures the
	// result allocates a buffer per read), so with GOGC=100 it reaches about twice the live
	// heap; the live heap after each collection is what the renderer keeps.
	t.Logf("300 s: %.1f s to render, WAV %.1f MB, peak live heap %.1f MB, peak HeapInuse %.1f MB above idle, I %.2f LUFS, TP %.2f dBTP",
		time.Since(start).Seconds(), float64(len(data))/1e6, liveMB, above, tr.LoudnessLufs, tr.TruePeakDbtp)
	assert.Less(t, liveMB, 80.0)
}
