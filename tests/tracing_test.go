package tests

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/aidawg/jarvis/gen/client"
)

// spans is what the in-memory exporter holds, read as trees.
type spans []tracetest.SpanStub

func (ss spans) named(name string) []tracetest.SpanStub {
	var out []tracetest.SpanStub
	for _, s := range ss {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

func (ss spans) children(parent trace.SpanContext) []tracetest.SpanStub {
	var out []tracetest.SpanStub
	for _, s := range ss {
		if s.Parent.SpanID() == parent.SpanID() && s.Parent.TraceID() == parent.TraceID() {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b tracetest.SpanStub) int { return a.StartTime.Compare(b.StartTime) })
	return out
}

// descendants are the names of every span under root.
func (ss spans) descendants(root trace.SpanContext) []string {
	var out []string
	for _, c := range ss.children(root) {
		out = append(out, c.Name)
		out = append(out, ss.descendants(c.SpanContext)...)
	}
	return out
}

// tree draws root and the spans under it, one a line, with the attributes that say what they did.
func (ss spans) tree(b *strings.Builder, s tracetest.SpanStub, depth int) {
	fmt.Fprintf(b, "%s%s", strings.Repeat("  ", depth), s.Name)
	for _, kv := range s.Attributes {
		switch kv.Key {
		case "http.response.status_code", "jarvis.job.type", "aidawg.served_by", "aidawg.circuit_state", "aidawg.attempt", "jarvis.outcome", "jarvis.answered":
			fmt.Fprintf(b, " %s=%s", kv.Key, kv.Value.String())
		}
	}
	for _, l := range s.Links {
		fmt.Fprintf(b, " (linked to %s/%s)", l.SpanContext.TraceID(), l.SpanContext.SpanID())
	}
	b.WriteString("\n")
	kids := ss.children(s.SpanContext)
	for i := 0; i < len(kids); i++ {
		// A run of database calls with nothing under them is one line with its count.
		n := 1
		for i+n < len(kids) && kids[i+n].Name == kids[i].Name && strings.HasPrefix(kids[i].Name, "sql.") &&
			len(ss.children(kids[i+n].SpanContext)) == 0 {
			n++
		}
		if n > 1 {
			fmt.Fprintf(b, "%s%s ×%d\n", strings.Repeat("  ", depth+1), kids[i].Name, n)
			i += n - 1
			continue
		}
		ss.tree(b, kids[i], depth+1)
	}
}

// One generateMusic call through a job, traced: the request's span continues the caller's
// traceparent and holds the layers, the enqueue and the database calls; the job's run is a
// trace of its own, linked to the enqueue, holding the module router and the embedded module.
func TestTraceOfGenerateMusicThroughAJob(t *testing.T) {
	exporter := tracetest.NewInMemoryExporter()
	// The global provider is the one Jarvis's spans go to; once installed it stays for the
	// process, so the other tests' spans land here too and are told apart by trace id.
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSyncer(exporter)))

	var mu sync.Mutex
	var delivered []string // the traceparent of each callback delivery
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		delivered = append(delivered, r.Header.Get("traceparent"))
		mu.Unlock()
	}))
	defer receiver.Close()
	// The endpoint turns tracing on (with the database's statements); the provider installed
	// above stays the one spans go to, so nothing is sent there.
	s := startServer(t, env{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1", "JARVIS_SYNC_WAIT": "100ms", "JARVIS_EMBEDDED_MUSIC_SPEED": "20",
		"JARVIS_SSRF_ALLOW": "127.0.0.0/8", "JARVIS_CALLBACK_BACKOFF": "20ms"})
	callerTrace, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	callerSpan, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	withTraceparent := func(_ context.Context, req *http.Request) error {
		req.Header.Set("traceparent", "00-"+callerTrace.String()+"-"+callerSpan.String()+"-01")
		return nil
	}
	resp, err := s.Client.GenerateMusicWithResponse(context.Background(), nil,
		client.GenerateMusicRequest{Prompt: "a short traced sketch", Duration: ptr(20), CallbackUrl: ptr(receiver.URL + "/done")}, withTraceparent)
	require.NoError(t, err)
	require.NotNil(t, resp.JSON202, "status %d: %s", resp.StatusCode(), resp.Body)
	pollJob(t, s, resp.JSON202.Job.Id, func(j client.Job) bool { return j.Status == "completed" })

	var all spans
	var run, callback tracetest.SpanStub
	deadline := time.Now().Add(10 * time.Second)
	for {
		all = spans(exporter.GetSpans())
		for _, c := range all.named("job.callback") {
			if len(c.Links) == 1 && c.Links[0].SpanContext.SpanID() == run.SpanContext.SpanID() && run.Name != "" {
				callback = c
			}
		}
		if runs := all.named("job.run"); len(runs) > 0 {
			for _, r := range runs {
				for _, kv := range r.Attributes {
					if kv.Key == "jarvis.job.id" && kv.Value.AsString() == resp.JSON202.Job.Id {
						run = r
					}
				}
			}
		}
		if run.Name != "" && callback.Name != "" {
			break
		}
		require.False(t, time.Now().After(deadline), "no job.run and job.callback spans for %s within 10s", resp.JSON202.Job.Id)
		time.Sleep(20 * time.Millisecond)
	}

	var request tracetest.SpanStub
	for _, r := range all.named("generateMusic") {
		if r.SpanContext.TraceID() == callerTrace {
			request = r
		}
	}
	require.Equal(t, "generateMusic", request.Name, "the request's span continues the caller's trace")
	assert.Equal(t, callerSpan, request.Parent.SpanID(), "the request's span is a child of the caller's")
	assert.Equal(t, trace.SpanKindServer, request.SpanKind)

	var direct []string
	for _, c := range all.children(request.SpanContext) {
		direct = append(direct, c.Name)
	}
	for _, want := range []string{"auth", "ratelimit", "validation"} {
		assert.Contains(t, direct, want, "a child span of the request")
	}
	under := all.descendants(request.SpanContext)
	assert.Contains(t, under, "job.enqueue")
	assert.Contains(t, under, "sql.conn.exec", "database calls of the request")
	enqueue := all.named("job.enqueue")
	require.NotEmpty(t, enqueue)

	// The run: a root of its own, linked to the enqueue in the request's trace.
	assert.False(t, run.Parent.IsValid(), "a job run starts a trace of its own")
	require.Len(t, run.Links, 1)
	link := run.Links[0].SpanContext
	assert.Equal(t, callerTrace, link.TraceID(), "the run links to the request's trace")
	var linkedName string
	for _, e := range enqueue {
		if e.SpanContext.SpanID() == link.SpanID() {
			linkedName = e.Name
		}
	}
	assert.Equal(t, "job.enqueue", linkedName, "the link points at the enqueue span")
	runUnder := all.descendants(run.SpanContext)
	assert.Contains(t, runUnder, "router music/generate-music")
	assert.Contains(t, runUnder, "embedded music/generate-music")

	// The callback delivery is a trace of its own, linked to the run, and the receiver gets its
	// traceparent.
	mu.Lock()
	require.Len(t, delivered, 1)
	assert.Equal(t, "00-"+callback.SpanContext.TraceID().String()+"-"+callback.SpanContext.SpanID().String()+"-01", delivered[0])
	mu.Unlock()

	// The access log line names the trace.
	assert.Contains(t, s.Logs.String(), `"traceId":"`+callerTrace.String()+`"`)

	var b strings.Builder
	all.tree(&b, request, 0)
	b.WriteString("\n")
	all.tree(&b, run, 0)
	b.WriteString("\n")
	all.tree(&b, callback, 0)
	t.Logf("trace of one generateMusic call through a job:\n%s", b.String())
}
