package middleware

import (
	"net/http"

	"github.com/labstack/echo/v4"
	echomw "github.com/labstack/echo/v4/middleware"
)

// SecurityHeaders sets the helmet set on every answer: no MIME sniffing, no framing, no
// referrer, a CSP that lets a response load and run nothing (the pages under /docs and /console set their own), and HSTS
// when Jarvis is reached over https.
func SecurityHeaders(hsts bool) echo.MiddlewareFunc {
	set := fixedHeaders{
		echo.HeaderXContentTypeOptions:     "nosniff",
		echo.HeaderXFrameOptions:           "DENY",
		echo.HeaderReferrerPolicy:          "no-referrer",
		echo.HeaderContentSecurityPolicy:   "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
		"Cross-Origin-Opener-Policy":       "same-origin",
		echo.HeaderStrictTransportSecurity: "max-age=31536000; includeSubDomains",
	}
	if !hsts {
		delete(set, echo.HeaderStrictTransportSecurity)
	}
	return set.middleware()
}

// fixedHeaders are response fields with the same value on every answer. Their values are made
// once and shared by all responses; each is a slice whose capacity is its length, so that a
// later Add copies it rather than writing into the shared array.
type fixedHeaders map[string]string

func (f fixedHeaders) middleware() echo.MiddlewareFunc {
	type field struct {
		name  string
		value []string
	}
	fields := make([]field, 0, len(f))
	for name, v := range f {
		fields = append(fields, field{http.CanonicalHeaderKey(name), []string{v}[:1:1]})
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			for _, f := range fields {
				h[f.name] = f.value
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
