package middleware

import (
	"errors"
	"mime"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/aidawg/jarvis/middleware/problem"
	"github.com/aidawg/jarvis/middleware/reqvalidate"
	"github.com/aidawg/jarvis/services"
)

// Validate enforces the contract on every request to the API: the body's media type, then
// the operation's parameters and body, with the schemas v compiled at start. The operation is
// the one Echo routed the request to; a path of the contract asked with another method is 405,
// any other path 404. echo-middleware's routing, security and error flow are not used: Echo has
// routed the request already, authentication is a layer of its own, and the errors are shaped
// here. A request refused for breaking the contract (validation_failed, malformed_json) is
// answered as refused decides when it is given, as InvalidBudget does.
func Validate(v *reqvalidate.Validator, refused func(echo.Context, *services.Error) error) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			op, ok := v.Operation(req.Method, c.Path())
			if !ok {
				if v.HasPath(echo.GetPath(req)) {
					return echo.NewHTTPError(http.StatusMethodNotAllowed)
				}
				return echo.NewHTTPError(http.StatusNotFound)
			}
			// Echo matches a path parameter to an empty segment; the contract's paths do not.
			for _, p := range c.ParamValues() {
				if p == "" {
					return echo.NewHTTPError(http.StatusNotFound)
				}
			}
			if op.HasJSONBody() {
				if err := checkJSONBody(req); err != nil {
					return err
				}
			}
			if err := op.Check(req, c); err != nil {
				var tooLarge *echo.HTTPError
				if errors.As(err, &tooLarge) && tooLarge.Code == http.StatusRequestEntityTooLarge {
					return tooLarge
				}
				if se, ok := services.AsError(err); ok && refused != nil &&
					(se.Code == services.CodeValidation || se.Code == problem.CodeMalformedJSON) {
					return refused(c, se)
				}
				return err
			}
			return next(c)
		}
	}
}

func checkJSONBody(req *http.Request) *services.Error {
	ct := req.Header.Get(echo.HeaderContentType)
	if ct == echo.MIMEApplicationJSON {
		return nil
	}
	if ct == "" {
		if req.ContentLength == 0 {
			return nil // an empty body is reported as missing by validation
		}
		return services.Errorf(services.CodeUnsupportedMedia, "The body has no Content-Type. Send it as JSON with Content-Type: application/json.")
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != echo.MIMEApplicationJSON {
		return services.Errorf(services.CodeUnsupportedMedia, "The body is %q. Send it as JSON with Content-Type: application/json.", ct)
	}
	return nil
}
