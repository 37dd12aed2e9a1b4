package middleware

import (
	"github.com/labstack/echo/v4"

	"github.com/aidawg/jarvis/openapi"
	"github.com/aidawg/jarvis/services"
)

// Slots is a resizable limit of requests in flight.
type Slots interface {
	TryAcquire() bool
	Release()
}

// InFlight sheds load: past the limit of requests in flight a request is answered at once with
// a 503 problem and Retry-After, before any other work is spent on it. manageScaling passes
// regardless, so that an operator can always raise the limit.
func InFlight(spec *openapi.Spec, slots Slots) echo.MiddlewareFunc {
	exempt, _ := spec.ByID("manageScaling")
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if exempt != nil && c.Path() == exempt.EchoPath && c.Request().Method == exempt.Method {
				return next(c)
			}
			if !slots.TryAcquire() {
				return &services.Error{Code: services.CodeUnavailable, RetryAfter: 1,
					Detail: "This server is at its limit of requests in flight (the api pool). Retry after the time Retry-After gives."}
			}
			defer slots.Release()
			return next(c)
		}
	}
}
