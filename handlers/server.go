// Package handlers implements the contract's strict server interface over the services.
package handlers

import (
	"time"

	"github.com/aidawg/jarvis/apispec"
	"github.com/aidawg/jarvis/gen/jarvis"
)

// Options are what the handlers need to know about the deployment.
type Options struct {
	Version     string
	PublicURL   string        // scheme and host callers reach Jarvis at, without the base path
	AuthMethods []string      // as the contract's IntegrationInfo names them
	SyncWait    time.Duration // how long a long action waits for its job before answering 202
}

// Deps are the services behind the operations; a nil one makes its operations answer 501.
type Deps struct {
	Jobs     JobService
	Links    ArtifactLinks
	Contexts ContextService
}

// Server implements jarvis.StrictServerInterface.
type Server struct {
	spec      *apispec.Spec
	opts      Options
	jobs      JobService
	links     ArtifactLinks
	contexts  ContextService
	available map[string]bool // operationIds this server carries out rather than answering 501
}

var _ jarvis.StrictServerInterface = (*Server)(nil)

// NewServer builds the handlers.
func NewServer(spec *apispec.Spec, opts Options, deps Deps) *Server {
	s := &Server{spec: spec, opts: opts, jobs: deps.Jobs, links: deps.Links, contexts: deps.Contexts,
		available: map[string]bool{"getIntegrationInfo": true}}
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
func (s *Server) Available(operationID string) bool { return s.available[operationID] }
