package services

import (
	"context"
	"slices"
)

// Scopes a principal can hold.
const (
	ScopeActionsRead  = "actions:read"
	ScopeActionsWrite = "actions:write"
	ScopeJobs         = "jobs"
	ScopeAdmin        = "admin"
)

// Principal is who is calling: every job, artifact and context belongs to one tenant and user.
type Principal struct {
	Tenant string
	User   string
	KeyID  string // the API key's id, or "" for other methods
	Method string // apiKey, appKey, bootstrap, oauth2 or development
	Scopes []string
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

type principalKey struct{}

// WithPrincipal returns ctx carrying the caller.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom is the caller of the request ctx belongs to.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// DevelopmentPrincipal is the caller every request becomes under the development bypass.
var DevelopmentPrincipal = Principal{
	Tenant: "dev",
	User:   "dev",
	Method: "development",
	Scopes: []string{ScopeActionsRead, ScopeActionsWrite, ScopeJobs, ScopeAdmin},
}
