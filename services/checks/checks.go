// Package checks holds the registries behind the testing module's runHealthChecks and
// runValidation: each component of Jarvis registers the health probes and validators that
// concern it as it is assembled (the AI Dawg backends today; the database, job queue and
// rate-limit store as they arrive), and a report runs whatever is registered.
package checks

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/aidawg/jarvis/services"
)

// Status is a health status.
type Status string

const (
	Healthy  Status = "healthy"
	Degraded Status = "degraded"
	Down     Status = "down"
)

// Scope groups health checks.
type Scope string

const (
	ScopeAll            Scope = "all"
	ScopeInfrastructure Scope = "infrastructure" // database, job queue, rate-limit store
	ScopeServices       Scope = "services"       // Jarvis's own parts, such as the embedded modules
	ScopeDependencies   Scope = "dependencies"   // services Jarvis calls, such as a remote AI Dawg
)

// Probe checks one dependency. Check answers a status and a detail saying what was found.
type Probe struct {
	Name  string
	Scope Scope
	// Critical marks a dependency Jarvis cannot work without: when it is down the report is
	// down; any other unhealthy check makes the report degraded.
	Critical bool
	Check    func(ctx context.Context) (Status, string)
}

// CheckResult is the outcome of one probe.
type CheckResult struct {
	Name    string
	Scope   Scope
	Status  Status
	Latency time.Duration
	Detail  string
}

// HealthReport is the outcome of a health check run.
type HealthReport struct {
	Status    Status
	Scope     Scope
	CheckedAt time.Time
	Checks    []CheckResult
	Requests  *RequestFigures // with metrics only
	Jobs      *JobCounts      // with metrics, once a job queue is registered
}

// RequestFigures count the API requests served since start.
type RequestFigures struct {
	Total  uint64
	Errors uint64 // answered with a 5xx status
}

// JobCounts count jobs by status.
type JobCounts struct {
	Queued, Running, Completed, Failed, Cancelled int
}

// RequestCounter gives the request figures; the HTTP metrics implement it.
type RequestCounter interface {
	RequestTotals() (total, errors uint64)
}

// JobCounter gives the job figures; the job queue implements it.
type JobCounter interface {
	JobCounts(ctx context.Context) (JobCounts, error)
}

// Severity is how serious a validation issue is.
type Severity string

const (
	Critical Severity = "critical"
	Warning  Severity = "warning"
	Info     Severity = "info"
)

// Category is a kind of validation.
type Category string

const (
	Data          Category = "data"
	Config        Category = "config"
	API           Category = "api"
	BusinessRules Category = "business-rules"
)

// Categories lists every category in report order.
var Categories = []Category{Config, API, Data, BusinessRules}

// Issue is one problem a validator found.
type Issue struct {
	Check    string
	Category Category
	Severity Severity
	Message  string
	Field    string
}

// Outcome is what a validator found: how many checks it ran and the issues.
type Outcome struct {
	Checks   int
	Issues   []Issue
	ServedBy string // set when another service did the checking, such as the AI Dawg modules
}

// Validator runs checks of one category. An error means the checks could not be run.
type Validator struct {
	Name     string
	Category Category
	Run      func(ctx context.Context) (Outcome, error)
}

// ValidationReport is the outcome of a validation run.
type ValidationReport struct {
	Valid     bool
	Type      string // a category or all
	ChecksRun int
	Issues    []Issue
	ServedBy  string // the only validator's ServedBy, when one validator ran
}

// Registry holds the probes and validators registered so far.
type Registry struct {
	mu           sync.RWMutex
	probes       []Probe
	validators   []Validator
	requests     RequestCounter
	jobs         JobCounter
	probeTimeout time.Duration
}

// New makes an empty registry; each probe gets at most probeTimeout.
func New(probeTimeout time.Duration) *Registry {
	return &Registry{probeTimeout: probeTimeout}
}

// AddProbe registers a health probe.
func (r *Registry) AddProbe(p Probe) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.probes = append(r.probes, p)
}

// AddValidator registers a validator.
func (r *Registry) AddValidator(v Validator) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.validators = append(r.validators, v)
}

// SetRequestCounter gives the registry the request figures.
func (r *Registry) SetRequestCounter(c RequestCounter) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests = c
}

// SetJobCounter gives the registry the job figures.
func (r *Registry) SetJobCounter(c JobCounter) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.jobs = c
}

