package app

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"slices"
	"time"

	"github.com/aidawg/jarvis/apispec"
	"github.com/aidawg/jarvis/handlers"
	"github.com/aidawg/jarvis/openapi"
	"github.com/aidawg/jarvis/services/checks"
	"github.com/aidawg/jarvis/services/modules"
)

// chatGPTBudget is how long ChatGPT waits for an action's answer.
const chatGPTBudget = 45 * time.Second

// configValidator checks what LoadConfig accepts but deserves a word: settings that work
// but will surprise, or that fit one use and not another.
func configValidator(c Config) checks.Validator {
	// Settings are read once, at start, so their verdict is reached once too.
	verdict := checkSettings(c)
	return checks.Validator{Name: "settings", Category: checks.Config, Run: func(context.Context) (checks.Outcome, error) {
		out := verdict
		out.Issues = slices.Clone(verdict.Issues)
		return out, nil
	}}
}

func checkSettings(c Config) checks.Outcome {
	var out checks.Outcome
	check := func(name string, bad bool, severity checks.Severity, field, format string, args ...any) {
		out.Checks++
		if bad {
			out.Issues = append(out.Issues, checks.Issue{Check: name, Category: checks.Config, Severity: severity,
				Field: field, Message: fmt.Sprintf(format, args...)})
		}
	}
	public, _ := url.Parse(c.PublicURL)
	check("public-url", public == nil || public.Scheme != "https", checks.Warning, "JARVIS_PUBLIC_URL",
		"JARVIS_PUBLIC_URL is %s; ChatGPT needs an https URL to import the schema.", c.PublicURL)
	check("environment", c.Env == "development" && !ListenerIsLoopback(c.Addr), checks.Warning, "JARVIS_ENV",
		"JARVIS_ENV is development but JARVIS_ADDR %s is reachable from other machines; use production there.", c.Addr)
	remote, _ := url.Parse(c.AidawgURL)
	check("aidawg-url", c.Env == "production" && remote != nil && remote.Scheme == "http" && !loopbackHost(remote.Hostname()),
		checks.Warning, "JARVIS_AIDAWG_URL",
		"JARVIS_AIDAWG_URL %s is plain http to another machine; calls to AI Dawg travel unencrypted. Use https.", c.AidawgURL)
	check("aidawg-budget", c.AidawgBudget > chatGPTBudget, checks.Warning, "JARVIS_AIDAWG_BUDGET",
		"JARVIS_AIDAWG_BUDGET is %s, longer than the %s ChatGPT waits for an action; it gives up before Jarvis does.", c.AidawgBudget, chatGPTBudget)
	check("aidawg-fallback", c.AidawgURL != "" && c.AidawgFallback == "none", checks.Info, "JARVIS_AIDAWG_FALLBACK",
		"JARVIS_AIDAWG_FALLBACK is none: while AI Dawg is down every action that needs it fails; embedded lets the embedded modules stand in.")
	return out
}

func loopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// apiValidator checks the contracts built into the binary load and validate, and that every
// operation of the public contract is carried out rather than answered with 501.
func apiValidator(spec *apispec.Spec, server *handlers.Server) checks.Validator {
	return checks.Validator{Name: "contracts", Category: checks.API, Run: func(context.Context) (checks.Outcome, error) {
		var out checks.Outcome
		out.Checks++
		if _, err := apispec.LoadDoc(); err != nil {
			out.Issues = append(out.Issues, checks.Issue{Check: "jarvis-contract", Category: checks.API, Severity: checks.Critical,
				Message: "The public contract built into this server does not load: " + err.Error()})
		}
		out.Checks++
		if _, err := modules.ParseContract(openapi.AidawgYAML); err != nil {
			out.Issues = append(out.Issues, checks.Issue{Check: "aidawg-contract", Category: checks.API, Severity: checks.Critical,
				Message: "The AI Dawg contract built into this server does not load: " + err.Error()})
		}
		for _, o := range spec.Operations {
			out.Checks++
			if ok, why := server.Availability(o.ID); !ok {
				out.Issues = append(out.Issues, checks.Issue{Check: "operation:" + o.ID, Category: checks.API, Severity: checks.Warning,
					Message: fmt.Sprintf("%s answers 501 not_implemented: %s.", o.ID, why)})
			}
		}
		return out, nil
	}}
}
