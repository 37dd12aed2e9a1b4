// Package handlers implements the contract's strict server interface over the services.
package handlers

import (
	"fmt"
	"strings"
	"time"

	"github.com/aidawg/jarvis/apispec"
	"github.com/aidawg/jarvis/gen/jarvis"
	"github.com/aidawg/jarvis/services/checks"
	"github.com/aidawg/jarvis/services/modules"
)

// Options are what the handlers need to know about the deployment.
type Options struct {
	Version     string
	PublicURL   string        // scheme and host callers reach Jarvis at, without the base path
	AuthMethods []string      // as the contract's IntegrationInfo names them
	SyncWait    time.Duration // how long a long action waits for its job before answering 202
	Limits      LimitReporter
	Usage       UsageReader // nil leaves getUsage unavailable
}

// Deps are the services behind the operations; a nil one makes its operations answer 501.
type Deps struct {
	Jobs     JobService
	Links    ArtifactLinks
	Contexts ContextService
	Router   *modules.Router  // the AI Dawg modules, remote or embedded
	Checks   *checks.Registry // health probes and validators
}

// Server implements jarvis.StrictServerInterface.
type Server struct {
	spec      *apispec.Spec
	opts      Options
	deps      Deps
	jobs      JobService
	links     ArtifactLinks
	contexts  ContextService
	available map[string]bool // operations carried out by Jarvis's own services
}

var _ jarvis.StrictServerInterface = (*Server)(nil)

// operationNeeds lists the operations whose handlers go to the AI Dawg modules, with the
// commands each needs; an operation neither here nor served by Jarvis's own services answers
// 501. A handler that starts using the router adds its operation and commands here, so that
// getIntegrationInfo stays true.
var operationNeeds = map[string][]modules.Ref{
	"getIntegrationInfo": nil,
	"runHealthChecks":    nil,
	"runValidation":      {modules.CmdRunValidation.Ref},
}

// NewServer builds the handlers.
func NewServer(spec *apispec.Spec, opts Options, deps Deps) *Server {
	s := &Server{spec: spec, opts: opts, deps: deps, jobs: deps.Jobs, links: deps.Links, contexts: deps.Contexts,
		available: map[string]bool{}}
	if opts.Usage != nil {
		s.available["getUsage"] = true
	}
	if deps.Jobs != nil {
		for _, id := range []string{"getJobStatus", "listJobs", "getJobStats", "cancelJob"} {
			s.available[id] = true
		}
		s.available["generateMusic"] = deps.Jobs.Has(JobMusicGeneration)
	}
	if deps.Contexts != nil {
		for _, id := range []string{"getUserContext", "updatePreferences", "deleteUserContext"} {
			s.available[id] = true
		}
	}
	return s
}

// Available reports whether the server carries out the operation rather than answering 501.
func (s *Server) Available(operationID string) bool {
	ok, _ := s.Availability(operationID)
	return ok
}

// Availability reports whether the server carries out the operation, and if not, why: its
// handler is not built, or an AI Dawg command it needs is carried out neither by the
// embedded modules nor by a configured remote backend.
func (s *Server) Availability(operationID string) (bool, string) {
	if s.available[operationID] {
		return true, ""
	}
	needs, built := operationNeeds[operationID]
	if !built {
		return false, "its handler is not built on this server yet"
	}
	var missing []string
	for _, ref := range needs {
		if s.deps.Router == nil || !s.deps.Router.Serves(ref) {
			missing = append(missing, ref.String())
		}
	}
	if len(missing) > 0 {
		return false, fmt.Sprintf("it needs the AI Dawg commands %s, which the embedded modules do not carry out and no remote backend is configured for",
			strings.Join(missing, ", "))
	}
	return true, ""
}
