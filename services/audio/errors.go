package audio

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors a caller maps to responses with errors.Is.
var (
	// ErrUnsupportedFormat: the bytes were recognised (or not) as a format
	// this package cannot decode. The *UnsupportedFormatError names it.
	ErrUnsupportedFormat = errors.New("audio: unsupported format")
	// ErrCorrupt: the input claims a supported format but is malformed.
	ErrCorrupt = errors.New("audio: corrupt input")
	// ErrTruncated: the input ends before its header says it should. Every
	// truncated error is also ErrCorrupt.
	ErrTruncated = errors.New("audio: truncated input")
	// ErrTooLong: the audio is longer than Options.MaxSeconds.
	ErrTooLong = errors.New("audio: input longer than the allowed maximum")
)

// UnsupportedFormatError names the detected format and the accepted ones.
type UnsupportedFormatError struct {
	Detected Format
	Accepted []Format
	Reason   string
}

func (e *UnsupportedFormatError) Error() string {
	acc := make([]string, len(e.Accepted))
	for i, f := range e.Accepted {
		acc[i] = string(f)
	}
	msg := fmt.Sprintf("audio: unsupported format %q (accepted: %s)", e.Detected, strings.Join(acc, ", "))
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	return msg
}

// Is makes errors.Is(err, ErrUnsupportedFormat) true.
func (e *UnsupportedFormatError) Is(target error) bool { return target == ErrUnsupportedFormat }

// CorruptError says what was wrong with the input.
type CorruptError struct {
	Format    Format
	Detail    string
	Truncated bool
	Err       error
}

func (e *CorruptError) Error() string {
	kind := "corrupt"
	if e.Truncated {
		kind = "truncated"
	}
	msg := fmt.Sprintf("audio: %s %s input: %s", kind, e.Format, e.Detail)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Is matches ErrCorrupt always and ErrTruncated when the input ended early.
func (e *CorruptError) Is(target error) bool {
	return target == ErrCorrupt || (e.Truncated && target == ErrTruncated)
}

func (e *CorruptError) Unwrap() error { return e.Err }

// TooLongError reports the limit and how far decoding got (or what the
// header declared, when FromHeader is true).
type TooLongError struct {
	MaxSeconds float64
	Seconds    float64
	FromHeader bool
}

func (e *TooLongError) Error() string {
	src := "decoded so far"
	if e.FromHeader {
		src = "declared by the header"
	}
	return fmt.Sprintf("audio: %.1f s %s exceeds the limit of %.1f s", e.Seconds, src, e.MaxSeconds)
}

// Is makes errors.Is(err, ErrTooLong) true.
func (e *TooLongError) Is(target error) bool { return target == ErrTooLong }

func corrupt(f Format, detail string, err error) error {
	return &CorruptError{Format: f, Detail: detail, Err: err}
}

func truncated(f Format, detail string, err error) error {
	return &CorruptError{Format: f, Detail: detail, Truncated: true, Err: err}
}
