// Package services holds the application: module routing, jobs, user context, keys and storage.
// It knows nothing of HTTP frameworks or generated API types.
package services

import (
	"errors"
	"fmt"
)

// Code is a stable, machine-readable error code. The problem package holds the one table that
// maps each code to an HTTP status; the codes of the transport itself (a body that is not JSON,
// a method the path does not take) are declared there, not here.
type Code string

// The codes a service's error carries.
const (
	CodeValidation    Code = "validation_failed" // the request breaks a rule of the contract
	CodeUnauthorized  Code = "unauthorized"
	CodeForbidden     Code = "forbidden"
	CodeNotFound      Code = "not_found"
	CodeConflict      Code = "conflict"
	CodeUnprocessable Code = "unprocessable" // well-formed, but cannot be carried out as asked
	// CodeUnsupportedMedia: a body, or media a request points at, in a format Jarvis cannot read.
	CodeUnsupportedMedia Code = "unsupported_media_type"
	CodeRateLimited      Code = "rate_limited"
	CodeQuotaExceeded    Code = "quota_exceeded"
	CodeInternal         Code = "internal"
	CodeNotImplemented   Code = "not_implemented"
	CodeBadGateway       Code = "bad_gateway" // AI Dawg answered wrongly
	CodeUnavailable      Code = "unavailable"
	CodeTimeout          Code = "timeout"
)

// FieldError names one field of a request that is wrong.
type FieldError struct {
	Field   string // JSON pointer into the body, or "query:name", "path:name", "header:name"
	Message string
	Line    int // for a row of an imported file, its line; Field is then the column
}

// Error is an expected failure with a code, a detail written for the model that reads it,
// and optionally the fields at fault and a retry delay in seconds.
type Error struct {
	Code       Code
	Detail     string
	Fields     []FieldError
	RetryAfter int
	Err        error // cause, for logs only
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Detail, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Detail)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf makes an *Error with a formatted detail.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Detail: fmt.Sprintf(format, args...)}
}

// AsError finds an *Error in err's chain.
func AsError(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}
