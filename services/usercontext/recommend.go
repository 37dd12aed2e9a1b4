package usercontext

// Recommendation is a next call, ready to make, with a one-line reason.
type Recommendation struct {
	OperationID string
	Params      map[string]any
	Reason      string
}

// nextStep is each module's natural next call for someone who favours it.
var nextStep = map[string]Recommendation{
	"music":      {"generateMusic", map[string]any{"prompt": "A new idea in the style of your recent tracks", "duration": 30}, "Music is your most used module: sketch another track."},
	"marketing":  {"getMarketingMetrics", map[string]any{"timeRange": "week"}, "Marketing is your most used module: see this week's figures."},
	"engagement": {"analyzeSentiment", map[string]any{"source": "all", "timeRange": "week"}, "Engagement is your most used module: check how listeners feel this week."},
	"automation": {"generateForecast", map[string]any{"metric": "streams", "horizon": 30}, "Automation is your most used module: forecast the next 30 days of streams."},
	"testing":    {"runHealthChecks", map[string]any{"scope": "all"}, "Testing is your most used module: check the platform's health."},
}

// starters are what a new user is offered, the first three the server can carry out.
var starters = []Recommendation{
	{"generateMusic", map[string]any{"prompt": "A warm lo-fi beat with soft piano", "duration": 30}, "Start by making a short track from a description."},
	{"getMarketingMetrics", map[string]any{"timeRange": "month"}, "See last month's streams, listeners and revenue."},
	{"analyzeSentiment", map[string]any{"source": "all", "timeRange": "week"}, "Find out how listeners felt about your music this week."},
	{"detectChurn", map[string]any{"riskThreshold": "medium"}, "See which listeners are at risk of leaving."},
	{"runHealthChecks", map[string]any{"scope": "all"}, "Check that the platform and its dependencies are healthy."},
}

// failureRun is how many failures in a row suggest checking the platform's health.
const failureRun = 3

// Recommend suggests up to three next calls from a user's history (newest first): first a
// health check after a run of failures, then the follow-up of the last action, then the next
// step of the favourite module, filled with starting points. available filters out operations
// this server cannot carry out.
func Recommend(history []Entry, favourite string, available func(string) bool) []Recommendation {
	var out []Recommendation
	seen := map[string]bool{}
	add := func(r Recommendation) {
		if len(out) < 3 && !seen[r.OperationID] && (available == nil || available(r.OperationID)) {
			seen[r.OperationID] = true
			out = append(out, r)
		}
	}
	failures := 0
	for _, e := range history {
		if e.OK() {
			break
		}
		failures++
	}
	if failures >= failureRun {
		add(Recommendation{"runHealthChecks", map[string]any{"scope": "all", "includeMetrics": true},
			"Your last actions failed; check whether Jarvis and its dependencies are healthy."})
	}
	for _, e := range history {
		if !e.OK() {
			continue
		}
		if r, ok := followUp(e); ok {
			add(r)
		}
		break
	}
	if r, ok := nextStep[favourite]; ok {
		add(r)
	}
	for _, r := range starters {
		add(r)
	}
	return out
}

// followUp is the call that naturally follows a successful action.
func followUp(e Entry) (Recommendation, bool) {
	switch e.OperationID {
	case "generateMusic":
		if url, ok := e.Follow["audioUrl"].(string); ok && url != "" {
			return Recommendation{"validateMusic", map[string]any{"audioUrl": url, "standards": "streaming"},
				"Check the track you just generated against streaming loudness standards."}, true
		}
	case "detectChurn":
		if seg, ok := e.Follow["riskiestSegment"].(string); ok && seg != "" {
			return Recommendation{"createReEngagement", map[string]any{"targetSegment": seg, "campaignType": "email"},
				"Win back the segment most at risk of leaving that detectChurn found."}, true
		}
	case "generateForecast":
		return Recommendation{"analyzeGrowth", map[string]any{"includeCompetitors": true, "forecastMonths": 3},
			"See what drives the trend your forecast shows, and how you compare."}, true
	case "analyzeMusic":
		if url, ok := e.Params["audioUrl"].(string); ok && url != "" {
			return Recommendation{"validateMusic", map[string]any{"audioUrl": url, "standards": "streaming"},
				"Check the track you analysed against streaming standards."}, true
		}
	case "analyzeSentiment":
		return Recommendation{"detectChurn", map[string]any{"riskThreshold": "medium"},
			"See which listeners are at risk of leaving."}, true
	}
	return Recommendation{}, false
}
