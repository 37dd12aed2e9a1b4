package checks

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/aidawg/jarvis/gen/aidawg"
	"github.com/aidawg/jarvis/services/modules"
)

// EmbeddedModulesProbe checks the embedded AI Dawg modules through their testing module's
// health report. critical is true when no remote backend is configured: then nothing else
// carries the actions out.
func EmbeddedModulesProbe(rt *modules.Runtime, critical bool) Probe {
	return Probe{Name: "embedded-modules", Scope: ScopeServices, Critical: critical, Check: func(ctx context.Context) (Status, string) {
		report := rt.Health(ctx, aidawg.HealthScopeAll)
		var carried, none, failing []string
		for _, name := range rt.Contract().Modules() {
			implemented, total := rt.Implemented(name)
			if len(implemented) == 0 {
				none = append(none, name)
				continue
			}
			carried = append(carried, fmt.Sprintf("%s %d of %d", name, len(implemented), total))
		}
		for _, c := range report.Checks {
			if c.Status != aidawg.HealthStatusHealthy {
				failing = append(failing, c.Name+": "+c.Detail)
			}
		}
		detail := "commands carried out: " + strings.Join(carried, ", ")
		if len(none) > 0 {
			detail += "; none yet in " + strings.Join(none, ", ")
		}
		if len(failing) > 0 {
			detail += "; failing: " + strings.Join(failing, "; ")
		}
		return Status(report.Status), detail
	}}
}

// RemoteProbe checks the remote AI Dawg backend's health endpoint and the circuits of its
// modules. critical is true when no embedded fallback stands in for it.
func RemoteProbe(remote *modules.Remote, critical bool) Probe {
	where := redact(remote.URL())
	return Probe{Name: "aidawg-remote", Scope: ScopeDependencies, Critical: critical, Check: func(ctx context.Context) (Status, string) {
		status, err := remote.Health(ctx)
		if err != nil {
			return Down, fmt.Sprintf("AI Dawg at %s did not answer its health check: %v", where, err)
		}
		var open []string
		for module, state := range remote.Circuits() {
			if state != "closed" {
				open = append(open, module+" "+state)
			}
		}
		sort.Strings(open)
		result, detail := Healthy, fmt.Sprintf("AI Dawg at %s reports %s", where, status)
		switch status {
		case aidawg.DesktopHealthStatusDegraded:
			result = Degraded
		case aidawg.DesktopHealthStatusUnhealthy:
			result = Down
		}
		if len(open) > 0 {
			detail += "; circuits not closed: " + strings.Join(open, ", ")
			if result == Healthy {
				result = Degraded
			}
		} else {
			detail += "; all circuits closed"
		}
		return result, detail
	}}
}

// ModuleRules validates the AI Dawg modules' business rules through the testing module,
// on whichever backend the router picks.
func ModuleRules(router *modules.Router) Validator {
	return Validator{Name: "aidawg-business-rules", Category: BusinessRules, Run: func(ctx context.Context) (Outcome, error) {
		res, servedBy, err := modules.Call(ctx, router, modules.CmdRunValidation, aidawg.RunValidationParams{ValidationType: aidawg.ValidationTypeBusinessRules})
		if err != nil {
			return Outcome{}, err
		}
		out := Outcome{Checks: res.Validation.ChecksRun, ServedBy: string(servedBy)}
		for _, is := range res.Validation.Issues {
			i := Issue{Check: is.Check, Category: Category(is.Category), Severity: Severity(is.Severity), Message: is.Message}
			if is.Field != nil {
				i.Field = *is.Field
			}
			out.Issues = append(out.Issues, i)
		}
		return out, nil
	}}
}

// redact drops any credentials from a URL before it goes into a report.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User = nil
	u.RawQuery = ""
	return u.String()
}
