package tests

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/gen/client"
)

// readContext polls getUserContext until cond holds: actions are recorded off the request path.
func readContext(t *testing.T, s *server, conversation string, cond func(client.UserContext) bool) client.UserContext {
	t.Helper()
	var params *client.GetUserContextParams
	if conversation != "" {
		params = &client.GetUserContextParams{OpenaiConversationId: &conversation}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := s.Client.GetUserContextWithResponse(context.Background(), params)
		require.NoError(t, err)
		require.NotNil(t, resp.JSON200, "status %d: %s", resp.StatusCode(), resp.Body)
		if cond(*resp.JSON200) {
			return *resp.JSON200
		}
		require.False(t, time.Now().After(deadline), "context never matched; last: %s", resp.Body)
		time.Sleep(20 * time.Millisecond)
	}
}

// availableOperations are the operations the server carries out, as getIntegrationInfo says.
func availableOperations(t *testing.T, s *server) map[string]bool {
	t.Helper()
	info, err := s.Client.GetIntegrationInfoWithResponse(context.Background())
	require.NoError(t, err)
	require.NotNil(t, info.JSON200)
	out := map[string]bool{}
	for _, m := range info.JSON200.Modules {
		for _, o := range m.Operations {
			out[o.OperationId] = o.Available != nil && *o.Available
		}
	}
	return out
}

func recOps(recs []client.Recommendation) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = string(r.OperationId)
	}
	return out
}

// Every action is remembered, and what was done shapes what is suggested next.
func TestContextRemembersActionsAndRecommends(t *testing.T) {
	t.Parallel()
	eachDatabase(t, nil, func(t *testing.T, s *server) {
		ctx := context.Background()
		available := availableOperations(t, s)
		fresh := readContext(t, s, "", func(client.UserContext) bool { return true })
		assert.Zero(t, fresh.Statistics.TotalActions)
		var starters []string
		for _, op := range []string{"generateMusic", "getMarketingMetrics", "analyzeSentiment", "detectChurn", "runHealthChecks"} {
			if available[op] && len(starters) < 3 {
				starters = append(starters, op)
			}
		}
		require.NotEmpty(t, starters)
		assert.Equal(t, starters, recOps(fresh.Recommendations), "a new user gets starting points this server can carry out")

		conv := "conv-" + t.Name()
		withConv := func(_ context.Context, req *http.Request) error {
			req.Header.Set("openai-conversation-id", conv)
			return nil
		}
		long := strings.Repeat("dreamy ", 60)
		resp, err := s.Client.GenerateMusicWithResponse(ctx, nil, client.GenerateMusicRequest{Prompt: long, Duration: ptr(5)}, withConv)
		require.NoError(t, err)
		require.NotNil(t, resp.JSON200, "status %d: %s", resp.StatusCode(), resp.Body)
		// A failing action is remembered with its problem's code.
		bad, err := s.Client.ListJobsWithResponse(ctx, nil)
		require.NoError(t, err)
		require.NotNil(t, bad.JSON200, "job reads are not actions and are not recorded")
		_, err = s.Client.GenerateMusicWithResponse(ctx, nil, client.GenerateMusicRequest{Prompt: ""}, withConv)
		require.NoError(t, err)

		c := readContext(t, s, conv, func(c client.UserContext) bool { return c.Statistics.TotalActions == 2 })
		require.Len(t, c.RecentActions, 2)
		failed, made := c.RecentActions[0], c.RecentActions[1]
		assert.Equal(t, "generateMusic", failed.OperationId)
		assert.Equal(t, "validation_failed", failed.Outcome)
		assert.Equal(t, "generateMusic", made.OperationId)
		assert.Equal(t, "music", made.Module)
		assert.Equal(t, "ok", made.Outcome)
		require.NotNil(t, made.JobId)
		prompt, _ := made.Params["prompt"].(string)
		assert.Equal(t, []rune(strings.TrimSpace(long))[:200], []rune(prompt)[:200], "the summary keeps the request's text")
		assert.LessOrEqual(t, len([]rune(prompt)), 201, "free text is cut to 200 characters")
		assert.EqualValues(t, 5, made.Params["duration"])
		assert.InDelta(t, 0.5, c.Statistics.SuccessRate, 0.001)
		require.NotNil(t, c.Statistics.FavouriteModule)
		assert.Equal(t, "music", *c.Statistics.FavouriteModule)

		// The follow-up of generateMusic is validateMusic on the new track, where validateMusic
		// is available; nothing unavailable is ever suggested.
		require.NotEmpty(t, c.Recommendations)
		for _, r := range c.Recommendations {
			assert.True(t, available[string(r.OperationId)], "%s is recommended but not available", r.OperationId)
			assert.NotEmpty(t, r.Reason)
		}
		if available["validateMusic"] {
			first := c.Recommendations[0]
			assert.Equal(t, client.ActionOperationId("validateMusic"), first.OperationId)
			assert.Equal(t, resp.JSON200.Track.Audio.Url, first.Params["audioUrl"])
		}

		require.NotNil(t, c.Session, "the conversation's session data")
		data := map[string]string{}
		for _, kv := range c.Session.Data {
			data[kv.Key] = kv.Value
		}
		assert.Equal(t, *made.JobId, data["lastJobId"])
		assert.Equal(t, "generateMusic", data["lastOperation"])

		info, err := s.Client.GetIntegrationInfoWithResponse(ctx)
		require.NoError(t, err)
		require.NotNil(t, info.JSON200)
		assert.Equal(t, recOps(c.Recommendations), recOps(info.JSON200.Recommendations))

		// Erasing removes everything at once.
		del, err := s.Client.DeleteUserContextWithResponse(ctx)
		require.NoError(t, err)
		assert.Equal(t, http.StatusNoContent, del.StatusCode())
		after := readContext(t, s, conv, func(client.UserContext) bool { return true })
		assert.Zero(t, after.Statistics.TotalActions)
		assert.Empty(t, after.RecentActions)
		assert.Nil(t, after.Session)
	})
}

