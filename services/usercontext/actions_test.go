package usercontext

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestFillDefaultsLeavesWhatTheRequestGives(t *testing.T) {
	p := DefaultPreferences()
	p.DefaultParams = []DefaultParams{
		{OperationID: "generateMusic", Params: map[string]any{"genre": "ambient", "duration": 60.0, "mood": "calm"}},
		{OperationID: "analyzeMusic", Params: map[string]any{"analyzeVocals": true}},
	}
	body := map[string]any{"prompt": "x", "genre": "rock"}
	assert.True(t, p.HasDefaults("generateMusic"))
	assert.False(t, p.HasDefaults("runValidation"))
	assert.Equal(t, []string{"duration", "mood"}, p.FillDefaults("generateMusic", body))
	assert.Equal(t, "rock", body["genre"], "the request wins")
	assert.Equal(t, 60.0, body["duration"])
	assert.NotContains(t, body, "analyzeVocals", "another operation's defaults stay out")
	assert.Empty(t, p.FillDefaults("runValidation", map[string]any{}))
}

func TestActionOutcomeAndEntry(t *testing.T) {
	tests := []struct {
		status int
		code   string
		want   string
	}{
		{200, "", "ok"},
		{202, "", "ok"},
		{422, "unprocessable", "unprocessable"},
		{502, "", "http_502"},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, Action{Status: tc.status, ProblemCode: tc.code}.Outcome())
	}
	e := Action{Status: 200, ConversationID: strings.Repeat("c", 500)}.entry()
	assert.Len(t, e.ConversationID, maxConversationID, "a caller's header is stored bounded")
	assert.True(t, e.OK())
}
