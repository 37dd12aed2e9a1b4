package sentiment

import "testing"

// BenchmarkSentimentScore measures single-text scoring on short,
// comment-sized texts. Run with GOMAXPROCS=1 for a one-core figure.
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
	for b.Loop() {
		a.Score(texts[i%len(texts)])
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "texts/s")
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
	for b.Loop() {
		if _, err := a.Analyze(texts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(texts))/b.Elapsed().Seconds(), "texts/s")
}