// Health runs every probe in scope at once and rates the whole: down when a critical
// dependency is down, degraded when anything is not healthy, else healthy.
func (r *Registry) Health(ctx context.Context, scope Scope, withMetrics bool) HealthReport {
	r.mu.RLock()
	var probes []Probe
	for _, p := range r.probes {
		if scope == ScopeAll || p.Scope == scope {
			probes = append(probes, p)
		}
	}
	requests, jobs := r.requests, r.jobs
	r.mu.RUnlock()

	report := HealthReport{Status: Healthy, Scope: scope, CheckedAt: time.Now().UTC(), Checks: make([]CheckResult, len(probes))}
	var wg sync.WaitGroup
	for i, p := range probes {
		wg.Go(func() { report.Checks[i] = r.run(ctx, p) })
	}
	wg.Wait()
	for i, c := range report.Checks {
		switch {
		case c.Status == Down && probes[i].Critical:
			report.Status = Down
		case c.Status != Healthy && report.Status == Healthy:
			report.Status = Degraded
		}
	}

	if withMetrics {
		figures := RequestFigures{}
		if requests != nil {
			figures.Total, figures.Errors = requests.RequestTotals()
		}
		report.Requests = &figures
		if jobs != nil {
			if counts, err := jobs.JobCounts(ctx); err == nil {
				report.Jobs = &counts
			}
		}
	}
	return report
}

// run calls one probe within the probe timeout; a probe that panics or overruns is down.
func (r *Registry) run(ctx context.Context, p Probe) CheckResult {
	ctx, cancel := context.WithTimeout(ctx, r.probeTimeout)
	defer cancel()
	start := time.Now()
	type answer struct {
		status Status
		detail string
	}
	done := make(chan answer, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				done <- answer{Down, fmt.Sprintf("the check failed: %v", v)}
			}
		}()
		s, d := p.Check(ctx)
		done <- answer{s, d}
	}()
	var a answer
	select {
	case a = <-done:
	case <-ctx.Done():
		a = answer{Down, fmt.Sprintf("no answer within %s", r.probeTimeout)}
	}
	return CheckResult{Name: p.Name, Scope: p.Scope, Status: a.status, Latency: time.Since(start), Detail: a.detail}
}

// Validate runs the validators of typ (a category, or all). valid is false when any
// critical issue exists; criticalOnly leaves the other issues out of the report. A validator
// that cannot run becomes a warning, unless it alone was asked for: then its error is the
// answer, so that the caller learns why and when to retry.
func (r *Registry) Validate(ctx context.Context, typ string, criticalOnly bool) (ValidationReport, error) {
	r.mu.RLock()
	validators := append([]Validator(nil), r.validators...)
	r.mu.RUnlock()

	report := ValidationReport{Valid: true, Type: typ, Issues: []Issue{}}
	var issues []Issue
	ran := 0
	for _, cat := range Categories {
		if typ != "all" && typ != string(cat) {
			continue
		}
		var ofCategory []Validator
		for _, v := range validators {
			if v.Category == cat {
				ofCategory = append(ofCategory, v)
			}
		}
		if len(ofCategory) == 0 {
			issues = append(issues, Issue{Check: string(cat), Category: cat, Severity: Info,
				Message: fmt.Sprintf("No %s checks are registered on this server.", cat)})
			continue
		}
		for _, v := range ofCategory {
			out, err := v.Run(ctx)
			if err != nil {
				if typ != "all" && len(ofCategory) == 1 {
					return ValidationReport{}, err
				}
				detail := err.Error()
				if se, ok := services.AsError(err); ok {
					detail = se.Detail
				}
				issues = append(issues, Issue{Check: v.Name, Category: cat, Severity: Warning,
					Message: "Could not be checked: " + detail})
				continue
			}
			ran++
			report.ChecksRun += out.Checks
			report.ServedBy = out.ServedBy
			for _, is := range out.Issues {
				if is.Category == "" {
					is.Category = cat
				}
				issues = append(issues, is)
			}
		}
	}
	if ran != 1 {
		report.ServedBy = ""
	}
	for _, is := range issues {
		if is.Severity == Critical {
			report.Valid = false
		}
		if !criticalOnly || is.Severity == Critical {
			report.Issues = append(report.Issues, is)
		}
	}
	return report, nil
}
