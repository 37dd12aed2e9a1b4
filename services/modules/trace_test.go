package modules_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/aidawg/jarvis/handlers/aidawgapi/standin"
	"github.com/aidawg/jarvis/services/modules"
)

// Each attempt at the remote is a span naming the circuit's state, and sends its own W3C
// traceparent, so that the backend's spans join the caller's trace.
func TestRemoteAttemptsAreTracedAndPropagated(t *testing.T) {
	exporter := tracetest.NewInMemoryExporter()
	// Only calls under a recording span make spans, so the package's other tests add none.
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSyncer(exporter)))

	s := standin.Start(t, newRuntime(t, &engagement{}))
	target, err := url.Parse(s.URL)
	require.NoError(t, err)
	var mu sync.Mutex
	var sent []string
	proxy := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		sent = append(sent, r.Header.Get("traceparent"))
		mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	r := newRouter(t, newRuntime(t), fastOptions(front.URL), false)

	ctx, root := otel.Tracer("test").Start(context.Background(), "caller")
	s.Next(standin.Fault{Kind: standin.Status, Status: 503, RetryAfter: "0"})
	_, by, err := modules.Call(ctx, r, modules.CmdAnalyzeSentiment, sentiment)
	root.End()
	require.NoError(t, err)
	assert.Equal(t, modules.ServedByRemote, by)

	spans := exporter.GetSpans()
	var call tracetest.SpanStub
	var attempts []tracetest.SpanStub
	for _, sp := range spans {
		switch sp.Name {
		case "router engagement/analyze-sentiment":
			call = sp
		case "aidawg.attempt":
			attempts = append(attempts, sp)
		}
	}
	require.Equal(t, root.SpanContext().SpanID(), call.Parent.SpanID(), "the router's span is the caller's child")
	require.Len(t, attempts, 2, "one span per attempt")
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, sent, 2)
	for i, a := range attempts {
		assert.Equal(t, call.SpanContext.SpanID(), a.Parent.SpanID())
		assert.Equal(t, trace.SpanKindClient, a.SpanKind)
		attrs := map[string]string{}
		for _, kv := range a.Attributes {
			attrs[string(kv.Key)] = kv.Value.String()
		}
		assert.Equal(t, "closed", attrs["aidawg.circuit_state"])
		assert.Equal(t, []string{"unavailable", "ok"}[i], attrs["jarvis.outcome"])
		assert.Equal(t, "00-"+root.SpanContext().TraceID().String()+"-"+a.SpanContext.SpanID().String()+"-01", sent[i],
			"attempt %d sends its own span as the parent", i+1)
	}
}
