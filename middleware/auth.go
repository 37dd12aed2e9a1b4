package middleware

import (
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"

	"github.com/aidawg/jarvis/openapi"
	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/auth"
	"github.com/aidawg/jarvis/services/ratelimit"
)

// Credential and hint headers.
const (
	HeaderAPIKey          = "X-API-Key"
	HeaderAppKey          = "X-ChatGPT-App-Key"
	HeaderConversationID  = "Openai-Conversation-Id"
	HeaderEphemeralUserID = "Openai-Ephemeral-User-Id"
)

// AuthConfig is what the authentication layer needs.
type AuthConfig struct {
	Auth    *auth.Authenticator
	Limiter *ratelimit.Limiter
	// ResourceMetadataURL is the RFC 9728 protected resource metadata that a 401's
	// WWW-Authenticate names, so that OAuth clients find the authorization server; "" when
	// OAuth is off.
	ResourceMetadataURL string
	// Resource is the resource these routes are (RFC 8707): the audience Jarvis's own access
	// tokens must name to be accepted here.
	Resource string
	Log      zerolog.Logger
}

// Authenticate puts the caller's principal on the request's context, or answers 401. Failed
// authentications are counted per client address; once an address reached the limit, its
// failing attempts are refused with 429 until the window ends, which makes guessing slow.
// Valid credentials always pass: many callers share an address (a NAT, an assistant's
// egress), and checking credentials costs the same whether or not the answer is a refusal.
func Authenticate(cfg AuthConfig) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			ctx := req.Context()
			// A request made in process on behalf of an authenticated caller, such as an MCP
			// tool call, already carries its principal; nothing outside can set it.
			if _, ok := services.PrincipalFrom(ctx); ok {
				return next(c)
			}
			h := req.Header
			addr := c.RealIP()
			creds := auth.Credentials{Authorization: h.Get(echo.HeaderAuthorization), APIKey: h.Get(HeaderAPIKey), AppKey: h.Get(HeaderAppKey),
				ClientAddr: addr, Resource: cfg.Resource}
			p, err := cfg.Auth.Authenticate(ctx, creds)
			if err != nil {
				se, ok := services.AsError(err)
				if !ok || se.Code != services.CodeUnauthorized {
					cfg.Log.Warn().Err(err).Str("requestId", services.RequestID(ctx)).Msg("authentication could not be checked")
					return err
				}
				var d ratelimit.Decision
				var lerr error
				if creds.Present() {
					d, lerr = cfg.Limiter.AuthFailed(ctx, addr)
				} else {
					d, lerr = cfg.Limiter.AuthAllowed(ctx, addr)
				}
				if lerr != nil {
					// The failure cannot be counted; under the deny policy that is a 503 too.
					return lerr
				}
				now := time.Now()
				writeLimitHeaders(c.Response().Header(), now, d, nil)
				if creds.Present() && !d.Allowed {
					return &services.Error{Code: services.CodeRateLimited, RetryAfter: d.RetryAfter(now),
						Detail: "Too many failed authentications came from this address. Check the credentials, then retry after retryAfter seconds."}
				}
				c.Response().Header().Set(echo.HeaderWWWAuthenticate, challenge(cfg.ResourceMetadataURL, creds))
				return se
			}
			call := call(c)
			call.SetPrincipal(p)
			call.SetHints(readHints(h))
			return next(c)
		}
	}
}

// challenge is the RFC 6750 WWW-Authenticate value; it says whether the token was wrong, never
// what it was.
func challenge(resourceMetadata string, creds auth.Credentials) string {
	v := `Bearer realm="jarvis"`
	if resourceMetadata != "" {
		v += `, resource_metadata="` + resourceMetadata + `"`
	}
	if creds.Present() {
		v += `, error="invalid_token"`
	}
	return v
}

func readHints(h http.Header) services.Hints {
	return services.Hints{ConversationID: hint(h.Get(HeaderConversationID)), EphemeralUserID: hint(h.Get(HeaderEphemeralUserID))}
}

// hint keeps a hint header only when it is short, printable ASCII, so that it cannot bloat or
// garble a log line.
func hint(v string) string {
	if len(v) == 0 || len(v) > 128 {
		return ""
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x21 || v[i] > 0x7e {
			return ""
		}
	}
	return v
}

// Authorize answers 403 when the caller lacks the scope the operation needs.
func Authorize(spec *openapi.Spec) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			op, ok := spec.ByRoute(c.Request().Method, c.Path())
			if !ok {
				return next(c)
			}
			p, _ := services.PrincipalFrom(c.Request().Context())
			if scope := op.Scope(); scope != "" && !p.Has(scope) {
				have := "no scopes"
				if len(p.Scopes) > 0 {
					have = "only " + strings.Join(p.Scopes, ", ")
				}
				return services.Errorf(services.CodeForbidden,
					"%s needs the scope %s, and these credentials have %s. Use credentials with %s, or call getIntegrationInfo to see what these allow.",
					op.ID, scope, have, scope)
			}
			return next(c)
		}
	}
}

// NoStore keeps answers meant for one caller out of shared caches.
func NoStore() echo.MiddlewareFunc {
	return fixedHeaders{echo.HeaderCacheControl: "no-store"}.middleware()
}
