// Package handlers implements the contract's strict server interface over the services.
package handlers

import (
	"fmt"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/aidawg/jarvis/gen/jarvis"
	"github.com/aidawg/jarvis/middleware/reqvalidate"
	"github.com/aidawg/jarvis/openapi"
	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/checks"
	"github.com/aidawg/jarvis/services/jobs"
	"github.com/aidawg/jarvis/services/modules"
)

// Options are what the handlers need to know about the deployment.
type Options struct {
	Version     string
	PublicURL   string   // scheme and host callers reach Jarvis at, without the base path
	AuthMethods []string // as the contract's IntegrationInfo names them
	Limits      LimitReporter
	Usage       UsageReader // nil leaves getUsage unavailable
	// ImportMaxBytes bounds a file given to importData.
	ImportMaxBytes int64
}

// Deps are the services behind the operations; a nil one makes its operations answer 501.
type Deps struct {
	Jobs     JobService
	Links    ArtifactLinks
	Contexts ContextService
	Router   *modules.Router        // the AI Dawg modules, remote or embedded
	Checks   *checks.Registry       // health probes and validators
	Requests *reqvalidate.Validator // the contract's request rules, compiled once
	Audio    AudioLinks             // which links to audio may be fetched
	Data     DataService            // the tenants' imported data

	Workflows WorkflowService // the callers' workflows
	Grants    GrantService    // nil unless Jarvis is an authorization server
	Scaling   ScalingService  // Jarvis's own pools
}

// Server implements jarvis.StrictServerInterface.
type Server struct {
	spec      *openapi.Spec
	opts      Options
	deps      Deps
	jobs      JobService
	links     ArtifactLinks
	contexts  ContextService
	available map[string]bool // operations carried out by Jarvis's own services
	// unavailable answers each operation the server does not carry out, by generated handler name.
	unavailable map[string]*services.Error
}

var _ jarvis.StrictServerInterface = (*Server)(nil)

// operationNeeds lists the operations whose handlers go to the AI Dawg modules, with the
// commands each needs. A handler that starts using the router adds its operation and commands
// here, so that getIntegrationInfo stays true.
var operationNeeds = map[string][]modules.Ref{
	"runValidation":       {modules.CmdRunValidation.Ref},
	"generateMusic":       {modules.CmdGenerateMusic.Ref},
	"analyzeMusic":        {modules.CmdAnalyzeTrack.Ref},
	"validateMusic":       {modules.CmdValidateQuality.Ref},
	"generateForecast":    {modules.CmdGenerateForecast.Ref},
	"getMarketingMetrics": {modules.CmdGetMetrics.Ref},
	"manageCampaigns":     {modules.CmdManageCampaigns.Ref},
	"analyzeGrowth":       {modules.CmdAnalyzeGrowth.Ref},

	"analyzeSentiment":   {modules.CmdAnalyzeSentiment.Ref},
	"detectChurn":        {modules.CmdCheckChurnRisk.Ref},
	"createReEngagement": {modules.CmdSendEngagement.Ref},
}

// NewServer builds the handlers. An operation whose dependencies are missing from deps answers
// 501, as does one that needs an AI Dawg command no backend carries out; Handler enforces it
// before any handler runs.
func NewServer(spec *openapi.Spec, opts Options, deps Deps) *Server {
	s := &Server{spec: spec, opts: opts, deps: deps, jobs: deps.Jobs, links: deps.Links, contexts: deps.Contexts,
		available: map[string]bool{"getIntegrationInfo": true}}
	set := func(ok bool, ids ...string) {
		for _, id := range ids {
			s.available[id] = ok
		}
	}
	set(opts.Usage != nil, "getUsage")
	set(deps.Jobs != nil && deps.Links != nil, "getJobStatus", "listJobs", "getJobStats", "cancelJob")
	set(deps.Jobs != nil && deps.Links != nil && deps.Jobs.Has(jobs.TypeMusicGeneration), "generateMusic")
	set(deps.Contexts != nil, "getUserContext", "deleteUserContext")
	set(deps.Contexts != nil && deps.Requests != nil, "updatePreferences")
	set(deps.Data != nil && opts.ImportMaxBytes > 0, "importData", "getDataCoverage")
	set(deps.Checks != nil, "runHealthChecks")
	set(deps.Grants != nil, "listGrants", "revokeGrant")
	set(deps.Checks != nil && deps.Router != nil, "runValidation")
	set(deps.Router != nil && deps.Audio != nil, "analyzeMusic", "validateMusic")
	set(deps.Jobs != nil && deps.Links != nil && deps.Jobs.Has(jobs.TypeForecast), "generateForecast")
	set(deps.Workflows != nil && deps.Jobs != nil && deps.Links != nil && deps.Jobs.Has(jobs.TypeWorkflowRun), "manageWorkflows")
	set(deps.Scaling != nil, "manageScaling")
	// What the server carries out cannot change while it runs, so each verdict is reached once.
	s.unavailable = map[string]*services.Error{}
	for _, o := range spec.Operations {
		if ok, why := s.Availability(o.ID); !ok {
			s.unavailable[strings.ToUpper(o.ID[:1])+o.ID[1:]] = services.Errorf(services.CodeNotImplemented,
				"%s is not available on this server: %s. Call getIntegrationInfo to see which operations are available.", o.ID, why)
		}
	}
	return s
}

// Handler is the contract's routes over s. An operation s does not carry out answers 501
// with the reason, so no handler runs without what it needs.
func (s *Server) Handler() jarvis.ServerInterface {
	return jarvis.NewStrictHandler(s, []jarvis.StrictMiddlewareFunc{s.requireAvailable})
}

// requireAvailable is given the generated handler's name of the operation, which is its
// operationId with the first letter upper-cased. The generated code applies it on every
// request, so an available operation gets its handler back untouched, at no cost.
func (s *Server) requireAvailable(next jarvis.StrictHandlerFunc, handlerName string) jarvis.StrictHandlerFunc {
	why, unavailable := s.unavailable[handlerName]
	if !unavailable {
		return next
	}
	return func(c echo.Context, _ any) (any, error) {
		return problemOf(c.Request().Context(), why), nil
	}
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
	built, known := s.available[operationID]
	if known && !built {
		return false, "a service it needs is not configured on this server"
	}
	needs, routed := operationNeeds[operationID]
	if !known && !routed {
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
