package middleware

import (
	"github.com/labstack/echo/v4"

	"github.com/aidawg/jarvis/middleware/reqvalidate"
	"github.com/aidawg/jarvis/services"
)

// readHeaders are the headers Jarvis reads whatever an operation's contract declares, by their
// canonical key and by the name errors give them. Memory and idempotency read them before
// validation, and a store cannot keep text that is not UTF-8 or holds a NUL.
var readHeaders = [...]struct{ key, field string }{
	{HeaderIdempotencyKey, "header:Idempotency-Key"},
	{HeaderConversationID, "header:openai-conversation-id"},
	{HeaderEphemeralUserID, "header:openai-ephemeral-user-id"},
}

// HeaderText answers 400 when a header Jarvis reads is not UTF-8 text or holds a NUL, before
// any layer hands it on. Parameters and bodies are checked the same way by validation.
func HeaderText() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Request().Header
			for _, rh := range readHeaders {
				for _, v := range h[rh.key] {
					if msg := reqvalidate.BadText(v); msg != "" {
						return &services.Error{Code: services.CodeValidation,
							Fields: []services.FieldError{{Field: rh.field, Message: msg}},
							Detail: "The request does not match the contract: " + rh.field + " " + msg + ". Send it as UTF-8 text without NUL characters, or leave it out."}
					}
				}
			}
			return next(c)
		}
	}
}
