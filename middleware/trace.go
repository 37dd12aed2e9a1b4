package middleware

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/aidawg/jarvis/openapi"
	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/telemetry"
)

// Trace starts the request's span, named by its operationId (or method and route outside the
// contract), as a child of the caller's W3C traceparent when it sends one. It runs after routing
// and RequestID, and before Observe, whose access-log line names the trace. Without tracing
// (enabled false) it passes requests on untouched, so that they cost nothing for it.
func Trace(spec *openapi.Spec, enabled bool) echo.MiddlewareFunc {
	if !enabled {
		return func(next echo.HandlerFunc) echo.HandlerFunc { return next }
	}
	tracer := telemetry.Tracer()
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			ctx := telemetry.Propagator.Extract(req.Context(), propagation.HeaderCarrier(req.Header))
			name := req.Method + " " + c.Path()
			if op, ok := spec.ByRoute(req.Method, c.Path()); ok {
				name = op.ID
			}
			ctx, span := tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer))
			defer span.End()
			recording := span.IsRecording()
			if recording {
				span.SetAttributes(
					attribute.String("http.request.method", req.Method),
					attribute.String("http.route", c.Path()),
					attribute.String("jarvis.request_id", services.RequestID(ctx)),
				)
			}
			c.SetRequest(req.WithContext(ctx))
			err := next(c)
			if err != nil {
				// Answer here, inside the span, so that its status is the one the caller got.
				c.Error(err)
			}
			if recording {
				status := c.Response().Status
				span.SetAttributes(attribute.Int("http.response.status_code", status))
				if status >= http.StatusInternalServerError {
					span.SetStatus(codes.Error, http.StatusText(status))
				}
				if p, ok := services.PrincipalFrom(c.Request().Context()); ok {
					span.SetAttributes(attribute.String("jarvis.tenant", p.Tenant))
				}
			}
			return nil
		}
	}
}

// Traced gives a layer a span of its own, named name, covering the layer's work up to the
// moment it passes the request on: the rest of the chain runs under the request's span again,
// with whatever the layer added to the context kept. Without a recording request span the
// layer runs as it is.
func Traced(name string, layer echo.MiddlewareFunc) echo.MiddlewareFunc {
	tracer := telemetry.Tracer()
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		inner := layer(func(c echo.Context) error {
			if parent, ok := c.Get(tracedParentKey).(trace.Span); ok {
				trace.SpanFromContext(c.Request().Context()).End()
				c.Set(tracedParentKey, nil)
				req := c.Request()
				c.SetRequest(req.WithContext(trace.ContextWithSpan(req.Context(), parent)))
			}
			return next(c)
		})
		return func(c echo.Context) error {
			req := c.Request()
			parent := trace.SpanFromContext(req.Context())
			if !parent.IsRecording() {
				return inner(c)
			}
			ctx, span := tracer.Start(req.Context(), name)
			c.Set(tracedParentKey, parent)
			c.SetRequest(req.WithContext(ctx))
			err := inner(c)
			if c.Get(tracedParentKey) != nil {
				// The layer answered itself instead of passing the request on.
				c.Set(tracedParentKey, nil)
				span.SetAttributes(attribute.Bool("jarvis.answered", true))
				if err != nil {
					telemetry.Fail(span, err)
				}
				span.End()
			}
			return err
		}
	}
}

const tracedParentKey = "jarvis.tracedParent"
