package services

import "slices"

// Scopes a principal can hold.
const (
	ScopeActionsRead  = "actions:read"
	ScopeActionsWrite = "actions:write"
	ScopeJobs         = "jobs"
	ScopeAdmin        = "admin"
)

// Authentication methods a principal can come from.
const (
	MethodAPIKey      = "apiKey"
	MethodAppKey      = "appKey"
	MethodBootstrap   = "bootstrap"
	MethodOAuth2      = "oauth2"
	MethodDevelopment = "development"
	// MethodRelayed is a caller that a Jarvis gateway names to the AI Dawg backend it calls:
	// its User is the gateway caller's Subject.
	MethodRelayed = "relayed"
)

// Principal is who is calling: every job, artifact and context belongs to one tenant and user.
type Principal struct {
	Tenant string
	User   string
	KeyID  string // the API key's id, or "" for other methods
	Method string // apiKey, appKey, bootstrap, oauth2 or development
	Scopes []string
	// Limits overrides the configured rate of a class for this caller ("*" for every class);
	// an API key may carry them.
	Limits map[string]Rate
	// DailyQuota caps this caller's costly calls per UTC day; 0 leaves the configured default.
	DailyQuota int64
}

// Subject names the caller for rate limits and usage: the API key, or the method and the user.
// Two API keys of one user are counted apart; everything else is counted per user.
func (p Principal) Subject() string {
	if p.KeyID != "" {
		return "key:" + p.KeyID
	}
	return p.Method + ":" + p.Tenant + "/" + p.User
}

// Actor names the caller in the records of what it changed: its Subject, or for a relayed
// caller the Subject the gateway named.
func (p Principal) Actor() string {
	if p.Method == MethodRelayed {
		return p.User
	}
	return p.Subject()
}

// Has reports whether the principal holds scope; admin holds every scope.
func (p Principal) Has(scope string) bool {
	return slices.Contains(p.Scopes, scope) || slices.Contains(p.Scopes, ScopeAdmin)
}

// Owner is the key that scopes records to this principal.
func (p Principal) Owner() Owner { return Owner{Tenant: p.Tenant, User: p.User} }

// Owner is the tenant and user a record belongs to.
type Owner struct {
	Tenant string
	User   string
}

// DevelopmentPrincipal is the caller every request becomes under the development bypass.
var DevelopmentPrincipal = Principal{
	Tenant: "dev",
	User:   "dev",
	Method: MethodDevelopment,
	Scopes: []string{ScopeActionsRead, ScopeActionsWrite, ScopeJobs, ScopeAdmin},
}

// AllScopes lists the scopes a principal can hold.
var AllScopes = []string{ScopeActionsRead, ScopeActionsWrite, ScopeJobs, ScopeAdmin}

// Hints are what an assistant says about the conversation and its user. They are recorded in
// logs to help trace a conversation, and never used as identity: anyone can send them.
type Hints struct {
	ConversationID  string
	EphemeralUserID string
}
