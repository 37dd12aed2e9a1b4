package churn

import (
	"testing"
	"time"
)

// BenchmarkChurnAnalyze100k times Analyze over 100,000 labelled synthetic
// listeners: features at two dates, 5-fold cross-validation, the final fit,
// scoring and segments. The data are generated once, outside the timer.
func BenchmarkChurnAnalyze100k(b *testing.B) {
	asOf := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	ls := Synthesize(1, 100_000, asOf)
	for b.Loop() {
		rep, err := Analyze(ls, Options{AsOf: asOf, Seed: 1})
		if err != nil || !rep.Fitted {
			b.Fatal(err, rep.UnfittedReason)
		}
	}
}

// BenchmarkChurnScoreUnfitted100k times Analyze over 100,000 unlabelled
// listeners (features, the fixed-weight score and segments; no fitting).
func BenchmarkChurnScoreUnfitted100k(b *testing.B) {
	asOf := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	ls := Synthesize(1, 100_000, asOf)
	for i := range ls {
		ls[i].Labelled, ls[i].ChurnedAt = false, nil
	}
	for b.Loop() {
		if _, err := Analyze(ls, Options{AsOf: asOf}); err != nil {
			b.Fatal(err)
		}
	}
}
