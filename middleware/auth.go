package middleware

import (
	"github.com/labstack/echo/v4"

	"github.com/aidawg/jarvis/services"
)

// DevelopmentPrincipal makes every request the development user. It is installed only in
// development on a loopback listener.
func DevelopmentPrincipal() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			c.SetRequest(req.WithContext(services.WithPrincipal(req.Context(), services.DevelopmentPrincipal)))
			return next(c)
		}
	}
}
