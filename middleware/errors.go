package middleware

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"

	"github.com/aidawg/jarvis/middleware/problem"
	"github.com/aidawg/jarvis/services"
)

// ErrorHandler is Echo's central error handler: every error becomes an RFC 9457 problem.
// Expected failures keep their code and detail; anything else is logged with the request id
// and answered with a generic 500 that reveals nothing internal.
func ErrorHandler(log zerolog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		req := c.Request()
		requestID := services.RequestID(req.Context())
		if c.Response().Committed {
			// The answer is on its way; the error can no longer change it, but must be seen.
			log.Error().Err(err).Str("requestId", requestID).Str("method", req.Method).
				Str("path", req.URL.Path).Int("status", c.Response().Status).Msg("error after the answer was sent")
			return
		}
		se := toServiceError(err, c)
		switch {
		case se.Code == services.CodeInternal:
			log.Error().Err(err).Str("requestId", requestID).Str("method", req.Method).
				Str("path", req.URL.Path).Msg("request failed")
		case se.Err != nil:
			// The caller's doing, such as a body that broke off; its cause helps only to debug.
			log.Debug().Err(se.Err).Str("requestId", requestID).Str("code", string(se.Code)).Msg("request refused")
		}
		p := problem.New(requestID, req.URL.Path, se)
		if p.Status == http.StatusMethodNotAllowed {
			if allow := c.Response().Header().Get(echo.HeaderAllow); allow == "" {
				c.Response().Header().Set(echo.HeaderAllow, "GET, POST")
			}
		}
		if req.Method == http.MethodHead {
			c.Response().Header().Set("Content-Type", "application/problem+json")
			c.Response().WriteHeader(p.Status)
			return
		}
		if werr := problem.Write(c.Response(), p); werr != nil {
			// The caller has gone, most likely after breaking off its request.
			log.Debug().Err(werr).Str("requestId", requestID).Msg("write problem")
		}
	}
}

func toServiceError(err error, c echo.Context) *services.Error {
	if se, ok := services.AsError(err); ok && problem.Known(se.Code) {
		return se
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		if se, ok := services.AsError(he.Internal); ok {
			return se
		}
		return fromHTTPStatus(he, c)
	}
	return &services.Error{Code: services.CodeInternal, Err: err,
		Detail: problem.InternalDetail}
}

func fromHTTPStatus(he *echo.HTTPError, c echo.Context) *services.Error {
	req := c.Request()
	switch he.Code {
	case http.StatusNotFound:
		return services.Errorf(services.CodeNotFound,
			"There is no operation at %s %s. The operations are listed at /openapi.yaml under the base path /integrations/chatgpt.", req.Method, req.URL.Path)
	case http.StatusMethodNotAllowed:
		return services.Errorf(problem.CodeMethodNotAllowed,
			"%s is not allowed on %s. Use the method the contract gives for this path.", req.Method, req.URL.Path)
	case http.StatusRequestEntityTooLarge:
		return services.Errorf(problem.CodePayloadTooLarge,
			"The body is larger than this server accepts. Send less data, for example fewer texts or data points.")
	case http.StatusUnsupportedMediaType:
		return services.Errorf(services.CodeUnsupportedMedia,
			"Send the body as JSON with Content-Type: application/json.")
	case http.StatusBadRequest:
		// Validation has already passed, so this is a body that could not be bound.
		return &services.Error{Code: problem.CodeMalformedJSON, Err: he,
			Detail: "The body could not be read as the contract's JSON. Send a JSON object as the contract describes."}
	case http.StatusUnauthorized:
		return services.Errorf(services.CodeUnauthorized, "Authenticate with a bearer token or an API key.")
	case http.StatusForbidden:
		return services.Errorf(services.CodeForbidden, "The credentials do not allow this operation.")
	case http.StatusTooManyRequests:
		return services.Errorf(services.CodeRateLimited, "Too many requests; wait and retry.")
	case http.StatusServiceUnavailable:
		return services.Errorf(services.CodeUnavailable, "Jarvis is not ready to serve this request; retry shortly.")
	}
	return &services.Error{Code: services.CodeInternal, Err: he,
		Detail: problem.InternalDetail}
}
