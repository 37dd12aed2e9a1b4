package churn

import (
	"syscall"
	"testing"
	"time"
)

// cpuSecondsPerOp reports the process's CPU time per operation since cpu0 (from cpuTime): on
// a shared machine wall-clock time says more about the neighbours than about the code.
func cpuSecondsPerOp(b *testing.B, cpu0 time.Duration) {
	b.ReportMetric((cpuTime(b)-cpu0).Seconds()/float64(b.N), "cpu-s/op")
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkChurnAnalyze100k times Analyze over 100,000 labelled synthetic
// listeners: features at two dates, 5-fold cross-validation, the final fit,
// scoring and segments. The data are generated once, outside the timer.
func BenchmarkChurnAnalyze100k(b *testing.B) {
	asOf := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	ls := Synthesize(1, 100_000, asOf)
	cpu := cpuTime(b)
	for b.Loop() {
		rep, err := Analyze(ls, Options{AsOf: asOf, Seed: 1})
		if err != nil || !rep.Fitted {
			b.Fatal(err, rep.UnfittedReason)
		}
	}
	cpuSecondsPerOp(b, cpu)
}

// BenchmarkChurnScoreUnfitted100k times Analyze over 100,000 unlabelled
// listeners (features, the fixed-weight score and segments; no fitting).
func BenchmarkChurnScoreUnfitted100k(b *testing.B) {
	asOf := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	ls := Synthesize(1, 100_000, asOf)
	for i := range ls {
		ls[i].Labelled, ls[i].ChurnedAt = false, nil
	}
	cpu := cpuTime(b)
	for b.Loop() {
		if _, err := Analyze(ls, Options{AsOf: asOf}); err != nil {
			b.Fatal(err)
		}
	}
	cpuSecondsPerOp(b, cpu)
}
