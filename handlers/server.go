// Package handlers implements the contract's strict server interface over the services.
package handlers

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aidawg/jarvis/apispec"
	"github.com/aidawg/jarvis/gen/jarvis"
	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/checks"
	"github.com/aidawg/jarvis/services/modules"
)

// Options are what the handlers need to know about the deployment.
type Options struct {
	Version     string
	PublicURL   string   // scheme and host callers reach Jarvis at, without the base path
	AuthMethods []string // as the contract's IntegrationInfo names them
}

// Deps are the services the handlers carry operations out with.
type Deps struct {
	Router *modules.Router  // the AI Dawg modules, remote or embedded
	Checks *checks.Registry // health probes and validators
}

// Server implements jarvis.StrictServerInterface.
type Server struct {
	spec *apispec.Spec
	opts Options
	deps Deps
}

var _ jarvis.StrictServerInterface = (*Server)(nil)

// operationNeeds lists the operations whose handlers do real work, with the AI Dawg commands
// each needs; an operation missing here answers 501. A handler that starts using the router
// adds its operation and commands here, so that getIntegrationInfo stays true.
var operationNeeds = map[string][]modules.Ref{
	"getIntegrationInfo": nil,
	"runHealthChecks":    nil,
	"runValidation":      {modules.CmdRunValidation.Ref},
}

// NewServer builds the handlers.
func NewServer(spec *apispec.Spec, opts Options, deps Deps) *Server {
	return &Server{spec: spec, opts: opts, deps: deps}
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

// meta describes how an answer was made.
func meta(ctx context.Context, servedBy jarvis.ResponseMetaServedBy, start time.Time) jarvis.ResponseMeta {
	ms := int(time.Since(start).Milliseconds())
	return jarvis.ResponseMeta{RequestId: services.RequestID(ctx), ServedBy: servedBy, DurationMs: &ms}
}
