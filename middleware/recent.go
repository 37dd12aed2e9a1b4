package middleware

import (
	"time"

	"github.com/labstack/echo/v4"

	"github.com/aidawg/jarvis/openapi"
	"github.com/aidawg/jarvis/services/usage"
)

// Recent counts each answer of a contract operation in rec, for the console's overview of the
// last hour and day. Other paths are not counted.
func Recent(spec *openapi.Spec, rec *usage.Recent) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			op, ok := spec.ByRoute(c.Request().Method, c.Path())
			if !ok {
				return next(c)
			}
			start := time.Now()
			if err := next(c); err != nil {
				// Answered here, so that the status counted is the one the caller gets.
				c.Error(err)
			}
			rec.Record(op.ID, c.Response().Status, time.Since(start))
			return nil
		}
	}
}
