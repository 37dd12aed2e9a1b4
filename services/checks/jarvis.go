package checks

import (
	"time"

	"github.com/aidawg/jarvis/openapi"
	"github.com/aidawg/jarvis/services/jobs"
	"github.com/aidawg/jarvis/services/modules"
	"github.com/aidawg/jarvis/services/storage"
)

// Parts are what Jarvis's own checks look at.
type Parts struct {
	Router    *modules.Router
	DB        *storage.DB
	Jobs      *jobs.Store
	Requests  RequestCounter
	Settings  Settings
	Spec      *openapi.Spec
	Available Availability // whether the server carries out each operation
}

// stuckQueueAfter is how long a queued job may wait before the queue counts as stuck.
const stuckQueueAfter = 5 * time.Minute

// ForJarvis is the registry runHealthChecks and runValidation run on a Jarvis server:
//
// probes (runHealthChecks):
//   - services: the embedded AI Dawg modules' own probes (critical without a remote backend);
//   - dependencies: the remote AI Dawg and its circuits, when one is configured;
//   - infrastructure: the database, the job queue (stuck when a job waits over 5 minutes);
//
// validators (runValidation):
//   - config: the settings that work but deserve a word (SettingsValidator);
//   - api: both contracts load, every operation is carried out (ContractsValidator);
//   - business-rules: the AI Dawg modules' rules, on whichever backend the router picks;
//   - data: migrations applied, no job or history entry orphaned (DataValidator).
func ForJarvis(p Parts, probeTimeout time.Duration) *Registry {
	r := New(probeTimeout)
	r.SetRequestCounter(p.Requests)
	r.AddProbe(EmbeddedModulesProbe(p.Router.Embedded(), p.Router.Remote() == nil))
	if remote := p.Router.Remote(); remote != nil {
		r.AddProbe(RemoteProbe(remote, !p.Router.Fallback()))
	}
	r.AddProbe(DatabaseProbe(p.DB))
	r.AddProbe(JobQueueProbe(p.Jobs, stuckQueueAfter))
	r.SetJobCounter(jobFigures{p.Jobs})

	r.AddValidator(SettingsValidator(p.Settings))
	r.AddValidator(ContractsValidator(p.Spec, p.Available))
	r.AddValidator(ModuleRules(p.Router))
	r.AddValidator(DataValidator(p.DB))
	return r
}
