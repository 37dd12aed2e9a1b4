package checks

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"slices"
	"time"
)

// chatGPTBudget is how long ChatGPT waits for an action's answer.
const chatGPTBudget = 45 * time.Second

// Settings are the deployment's settings the config checks judge.
type Settings struct {
	Env              string // development or production
	Addr             string
	ListenerLoopback bool // Addr accepts connections from this machine only
	PublicURL        string
	AidawgURL        string
	AidawgBudget     time.Duration
	AidawgFallback   string // embedded or none
}

// SettingsValidator checks what the configuration accepts but deserves a word: settings that
// work but will surprise, or that fit one use and not another.
func SettingsValidator(c Settings) Validator {
	// Settings are read once, at start, so their verdict is reached once too.
	verdict := checkSettings(c)
	return Validator{Name: "settings", Category: Config, Run: func(context.Context) (Outcome, error) {
		out := verdict
		out.Issues = slices.Clone(verdict.Issues)
		return out, nil
	}}
}

func checkSettings(c Settings) Outcome {
	var out Outcome
	check := func(name string, bad bool, severity Severity, field, format string, args ...any) {
		out.Checks++
		if bad {
			out.Issues = append(out.Issues, Issue{Check: name, Category: Config, Severity: severity,
				Field: field, Message: fmt.Sprintf(format, args...)})
		}
	}
	public, _ := url.Parse(c.PublicURL)
	check("public-url", public == nil || public.Scheme != "https", Warning, "JARVIS_PUBLIC_URL",
		"JARVIS_PUBLIC_URL is %s; ChatGPT needs an https URL to import the schema.", c.PublicURL)
	check("environment", c.Env == "development" && !c.ListenerLoopback, Warning, "JARVIS_ENV",
		"JARVIS_ENV is development but JARVIS_ADDR %s is reachable from other machines; use production there.", c.Addr)
	remote, _ := url.Parse(c.AidawgURL)
	check("aidawg-url", c.Env == "production" && remote != nil && remote.Scheme == "http" && !loopbackHost(remote.Hostname()),
		Warning, "JARVIS_AIDAWG_URL",
		"JARVIS_AIDAWG_URL %s is plain http to another machine; calls to AI Dawg travel unencrypted. Use https.", c.AidawgURL)
	check("aidawg-budget", c.AidawgBudget > chatGPTBudget, Warning, "JARVIS_AIDAWG_BUDGET",
		"JARVIS_AIDAWG_BUDGET is %s, longer than the %s ChatGPT waits for an action; it gives up before Jarvis does.", c.AidawgBudget, chatGPTBudget)
	check("aidawg-fallback", c.AidawgURL != "" && c.AidawgFallback == "none", Info, "JARVIS_AIDAWG_FALLBACK",
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
