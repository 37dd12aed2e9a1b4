package sentiment

import (
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user and system CPU time so far. On a shared machine wall-clock
// throughput says more about the neighbours than about the code; CPU time per text does not.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSentimentScore measures single-text scoring on short,
// comment-sized texts. Run with GOMAXPROCS=1 for a one-core figure; texts/cpu-s
// is the rate per second of CPU the process used (garbage collection included).
func BenchmarkSentimentScore(b *testing.B) {
	a := NewAnalyzer()
	texts := []string{
		"Loved the new single, the chorus is amazing!",
		"meh, not my favourite",
		"This track is so bad it hurts :(",
		"Can't stop listening, great vibes",
		"The mix sounds muddy and the vocals are too quiet.",
		"When is the tour coming to Lisbon?",
		"NOT GOOD AT ALL!!!",
		"ok I guess, but the old stuff was better",
	}
	i := 0
	cpu := cpuTime(b)
	for b.Loop() {
		a.Score(texts[i%len(texts)])
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "texts/s")
	b.ReportMetric(float64(b.N)/(cpuTime(b)-cpu).Seconds(), "texts/cpu-s")
}

// BenchmarkSentimentAnalyze measures scoring plus aggregation of a batch.
func BenchmarkSentimentAnalyze(b *testing.B) {
	a := NewAnalyzer()
	texts := make([]Text, 1000)
	for i := range texts {
		texts[i] = Text{Source: []string{"youtube", "email", "x"}[i%3], Body: []string{
			"Loved the new single, the chorus is amazing!", "meh, not my favourite",
			"This track is so bad it hurts :(", "Can't stop listening, great vibes",
		}[i%4]}
	}
	cpu := cpuTime(b)
	for b.Loop() {
		if _, err := a.Analyze(texts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(texts))/b.Elapsed().Seconds(), "texts/s")
	b.ReportMetric(float64(b.N*len(texts))/(cpuTime(b)-cpu).Seconds(), "texts/cpu-s")
}
