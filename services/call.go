package services

import "context"

// Call is one request as the layers of the chain come to know it: its id, its caller, the
// caller's hints, and the note its action leaves for the layers around it. The first layer puts
// it on the request's context and the later ones fill it in, so that the request is not copied
// once more for each fact learnt.
type Call struct {
	id            string
	principal     Principal
	authenticated bool
	hints         Hints
	note          ActionNote
}

type callKey struct{}

// NewCall returns ctx carrying a new call with id. A request made in process on behalf of an
// authenticated caller, such as an MCP tool call served by the HTTP chain, keeps that caller
// and their hints.
func NewCall(ctx context.Context, id string) (context.Context, *Call) {
	c := &Call{id: id}
	if outer := CallFrom(ctx); outer != nil {
		c.principal, c.authenticated, c.hints = outer.principal, outer.authenticated, outer.hints
	}
	return context.WithValue(ctx, callKey{}, c), c
}

// CallFrom is the call ctx belongs to, or nil outside a request.
func CallFrom(ctx context.Context) *Call {
	c, _ := ctx.Value(callKey{}).(*Call)
	return c
}

// SetPrincipal records the caller once their credentials are checked.
func (c *Call) SetPrincipal(p Principal) { c.principal, c.authenticated = p, true }

// SetHints records what the assistant says about the conversation.
func (c *Call) SetHints(h Hints) { c.hints = h }

// Note is the note of the action this call carries out.
func (c *Call) Note() *ActionNote { return &c.note }

// WithPrincipal returns ctx carrying the caller, for work done on a caller's behalf outside the
// HTTP chain; it keeps the id and hints of the call ctx belongs to.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	c := &Call{principal: p, authenticated: true}
	if outer := CallFrom(ctx); outer != nil {
		c.id, c.hints = outer.id, outer.hints
	}
	return context.WithValue(ctx, callKey{}, c)
}

// PrincipalFrom is the caller of the request ctx belongs to.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	if c := CallFrom(ctx); c != nil && c.authenticated {
		return c.principal, true
	}
	return Principal{}, false
}

// RequestID is the id of the request ctx belongs to, or "".
func RequestID(ctx context.Context) string {
	if c := CallFrom(ctx); c != nil {
		return c.id
	}
	return ""
}

// HintsFrom is the hints of the request ctx belongs to.
func HintsFrom(ctx context.Context) Hints {
	if c := CallFrom(ctx); c != nil {
		return c.hints
	}
	return Hints{}
}
