// Package reengage renders re-engagement messages for at-risk listeners
// from a template with a fixed set of placeholders, and batches them for
// delivery. Messages are name-free: the only per-listener facts are when
// they last played, where they listen, and the incentive offered.
package reengage

import (
	"errors"
	"fmt"
	"strings"
	"text/template"
	"time"
)

// Placeholders a template may use, each written {{name}}.
const (
	LastPlayed        = "lastPlayed"
	FavouritePlatform = "favouritePlatform"
	Incentive         = "incentive"
)

// placeholders maps each placeholder to the data field it renders.
var placeholders = map[string]string{
	LastPlayed:        "LastPlayed",
	FavouritePlatform: "FavouritePlatform",
	Incentive:         "Incentive",
}

const allowedList = "{{lastPlayed}}, {{favouritePlatform}}, {{incentive}}"

// Errors.
var (
	ErrEmptyTemplate      = errors.New("reengage: the template is empty")
	ErrUnknownPlaceholder = errors.New("reengage: unknown placeholder")
	ErrNoRecipients       = errors.New("reengage: no recipients")
	ErrBadBatchSize       = errors.New("reengage: batch size must be at least 1")
)

// PlaceholderError reports a placeholder the template may not use, or one
// left open. It matches ErrUnknownPlaceholder with errors.Is.
type PlaceholderError struct {
	Text   string // what was written between the braces, or the rest of the line when unclosed
	Line   int    // 1-based
	Column int    // 1-based, in bytes
	Open   bool   // "{{" without a closing "}}"
}

func (e *PlaceholderError) Error() string {
	if e.Open {
		return fmt.Sprintf("reengage: placeholder opened at line %d, column %d is not closed with }}", e.Line, e.Column)
	}
	return fmt.Sprintf("reengage: unknown placeholder {{%s}} at line %d, column %d; allowed: %s",
		e.Text, e.Line, e.Column, allowedList)
}

func (e *PlaceholderError) Unwrap() error { return ErrUnknownPlaceholder }

// Template is a parsed message template.
type Template struct {
	t    *template.Template
	uses map[string]bool
}

// Parse checks and compiles a template. Only {{lastPlayed}},
// {{favouritePlatform}} and {{incentive}} are allowed (spaces inside the
// braces are ignored); anything else between {{ and }}, including
// text/template actions such as {{if}} or {{.Field}}, is refused, so a
// template cannot reach data or logic it was not meant to.
func Parse(text string) (*Template, error) {
	if strings.TrimSpace(text) == "" {
		return nil, ErrEmptyTemplate
	}
	var src strings.Builder
	uses := map[string]bool{}
	rest, offset := text, 0
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			src.WriteString(rest)
			break
		}
		src.WriteString(rest[:i])
		j := strings.Index(rest[i+2:], "}}")
		line, col := position(text, offset+i)
		if j < 0 {
			return nil, &PlaceholderError{Text: rest[i+2:], Line: line, Column: col, Open: true}
		}
		inner := rest[i+2 : i+2+j]
		name := strings.TrimSpace(inner)
		field, ok := placeholders[name]
		if !ok {
			return nil, &PlaceholderError{Text: inner, Line: line, Column: col}
		}
		uses[name] = true
		src.WriteString("{{." + field + "}}")
		consumed := i + 2 + j + 2
		rest, offset = rest[consumed:], offset+consumed
	}
	t, err := template.New("message").Option("missingkey=error").Parse(src.String())
	if err != nil {
		// Unreachable with the rewriting above; kept so a change there
		// cannot turn into a panic later.
		return nil, fmt.Errorf("reengage: template: %w", err)
	}
	return &Template{t: t, uses: uses}, nil
}

// position returns the 1-based line and byte column of offset in text.
func position(text string, offset int) (line, col int) {
	before := text[:offset]
	line = strings.Count(before, "\n") + 1
	return line, offset - strings.LastIndex(before, "\n")
}

// Uses reports whether the template uses the placeholder name.
func (t *Template) Uses(name string) bool { return t.uses[name] }

