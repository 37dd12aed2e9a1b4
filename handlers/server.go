// Package handlers implements the contract's strict server interface over the services.
package handlers

import (
	"github.com/aidawg/jarvis/apispec"
	"github.com/aidawg/jarvis/gen/jarvis"
)

// Options are what the handlers need to know about the deployment.
type Options struct {
	Version     string
	PublicURL   string   // scheme and host callers reach Jarvis at, without the base path
	AuthMethods []string // as the contract's IntegrationInfo names them
	Limits      LimitReporter
	Usage       UsageReader // nil leaves getUsage unavailable
}

// Server implements jarvis.StrictServerInterface.
type Server struct {
	spec      *apispec.Spec
	opts      Options
	available map[string]bool // operationIds this server carries out rather than answering 501
}

var _ jarvis.StrictServerInterface = (*Server)(nil)

// NewServer builds the handlers.
func NewServer(spec *apispec.Spec, opts Options) *Server {
	s := &Server{spec: spec, opts: opts, available: map[string]bool{"getIntegrationInfo": true}}
	if opts.Usage != nil {
		s.available["getUsage"] = true
	}
	return s
}

// Available reports whether the server carries out the operation rather than answering 501.
func (s *Server) Available(operationID string) bool { return s.available[operationID] }
