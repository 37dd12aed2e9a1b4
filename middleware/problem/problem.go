// Package problem writes RFC 9457 problems: the one table from error codes to HTTP statuses,
// and the body every error answer carries. Handlers and middleware both answer through it.
package problem

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/aidawg/jarvis/gen/jarvis"
	"github.com/aidawg/jarvis/services"
)

// TypeBase prefixes each problem's type URI; the code completes it.
const TypeBase = "https://jarvis.aidawg.com/problems/"

// Codes of the transport: what HTTP itself refuses before any service sees the request.
const (
	CodeMalformedJSON    services.Code = "malformed_json"
	CodeMethodNotAllowed services.Code = "method_not_allowed"
	CodePayloadTooLarge  services.Code = "payload_too_large"
)

// InternalDetail is what a caller reads of an error Jarvis cannot explain to it.
const InternalDetail = "Something went wrong inside Jarvis. Retry once; if it fails again, report the requestId."

type codeInfo struct {
	status int
	title  string
}

// codes is the one table from error codes to HTTP statuses.
var codes = map[services.Code]codeInfo{
	services.CodeValidation:       {http.StatusBadRequest, "The request does not match the contract"},
	services.CodeUnauthorized:     {http.StatusUnauthorized, "Authentication required"},
	services.CodeForbidden:        {http.StatusForbidden, "Not allowed"},
	services.CodeNotFound:         {http.StatusNotFound, "Not found"},
	services.CodeConflict:         {http.StatusConflict, "Conflict"},
	services.CodeUnprocessable:    {http.StatusUnprocessableEntity, "Cannot be carried out as asked"},
	services.CodeUnsupportedMedia: {http.StatusUnsupportedMediaType, "Unsupported media type"},
	services.CodeRateLimited:      {http.StatusTooManyRequests, "Rate limit reached"},
	services.CodeQuotaExceeded:    {http.StatusTooManyRequests, "Daily quota used up"},
	services.CodeInternal:         {http.StatusInternalServerError, "Internal error"},
	services.CodeNotImplemented:   {http.StatusNotImplemented, "Not implemented"},
	services.CodeBadGateway:       {http.StatusBadGateway, "Bad answer from AI Dawg"},
	services.CodeUnavailable:      {http.StatusServiceUnavailable, "Temporarily unavailable"},
	services.CodeTimeout:          {http.StatusGatewayTimeout, "AI Dawg did not answer in time"},

	CodeMalformedJSON:    {http.StatusBadRequest, "The body is not valid JSON"},
	CodeMethodNotAllowed: {http.StatusMethodNotAllowed, "Method not allowed"},
	CodePayloadTooLarge:  {http.StatusRequestEntityTooLarge, "Body too large"},
}

// Known reports whether code has a status of its own; any other is answered as internal.
func Known(code services.Code) bool {
	_, ok := codes[code]
	return ok
}

// New renders a service error as the contract's problem body.
func New(requestID, instance string, e *services.Error) jarvis.Problem {
	ci, ok := codes[e.Code]
	if !ok {
		ci = codes[services.CodeInternal]
		e = &services.Error{Code: services.CodeInternal, Detail: InternalDetail}
	}
	p := jarvis.Problem{
		Type:   TypeBase + string(e.Code),
		Title:  ci.title,
		Status: ci.status,
		Detail: e.Detail,
		Code:   string(e.Code),
	}
	if requestID != "" {
		p.RequestId = &requestID
	}
	if instance != "" {
		p.Instance = &instance
	}
	if len(e.Fields) > 0 {
		fields := make([]jarvis.FieldError, len(e.Fields))
		for i, f := range e.Fields {
			fields[i] = jarvis.FieldError{Field: f.Field, Message: f.Message}
			if f.Line > 0 {
				line := f.Line
				fields[i].Line = &line
			}
		}
		p.Errors = fields
	}
	if e.RetryAfter > 0 {
		ra := e.RetryAfter
		p.RetryAfter = &ra
	}
	return p
}

// Write writes p as application/problem+json, with Retry-After when it has one.
func Write(w http.ResponseWriter, p jarvis.Problem) error {
	body, err := json.Marshal(p)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	if p.RetryAfter != nil {
		h.Set("Retry-After", strconv.Itoa(*p.RetryAfter))
	}
	w.WriteHeader(p.Status)
	_, err = w.Write(append(body, '\n'))
	return err
}
