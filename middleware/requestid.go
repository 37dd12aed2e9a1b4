// Package middleware holds the HTTP layers every call passes through: request ids, access
// logging and metrics, error shaping, validation against the contract.
package middleware

import (
	"crypto/rand"

	"github.com/labstack/echo/v4"

	"github.com/aidawg/jarvis/services"
)

// HeaderRequestID carries the request id in and out. It is in canonical form, so that reading
// and setting it index the header maps directly.
const HeaderRequestID = "X-Request-Id"

// RequestID takes a well-formed incoming X-Request-ID or makes one, starts the request's
// services.Call with it on the request's context.Context (strict handlers only see that), and
// sets it on the response.
func RequestID() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			id := ""
			if v := c.Request().Header[HeaderRequestID]; len(v) > 0 {
				id = v[0]
			}
			if !wellFormedID(id) {
				id = "req_" + rand.Text()
			}
			c.Response().Header()[HeaderRequestID] = []string{id}
			req := c.Request()
			ctx, _ := services.NewCall(req.Context(), id)
			c.SetRequest(req.WithContext(ctx))
			return next(c)
		}
	}
}

func wellFormedID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		b := id[i]
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '-' || b == '_' || b == '.') {
			return false
		}
	}
	return true
}

// call is the request's services.Call, started here for a chain that has no RequestID layer.
func call(c echo.Context) *services.Call {
	req := c.Request()
	if call := services.CallFrom(req.Context()); call != nil {
		return call
	}
	ctx, call := services.NewCall(req.Context(), "")
	c.SetRequest(req.WithContext(ctx))
	return call
}
