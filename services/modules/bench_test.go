package modules_test

import (
	"context"
	"testing"

	"github.com/aidawg/jarvis/handlers/aidawgapi/standin"
	"github.com/aidawg/jarvis/services/modules"
)

// Router overhead per call: the module's function called directly, the same command through
// the router in process (params checked against the contract), and through the router to the
// embedded modules served over loopback HTTP (retries, breaker, size cap, answer checked
// against the contract). Compare within one run; absolute times on a shared machine mean little.
func BenchmarkRouter(b *testing.B) {
	ctx := context.Background()
	eng := &engagement{}
	rt := newRuntime(b, eng)

	b.Run("direct", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			out, err := eng.analyze(ctx, sentiment)
			if err != nil || out.Sentiment.Overall.SampleSize != 1 {
				b.Fatal(err)
			}
		}
	})
	b.Run("in-process", func(b *testing.B) {
		r := newRouter(b, rt, modules.RemoteOptions{}, false)
		b.ReportAllocs()
		for b.Loop() {
			out, _, err := modules.Call(ctx, r, modules.CmdAnalyzeSentiment, sentiment)
			if err != nil || out.Sentiment.Overall.SampleSize != 1 {
				b.Fatal(err)
			}
		}
	})
	b.Run("loopback-http", func(b *testing.B) {
		s := standin.Start(b, newRuntime(b, &engagement{}))
		r := newRouter(b, newRuntime(b), fastOptions(s.URL), false)
		b.ReportAllocs()
		for b.Loop() {
			out, _, err := modules.Call(ctx, r, modules.CmdAnalyzeSentiment, sentiment)
			if err != nil || out.Sentiment.Overall.SampleSize != 1 {
				b.Fatal(err)
			}
		}
	})
}
