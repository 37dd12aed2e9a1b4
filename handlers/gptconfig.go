package handlers

import (
	"fmt"
	"sort"
	"strings"

	"github.com/aidawg/jarvis/openapi"
	"github.com/aidawg/jarvis/services"
)

// GPTConfig is what to enter in ChatGPT's GPT builder, made from the live contract so that it
// never drifts from it.
type GPTConfig struct {
	Name                 string          `json:"name"`
	Description          string          `json:"description"`
	Instructions         string          `json:"instructions"`
	ConversationStarters []string        `json:"conversationStarters"`
	SchemaURL            string          `json:"schemaUrl"`
	DocsURL              string          `json:"docsUrl"` // the reference for people
	PrivacyPolicyURL     string          `json:"privacyPolicyUrl,omitempty"`
	Authentication       []GPTAuthOption `json:"authentication"`
	Actions              []GPTAction     `json:"actions"`
}

// GPTAuthOption is one way the GPT can authenticate, with what it costs.
type GPTAuthOption struct {
	Type     string            `json:"type"` // apiKey or oauth
	Settings map[string]string `json:"settings"`
	Note     string            `json:"note"`
}

// GPTAction lists an operation as the GPT will see it.
type GPTAction struct {
	OperationID   string `json:"operationId"`
	Summary       string `json:"summary"`
	Consequential bool   `json:"consequential"`
	Long          bool   `json:"long"`
}

// GPTSetup is what the GPT configuration depends on besides the contract.
type GPTSetup struct {
	PublicURL        string
	PrivacyPolicyURL string                   // "" until the operator publishes one
	OAuthIssuer      string                   // "" without OAuth
	OAuthServer      bool                     // Jarvis is its own authorization server
	Rates            map[string]services.Rate // rate limit per class
	Available        func(operationID string) bool
}

// NewGPTConfig builds the GPT builder settings from the contract and the deployment.
func NewGPTConfig(spec *openapi.Spec, setup GPTSetup) GPTConfig {
	base := strings.TrimRight(setup.PublicURL, "/")
	cfg := GPTConfig{
		Name:             "AI Dawg Studio",
		Description:      "Make, analyse and promote music on AI Dawg: generate tracks, check them against streaming standards, read listener and marketing figures, and run automation.",
		SchemaURL:        base + "/openapi.yaml",
		DocsURL:          base + "/docs",
		PrivacyPolicyURL: setup.PrivacyPolicyURL,
		ConversationStarters: []string{
			"Make a 30-second lo-fi beat with a mellow piano",
			"How did my streams and revenue do this month?",
			"Which listeners are about to churn, and what should I send them?",
			"Is the platform healthy right now?",
		},
	}
	var lines []string
	for _, o := range spec.Operations {
		if setup.Available != nil && !setup.Available(o.ID) {
			continue
		}
		cfg.Actions = append(cfg.Actions, GPTAction{OperationID: o.ID, Summary: o.Summary, Consequential: o.Consequential, Long: o.Long})
		flag := ""
		switch {
		case o.Long:
			flag = " (may answer with a job)"
		case o.Consequential:
			flag = " (confirm with the user first)"
		}
		lines = append(lines, fmt.Sprintf("- %s: %s%s", o.ID, o.Summary, flag))
	}
	var limits []string
	classes := make([]string, 0, len(setup.Rates))
	for c := range setup.Rates {
		classes = append(classes, c)
	}
	sort.Strings(classes)
	for _, c := range classes {
		limits = append(limits, fmt.Sprintf("%s %s", c, describeRate(setup.Rates[c])))
	}
	cfg.Instructions = strings.Join([]string{
		"You help musicians and their teams work with the AI Dawg platform through the Jarvis actions.",
		"",
		"Actions:",
		strings.Join(lines, "\n"),
		"",
		"Long actions: generateMusic, generateForecast and manageWorkflows with action execute answer with the result when it is ready within about 20 seconds. Otherwise they answer a job with pollAfterSeconds: tell the user the work has started, then call getJobStatus with the job's id after that many seconds, and again until its status is completed, failed or cancelled. Give the user any download link from the result; links work without signing in until they expire.",
		"",
		"Before calling an action marked \"confirm with the user first\", say what it will do (who receives what, what it costs) and wait for a yes.",
		"",
		"When an action fails, read the error's detail: it says what was wrong and what to do. Fix the named fields and call again, or explain the problem to the user. On a rate limit (429), tell the user when they can try again (retryAfter seconds).",
		"",
		"Call getUserContext at the start of a conversation to see the user's recent work, their preferences and suggested next steps; offer those suggestions when the user has no clear request.",
		"",
		"Limits per caller: " + strings.Join(limits, "; ") + ".",
	}, "\n")

	cfg.Authentication = []GPTAuthOption{
		{Type: "apiKey", Settings: map[string]string{"authType": "Bearer", "apiKey": "a key from `jarvis keys create`"},
			Note: "Simplest. One key is shared by every user of the GPT: they share its limits, its jobs and its remembered context. Suits a GPT used by one person or one team."},
		{Type: "apiKey", Settings: map[string]string{"authType": "Custom", "customHeaderName": "X-ChatGPT-App-Key", "apiKey": "the value of JARVIS_CHATGPT_APP_KEY"},
			Note: "For a GPT configured with a custom header; like a shared key, every user is the same caller."},
	}
	if setup.OAuthServer {
		cfg.Authentication = append(cfg.Authentication, GPTAuthOption{Type: "oauth", Settings: GPTOAuthSettings(base),
			Note: "Each user of the GPT signs in on Jarvis's own login page (users from `jarvis users create`) and gets their own identity, limits, jobs and context. Client ID and secret come from `jarvis oauth clients create --gpt`; add the callback URL the GPT builder shows with --redirect-uri."})
	}
	if setup.OAuthIssuer != "" {
		issuer := strings.TrimRight(setup.OAuthIssuer, "/")
		cfg.Authentication = append(cfg.Authentication, GPTAuthOption{Type: "oauth", Settings: map[string]string{
			"authorizationUrl": issuer + "/authorize", "tokenUrl": issuer + "/oauth/token",
			"scope": strings.Join(services.AllScopes[:3], " "), "tokenExchangeMethod": "Default (POST request)",
		}, Note: "Each user of the GPT signs in and gets their own identity, limits, jobs and context. Check the authorization and token URLs against your issuer's metadata."})
	}
	return cfg
}

// GPTOAuthSettings are the GPT builder's OAuth settings for Jarvis as authorization server.
func GPTOAuthSettings(publicURL string) map[string]string {
	base := strings.TrimRight(publicURL, "/")
	return map[string]string{
		"authorizationUrl": base + "/oauth/authorize", "tokenUrl": base + "/oauth/token",
		"scope": strings.Join(services.AllScopes[:3], " "), "tokenExchangeMethod": "Basic authorization header",
		"clientId": "the client id from `jarvis oauth clients create --gpt`", "clientSecret": "the secret it printed",
	}
}

func describeRate(r services.Rate) string {
	switch r.Period.String() {
	case "1h0m0s":
		return fmt.Sprintf("%d per hour", r.Limit)
	case "24h0m0s":
		return fmt.Sprintf("%d per day", r.Limit)
	}
	return fmt.Sprintf("%d per %s", r.Limit, r.Period)
}
