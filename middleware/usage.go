package middleware

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/aidawg/jarvis/openapi"
	"github.com/aidawg/jarvis/services"
)

// UsageRecorder counts calls per caller and operation.
type UsageRecorder interface {
	Record(p services.Principal, operation string, failed bool, d time.Duration)
}

// Meter records every authenticated call of an operation of the contract, with whether it
// failed (a status of 400 or more) and how long it took.
func Meter(spec *openapi.Spec, rec UsageRecorder) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			op, ok := spec.ByRoute(c.Request().Method, c.Path())
			if !ok {
				return next(c)
			}
			start := time.Now()
			if err := next(c); err != nil {
				c.Error(err)
			}
			if p, ok := services.PrincipalFrom(c.Request().Context()); ok {
				rec.Record(p, op.ID, c.Response().Status >= http.StatusBadRequest, time.Since(start))
			}
			return nil
		}
	}
}
