// Package telemetry holds Jarvis's OpenTelemetry tracing: the tracer every package starts its
// spans with, the W3C trace context propagation to and from other services, and the OTLP
// exporter a server sends its spans through when tracing is on.
//
// Spans go to the global tracer provider, which is a no-op until Setup installs the SDK's, so a
// server without tracing pays for little more than a context value per span.
package telemetry

import (
	"context"
	"errors"
	"fmt"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// ScopeName names Jarvis's instrumentation.
const ScopeName = "github.com/aidawg/jarvis"

// Tracer is the tracer Jarvis's spans are started with.
func Tracer() trace.Tracer { return otel.Tracer(ScopeName) }

// Propagator reads and writes W3C traceparent, tracestate and baggage headers.
var Propagator propagation.TextMapPropagator = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})

// Inject writes ctx's trace context into h, for a call to another service.
func Inject(ctx context.Context, h map[string][]string) {
	Propagator.Inject(ctx, propagation.HeaderCarrier(h))
}

// Carrier is a trace context stored beside work that runs later, such as a job's queue entry.
type Carrier map[string]string

// Capture is ctx's trace context, or nil when ctx has no span.
func Capture(ctx context.Context) Carrier {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return nil
	}
	c := Carrier{}
	Propagator.Inject(ctx, propagation.MapCarrier(c))
	return c
}

// Link is a link to the span a Carrier was captured in; it has an invalid span context when
// the carrier holds none.
func (c Carrier) Link() trace.Link {
	ctx := Propagator.Extract(context.Background(), propagation.MapCarrier(c))
	return trace.Link{SpanContext: trace.SpanContextFromContext(ctx)}
}

// Recording reports whether ctx's span records, that is whether work under ctx is worth a span
// of its own.
func Recording(ctx context.Context) bool { return trace.SpanFromContext(ctx).IsRecording() }

// Fail marks span as failed with err.
func Fail(span trace.Span, err error) {
	if err == nil {
		return
	}
	span.RecordError(err)
	span.SetStatus(codes.Error, err.Error())
}

// Installed reports whether an SDK tracer provider is the global one already, as when a program
// embedding Jarvis, or a test, installed its own.
func Installed() bool {
	_, ok := otel.GetTracerProvider().(*sdktrace.TracerProvider)
	return ok
}

// Setup installs the SDK's tracer provider with an OTLP/HTTP exporter as the global one and
// returns what flushes and stops it. Jarvis's configuration only decides whether tracing is on
// (OTEL_EXPORTER_OTLP_ENDPOINT is set); everything else is read by the SDK itself, as its
// documentation describes: the exporter's OTEL_EXPORTER_OTLP_* (endpoint, headers, protocol
// details, timeout), the sampler's OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG, the batch
// processor's OTEL_BSP_*, and the resource's OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES.
func Setup(ctx context.Context, version string) (func(context.Context) error, error) {
	exporter, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("OTLP trace exporter: %w", err)
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(semconv.ServiceName("jarvis"), semconv.ServiceVersion(version)),
		resource.WithTelemetrySDK(),
		// Last, so that OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win.
		resource.WithFromEnv(),
	)
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, fmt.Errorf("trace resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exporter), sdktrace.WithResource(res))
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(Propagator)
	return tp.Shutdown, nil
}
