package middleware

import (
	"net/http"

	"github.com/labstack/echo/v4"
	echomw "github.com/labstack/echo/v4/middleware"
)

// SecurityHeaders sets the helmet set on every answer: no MIME sniffing, no framing, no
// referrer, a CSP that lets a response load and run nothing (Jarvis serves no pages), and HSTS
// when Jarvis is reached over https.
func SecurityHeaders(hsts bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			h.Set(echo.HeaderXContentTypeOptions, "nosniff")
			h.Set(echo.HeaderXFrameOptions, "DENY")
			h.Set(echo.HeaderReferrerPolicy, "no-referrer")
			h.Set(echo.HeaderContentSecurityPolicy, "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
			h.Set("Cross-Origin-Opener-Policy", "same-origin")
			if hsts {
				h.Set(echo.HeaderStrictTransportSecurity, "max-age=31536000; includeSubDomains")
			}
			return next(c)
		}
	}
}

// CORS lets browsers on origins call the API, with the credential headers and exposing the
// limit headers; other origins get no CORS headers, so browsers keep their answers from them.
func CORS(origins []string) echo.MiddlewareFunc {
	return echomw.CORSWithConfig(echomw.CORSConfig{
		AllowOrigins: origins,
		AllowMethods: []string{http.MethodGet, http.MethodPost},
		AllowHeaders: []string{echo.HeaderAuthorization, echo.HeaderContentType, HeaderAPIKey, HeaderAppKey,
			"Idempotency-Key", HeaderRequestID, HeaderConversationID, HeaderEphemeralUserID},
		ExposeHeaders: []string{HeaderRequestID, echo.HeaderRetryAfter, "X-RateLimit-Limit", "X-RateLimit-Remaining",
			"X-RateLimit-Reset", "RateLimit", "RateLimit-Policy", echo.HeaderWWWAuthenticate},
		MaxAge: 600,
	})
}