// Recipient is one at-risk listener to message.
type Recipient struct {
	ListenerID        string    `json:"listenerId"`
	LastPlayed        time.Time `json:"lastPlayed,omitzero"`
	FavouritePlatform string    `json:"favouritePlatform,omitempty"`
	// Incentive overrides Options.Incentive for this listener.
	Incentive string `json:"incentive,omitempty"`
}

// Options for rendering and batching.
type Options struct {
	// Incentive is offered to recipients without their own.
	Incentive string
	// DateLayout formats {{lastPlayed}}; empty means "2 January 2006".
	DateLayout string
	// BatchSize is the number of messages per delivery batch (required).
	BatchSize int
}

// Message is one rendered message.
type Message struct {
	ListenerID string `json:"listenerId"`
	Body       string `json:"body"`
}

type data struct{ LastPlayed, FavouritePlatform, Incentive string }

// Render renders the template for one recipient. A placeholder the
// template uses must have a value: a missing date, platform or incentive
// is an error naming the listener, never a message with a hole in it.
func (t *Template) Render(r Recipient, opt Options) (string, error) {
	d := data{FavouritePlatform: strings.TrimSpace(r.FavouritePlatform), Incentive: strings.TrimSpace(r.Incentive)}
	if d.Incentive == "" {
		d.Incentive = strings.TrimSpace(opt.Incentive)
	}
	if !r.LastPlayed.IsZero() {
		layout := opt.DateLayout
		if layout == "" {
			layout = "2 January 2006"
		}
		d.LastPlayed = r.LastPlayed.Format(layout)
	}
	for _, c := range []struct {
		name    string
		missing bool
	}{
		{LastPlayed, d.LastPlayed == ""}, {FavouritePlatform, d.FavouritePlatform == ""}, {Incentive, d.Incentive == ""},
	} {
		if c.missing && t.uses[c.name] {
			return "", fmt.Errorf("reengage: listener %q has no value for {{%s}}", r.ListenerID, c.name)
		}
	}
	var b strings.Builder
	if err := t.t.Execute(&b, d); err != nil {
		return "", fmt.Errorf("reengage: rendering for listener %q: %w", r.ListenerID, err)
	}
	return b.String(), nil
}

// Build renders a message per recipient, in order, and splits them into
// batches of opt.BatchSize (the last may be smaller). It fails on the first
// recipient that cannot be rendered, so nothing half-rendered is sent.
func Build(t *Template, recipients []Recipient, opt Options) ([][]Message, error) {
	if t == nil {
		return nil, ErrEmptyTemplate
	}
	if opt.BatchSize < 1 {
		return nil, ErrBadBatchSize
	}
	if len(recipients) == 0 {
		return nil, ErrNoRecipients
	}
	msgs := make([]Message, 0, len(recipients))
	seen := make(map[string]bool, len(recipients))
	for i, r := range recipients {
		if r.ListenerID == "" {
			return nil, fmt.Errorf("reengage: recipient %d has no listener id", i)
		}
		if seen[r.ListenerID] {
			return nil, fmt.Errorf("reengage: listener %q is listed twice", r.ListenerID)
		}
		seen[r.ListenerID] = true
		body, err := t.Render(r, opt)
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, Message{ListenerID: r.ListenerID, Body: body})
	}
	return Batch(msgs, opt.BatchSize)
}

// Batch splits messages into consecutive groups of size (the last may be
// smaller). Groups share msgs' backing array, with capacity capped so that
// appending to one group cannot overwrite the next.
func Batch(msgs []Message, size int) ([][]Message, error) {
	if size < 1 {
		return nil, ErrBadBatchSize
	}
	if len(msgs) == 0 {
		return nil, ErrNoRecipients
	}
	out := make([][]Message, 0, (len(msgs)+size-1)/size)
	for len(msgs) > 0 {
		n := min(size, len(msgs))
		out = append(out, msgs[:n:n])
		msgs = msgs[n:]
	}
	return out, nil
}
