package openapi

import (
	"net/http"
	"strings"
)

// Scopes an operation can need; they match services' scope names.
const (
	ScopeActionsRead  = "actions:read"
	ScopeActionsWrite = "actions:write"
	ScopeJobs         = "jobs"
	ScopeAdmin        = "admin"
)

// Scope is the scope a caller needs for the operation, "" when any authenticated caller may
// call it: admin operations need admin, job operations jobs, consequential operations
// actions:write, and the other actions (reads and analyses) actions:read, unless x-jarvis-scope
// names another (manageScaling changes the server itself, which is admin's).
func (o *Operation) Scope() string {
	switch {
	case o.ScopeOverride != "":
		return o.ScopeOverride
	case o.Module == "admin":
		return ScopeAdmin
	case o.Module == "jobs":
		return ScopeJobs
	case o.Module == "integration", o.Module == "account":
		// Any caller may see and revoke the grants of their own sign-ins; the handler keeps
		// everyone else's to the admin scope.
		return ""
	case o.Module == "context":
		// Reading what is remembered of oneself is a read; changing or erasing it is a write.
		if o.Method == http.MethodGet {
			return ScopeActionsRead
		}
		return ScopeActionsWrite
	case o.Consequential:
		return ScopeActionsWrite
	}
	return ScopeActionsRead
}

// RateClass is the class of rate limit the operation counts against: module.action for
// actions (music.generate), jobs.read for every read of jobs, otherwise the path's fixed
// segments (jobs.cancel, admin.usage), or the module for the root.
func (o *Operation) RateClass() string {
	if o.Module == "jobs" && o.Method == http.MethodGet {
		return "jobs.read"
	}
	var parts []string
	for _, seg := range strings.Split(strings.Trim(o.Path, "/"), "/") {
		if seg == "" || seg == "actions" || strings.HasPrefix(seg, "{") {
			continue
		}
		parts = append(parts, seg)
	}
	if len(parts) == 0 {
		return o.Module
	}
	return strings.Join(parts, ".")
}

// Costly reports whether calls of the operation count against a daily quota: the long
// actions, which start work that takes a while and costs compute.
func (o *Operation) Costly() bool { return o.Long }
