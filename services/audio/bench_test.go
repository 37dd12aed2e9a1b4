package audio

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// BenchmarkAnalyze3Min decodes and analyses a 3-minute 44.1 kHz 16-bit
// stereo WAV (chords plus drums) with every figure, vocals included.
// Target: at most 0.9 s per op on one core (GOMAXPROCS=1).
func BenchmarkAnalyze3Min(b *testing.B) {
	wav := writeWAV(musicLike(44100, 180), 2, 44100, pcm16)
	b.SetBytes(int64(len(wav)))
	b.ResetTimer()
	for b.Loop() {
		s, err := Open(bytes.NewReader(wav), Options{DisableFFmpeg: true})
		if err != nil {
			b.Fatal(err)
		}
		r, err := Analyze(s, AnalyzeOptions{Vocals: true})
		if err != nil || r.Tempo == nil || r.IntegratedLufs == nil {
			b.Fatal(err, r)
		}
	}
	b.ReportMetric(180/(b.Elapsed().Seconds()/float64(b.N)), "x-realtime")
}

// writeLongWAV streams a music-like 16-bit stereo WAV of the given length
// to path by repeating a 30 s segment, so the test itself stays small.
func writeLongWAV(t testing.TB, path string, seconds int) {
	t.Helper()
	const rate = 44100
	seg := musicLike(rate, 30)
	pcm := make([]byte, len(seg)*2)
	for i, v := range seg {
		binary.LittleEndian.PutUint16(pcm[2*i:], uint16(int16(clampInt(v*32768, -32768, 32767))))
	}
	f, err := os.Create(path)
	require.NoError(t, err)
	defer f.Close()
	w := bufio.NewWriter(f)
	dataBytes := uint32(seconds / 30 * len(pcm))
	hdr := writeWAV(nil, 2, rate, pcm16)
	binary.LittleEndian.PutUint32(hdr[4:], uint32(len(hdr))-8+dataBytes)
	binary.LittleEndian.PutUint32(hdr[len(hdr)-4:], dataBytes)
	_, _ = w.Write(hdr)
	for range seconds / 30 {
		_, _ = w.Write(pcm)
	}
	require.NoError(t, w.Flush())
}

// peakHeapDuring samples HeapInuse every 5 ms while fn runs and returns
// the peak above the level before it started, and TotalAlloc during it.
func peakHeapDuring(fn func()) (peakAboveIdleMB, totalAllocMB float64) {
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var peak atomic.Uint64
	peak.Store(before.HeapInuse)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var m runtime.MemStats
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peak.Load() {
					peak.Store(m.HeapInuse)
				}
			}
		}
	}()
	fn()
	close(done)
	wg.Wait()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	peak.Store(max(peak.Load(), after.HeapInuse))
	const mb = 1 << 20
	return float64(peak.Load()-before.HeapInuse) / mb, float64(after.TotalAlloc-before.TotalAlloc) / mb
}

// TestPeakMemoryStreamingFromDisk streams a 3-minute file (and with
// JARVIS_AUDIO_LONG=1 a 15-minute one) from disk through an io.Reader and
// checks the heap never grows more than 64 MB above idle.
func TestPeakMemoryStreamingFromDisk(t *testing.T) {
	lengths := []int{180}
	if os.Getenv("JARVIS_AUDIO_LONG") == "1" {
		lengths = append(lengths, 900)
	}
	for _, secs := range lengths {
		path := filepath.Join(t.TempDir(), "long.wav")
		writeLongWAV(t, path, secs)
		f, err := os.Open(path)
		require.NoError(t, err)
		var r *Report
		peak, total := peakHeapDuring(func() {
			s, err := Open(f, Options{DisableFFmpeg: true})
			require.NoError(t, err)
			r, err = Analyze(s, AnalyzeOptions{Vocals: true})
			require.NoError(t, err)
		})
		_ = f.Close()
		require.InDelta(t, float64(secs), r.DurationSeconds, 0.01)
		t.Logf("%d s file: peak HeapInuse %.1f MB above idle, TotalAlloc %.1f MB", secs, peak, total)
		require.Less(t, peak, 64.0)
	}
}
