package usercontext

import (
	"sort"
	"strconv"
	"time"

	"github.com/aidawg/jarvis/services"
)

// Action is one call of an action as it ended, as the door that served it saw it.
type Action struct {
	At          time.Time
	OperationID string
	Module      string
	Params      map[string]any // the request's body; summarised before it is stored
	Status      int            // the HTTP status answered
	ProblemCode string         // the problem's code, for a failure that answered one
	Duration    time.Duration
	JobID       string
	Follow      map[string]any
	// ConversationID is the assistant's conversation, which scopes session data.
	ConversationID string
}

// maxConversationID bounds what a caller's conversation header can make Jarvis store.
const maxConversationID = 200

// Outcome is "ok" for a success, otherwise the problem's code, or http_<status> without one.
func (a Action) Outcome() string {
	switch {
	case a.Status < 400:
		return "ok"
	case a.ProblemCode != "":
		return a.ProblemCode
	}
	return "http_" + strconv.Itoa(a.Status)
}

func (a Action) entry() Entry {
	conv := a.ConversationID
	if len(conv) > maxConversationID {
		conv = conv[:maxConversationID]
	}
	return Entry{
		At: a.At, OperationID: a.OperationID, Module: a.Module, Params: a.Params, Outcome: a.Outcome(),
		DurationMs: int(a.Duration.Milliseconds()), JobID: a.JobID, Follow: a.Follow, ConversationID: conv,
	}
}

// Remember queues the action for the owner's history and statistics; it never waits for the
// database.
func (s *Service) Remember(owner services.Owner, a Action) error {
	return s.recorder.Record(owner, a.entry())
}

// HasDefaults reports whether the preferences fill any field of operationID's requests.
func (p Preferences) HasDefaults(operationID string) bool { return len(p.Defaults(operationID)) > 0 }

// FillDefaults fills the fields of an operation's request body that the request left out with
// the user's default params for it, and returns the names it filled, sorted. What the request
// gives always wins.
func (p Preferences) FillDefaults(operationID string, body map[string]any) []string {
	var filled []string
	for k, v := range p.Defaults(operationID) {
		if _, given := body[k]; !given {
			body[k] = v
			filled = append(filled, k)
		}
	}
	sort.Strings(filled)
	return filled
}
