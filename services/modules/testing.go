package modules

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aidawg/jarvis/gen/aidawg"
)

// probeTimeout bounds each module probe, so that one stuck dependency cannot hold up the
// report.
const probeTimeout = 2 * time.Second

// testingModule is the AI Dawg testing module: the modules' own health and validation. The
// runtime always includes it.
type testingModule struct{ rt *Runtime }

func (testingModule) Name() string { return "testing" }

func (m testingModule) Register(reg *Registrar) {
	Handle(reg, CmdRunHealthChecks, func(ctx context.Context, p aidawg.RunHealthChecksParams) (aidawg.RunHealthChecksResult, error) {
		scope := aidawg.HealthScopeAll
		if p.Scope != nil {
			scope = *p.Scope
		}
		return aidawg.RunHealthChecksResult{Health: m.rt.Health(ctx, scope)}, nil
	})
	Handle(reg, CmdRunValidation, func(ctx context.Context, p aidawg.RunValidationParams) (aidawg.RunValidationResult, error) {
		criticalOnly := p.Severity != nil && *p.Severity == aidawg.RunValidationParamsSeverityCritical
		return aidawg.RunValidationResult{Validation: m.rt.Validate(ctx, p.ValidationType, criticalOnly)}, nil
	})
}

// Health checks each module that carries out at least one command: its probes pass, and how
// many of its commands it carries out. Every module check is of scope services.
func (rt *Runtime) Health(ctx context.Context, scope aidawg.HealthScope) aidawg.HealthReport {
	report := aidawg.HealthReport{Status: aidawg.HealthStatusHealthy, CheckedAt: time.Now().UTC(), Checks: []aidawg.HealthCheck{}}
	if scope != aidawg.HealthScopeAll && scope != aidawg.HealthScopeServices {
		return report
	}
	var modules []string
	for _, name := range rt.contract.Modules() {
		implemented, _ := rt.Implemented(name)
		if len(implemented) > 0 || len(rt.modules[name].probesOrNil()) > 0 {
			modules = append(modules, name)
		}
	}
	checks := make([]aidawg.HealthCheck, len(modules))
	var wg sync.WaitGroup
	for i, name := range modules {
		wg.Go(func() { checks[i] = rt.checkModule(ctx, name) })
	}
	wg.Wait()

	down := 0
	for _, c := range checks {
		switch c.Status {
		case aidawg.HealthStatusDown:
			down++
			report.Status = aidawg.HealthStatusDegraded
		case aidawg.HealthStatusDegraded:
			report.Status = aidawg.HealthStatusDegraded
		}
	}
	if down > 0 && down == len(checks) {
		report.Status = aidawg.HealthStatusDown
	}
	report.Checks = checks
	return report
}

func (m *moduleState) probesOrNil() []probe {
	if m == nil {
		return nil
	}
	return m.probes
}

func (rt *Runtime) checkModule(ctx context.Context, name string) aidawg.HealthCheck {
	start := time.Now()
	implemented, total := rt.Implemented(name)
	var failed []string
	for _, p := range rt.modules[name].probesOrNil() {
		pctx, cancel := context.WithTimeout(ctx, probeTimeout)
		err := safeProbe(pctx, p.fn)
		cancel()
		if err != nil {
			failed = append(failed, fmt.Sprintf("%s: %v", p.name, err))
		}
	}
	c := aidawg.HealthCheck{
		Name:   "module:" + name,
		Scope:  aidawg.HealthCheckScopeServices,
		Status: aidawg.HealthStatusHealthy,
		Detail: fmt.Sprintf("%d of %d commands carried out", len(implemented), total),
	}
	if len(failed) > 0 {
		c.Status = aidawg.HealthStatusDown
		c.Detail += "; failing: " + strings.Join(failed, "; ")
	}
	c.LatencyMs = float64(time.Since(start).Microseconds()) / 1000
	return c
}

func safeProbe(ctx context.Context, fn func(context.Context) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("probe panicked: %v", p)
		}
	}()
	return fn(ctx)
}

// Validate runs the modules' checks of the given type. api: which commands of the contract
// the embedded modules carry out. business-rules: every rule the modules registered. The
// embedded modules have no config or data of their own to check.
func (rt *Runtime) Validate(ctx context.Context, typ aidawg.ValidationType, criticalOnly bool) aidawg.ValidationReport {
	report := aidawg.ValidationReport{Valid: true, ValidationType: typ, Issues: []aidawg.ValidationIssue{}}
	var issues []aidawg.ValidationIssue
	if typ == aidawg.ValidationTypeAll || typ == aidawg.ValidationTypeApi {
		for _, name := range rt.contract.Modules() {
			implemented, total := rt.Implemented(name)
			report.ChecksRun += total
			if len(implemented) == total {
				continue
			}
			var missing []string
			for _, s := range rt.contract.Commands() {
				if s.Module == name && !rt.Implements(s.Ref) {
					missing = append(missing, s.Action)
				}
			}
			issues = append(issues, aidawg.ValidationIssue{
				Check:    "commands:" + name,
				Category: aidawg.ValidationCategoryApi,
				Severity: aidawg.SeverityInfo,
				Message: fmt.Sprintf("The embedded %s module carries out %d of %d commands; not %s. Without a remote AI Dawg these answer ACTION_NOT_FOUND.",
					name, len(implemented), total, strings.Join(missing, ", ")),
			})
		}
	}
	if typ == aidawg.ValidationTypeAll || typ == aidawg.ValidationTypeBusinessRules {
		for _, name := range rt.contract.Modules() {
			m := rt.modules[name]
			if m == nil {
				continue
			}
			for _, r := range m.rules {
				report.ChecksRun++
				for _, ri := range safeRule(ctx, r.fn) {
					issue := aidawg.ValidationIssue{
						Check:    name + "/" + r.name,
						Category: aidawg.ValidationCategoryBusinessRules,
						Severity: ri.Severity,
						Message:  ri.Message,
					}
					if ri.Field != "" {
						issue.Field = &ri.Field
					}
					issues = append(issues, issue)
				}
			}
		}
	}
	for _, issue := range issues {
		if issue.Severity == aidawg.SeverityCritical {
			report.Valid = false
		}
		if !criticalOnly || issue.Severity == aidawg.SeverityCritical {
			report.Issues = append(report.Issues, issue)
		}
	}
	return report
}

func safeRule(ctx context.Context, fn func(context.Context) []RuleIssue) (issues []RuleIssue) {
	defer func() {
		if p := recover(); p != nil {
			issues = []RuleIssue{{Severity: aidawg.SeverityWarning, Message: fmt.Sprintf("The rule could not be checked: %v", p)}}
		}
	}()
	return fn(ctx)
}