// An explicit request field beats the user's default, which beats the contract's default; the
// answer says which defaults were applied.
func TestDefaultParamsPrecedence(t *testing.T) {
	t.Parallel()
	eachDatabase(t, nil, func(t *testing.T, s *server) {
		ctx := context.Background()
		prefs, err := s.Client.UpdatePreferencesWithResponse(ctx, client.Preferences{
			DefaultParams: []client.DefaultParams{{OperationId: "generateMusic", Params: map[string]any{"duration": 7, "genre": "ambient"}}},
		})
		require.NoError(t, err)
		require.NotNil(t, prefs.JSON200, "status %d: %s", prefs.StatusCode(), prefs.Body)

		resp, err := s.Client.GenerateMusicWithResponse(ctx, nil, client.GenerateMusicRequest{Prompt: "x", Genre: ptr("rock")})
		require.NoError(t, err)
		require.NotNil(t, resp.JSON200, "status %d: %s", resp.StatusCode(), resp.Body)
		assert.Equal(t, 7, resp.JSON200.Track.DurationSeconds, "the user's default beats the contract's 30")
		assert.Equal(t, "rock", *resp.JSON200.Track.Genre, "the request beats the user's default")
		assert.Equal(t, []string{"duration"}, resp.JSON200.Meta.DefaultsApplied)

		plain, err := s.Client.GenerateMusicWithResponse(ctx, nil, client.GenerateMusicRequest{Prompt: "y", Duration: ptr(5), Genre: ptr("jazz")})
		require.NoError(t, err)
		require.NotNil(t, plain.JSON200)
		assert.Empty(t, plain.JSON200.Meta.DefaultsApplied)

		for name, params := range map[string]map[string]any{
			"unknown field":  {"loudness": 3},
			"required field": {"prompt": "always this"},
			"invalid value":  {"duration": 9999},
		} {
			bad, err := s.Client.UpdatePreferencesWithResponse(ctx, client.Preferences{
				DefaultParams: []client.DefaultParams{{OperationId: "generateMusic", Params: params}},
			})
			require.NoError(t, err)
			require.NotNil(t, bad.ApplicationproblemJSON422, "%s: status %d: %s", name, bad.StatusCode(), bad.Body)
			assert.Contains(t, bad.ApplicationproblemJSON422.Errors[0].Field, "/defaultParams/0/params/", name)
		}
	})
}

// Concise output leaves out the parts of an answer the contract marks verbose.
func TestConciseOutput(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	ctx := context.Background()
	detailed, err := s.Client.GenerateMusicWithResponse(ctx, nil, client.GenerateMusicRequest{Prompt: "z", Duration: ptr(5), Seed: ptr(3)})
	require.NoError(t, err)
	require.NotNil(t, detailed.JSON200)
	assert.NotEmpty(t, detailed.JSON200.Track.Sections)

	concise := client.PreferencesOutputFormat("concise")
	_, err = s.Client.UpdatePreferencesWithResponse(ctx, client.Preferences{OutputFormat: &concise})
	require.NoError(t, err)
	short, err := s.Client.GenerateMusicWithResponse(ctx, nil, client.GenerateMusicRequest{Prompt: "z", Duration: ptr(5), Seed: ptr(3)})
	require.NoError(t, err)
	require.NotNil(t, short.JSON200, "status %d: %s", short.StatusCode(), short.Body)
	assert.Nil(t, short.JSON200.Track.Sections)
	assert.NotContains(t, string(short.Body), `"sections"`)
	assert.Equal(t, detailed.JSON200.Track.Title, short.JSON200.Track.Title, "the rest of the answer is whole")
	require.NotNil(t, short.JSON200.Track.Audio)
}

// A link's path and query often carry a secret (a webhook's token, a signed download): the
// history keeps the scheme and host only.
func TestHistoryKeepsOnlyTheHostOfLinks(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	secret := "T0KEN-1n-the-path-0123456789"
	_, err := s.Client.AnalyzeMusicWithResponse(context.Background(), client.AnalyzeMusicRequest{AudioUrl: ptr("https://hooks.invalid/services/" + secret + "/a.wav?sig=" + secret)})
	require.NoError(t, err)
	c := readContext(t, s, "", func(c client.UserContext) bool { return c.Statistics.TotalActions == 1 })
	require.Len(t, c.RecentActions, 1)
	assert.Equal(t, "https://hooks.invalid", c.RecentActions[0].Params["audioUrl"])
	raw, err := json.Marshal(c)
	require.NoError(t, err)
	assert.NotContains(t, string(raw), secret)
}
