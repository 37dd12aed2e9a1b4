package services

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestACallIsFilledInPlaceAndAnInnerCallKeepsItsCaller(t *testing.T) {
	ctx, call := NewCall(context.Background(), "req_1")
	_, ok := PrincipalFrom(ctx)
	assert.False(t, ok, "nobody is authenticated yet")

	call.SetPrincipal(DevelopmentPrincipal)
	call.SetHints(Hints{ConversationID: "conv"})
	NoteJob(ctx, "job_1")
	p, ok := PrincipalFrom(ctx)
	assert.True(t, ok)
	assert.Equal(t, DevelopmentPrincipal.User, p.User)
	assert.Equal(t, "req_1", RequestID(ctx))
	assert.Equal(t, "conv", HintsFrom(ctx).ConversationID)
	job, _ := call.Note().Read()
	assert.Equal(t, "job_1", job)

	// A request served in process on this caller's behalf (an MCP tool call).
	inner, innerCall := NewCall(ctx, "req_2")
	p, ok = PrincipalFrom(inner)
	assert.True(t, ok)
	assert.Equal(t, DevelopmentPrincipal.User, p.User)
	assert.Equal(t, "req_2", RequestID(inner))
	assert.Equal(t, "conv", HintsFrom(inner).ConversationID)
	job, _ = innerCall.Note().Read()
	assert.Empty(t, job, "each call has its own note")

	other := WithPrincipal(ctx, Principal{Tenant: "t", User: "u"})
	p, _ = PrincipalFrom(other)
	assert.Equal(t, "u", p.User)
	assert.Equal(t, "req_1", RequestID(other), "keeps the id")
	p, _ = PrincipalFrom(ctx)
	assert.Equal(t, DevelopmentPrincipal.User, p.User, "the outer call is unchanged")

	assert.Empty(t, RequestID(context.Background()))
	_, ok = PrincipalFrom(context.Background())
	assert.False(t, ok)
	NoteJob(context.Background(), "job_x") // outside a call: nothing to note, and no panic
}
