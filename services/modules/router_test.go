package modules_test

import (
	"context"

	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/gen/aidawg"
	"github.com/aidawg/jarvis/handlers/aidawgapi/standin"
	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/modules"
)

// Which failures are retried, how many attempts each gets, and the service error each becomes.
func TestRemoteRetriesOnlyWhatMaySucceed(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name         string
		fault        standin.Fault
		wantAttempts int
		wantCode     services.Code
		wantRetry    int // RetryAfter, when not 0
	}{
		{"503 with Retry-After", standin.Fault{Kind: standin.Status, Status: 503, RetryAfter: "0"}, 3, services.CodeUnavailable, 0},
		{"502", standin.Fault{Kind: standin.Status, Status: 502}, 3, services.CodeBadGateway, 0},
		{"504", standin.Fault{Kind: standin.Status, Status: 504}, 3, services.CodeTimeout, 0},
		{"429", standin.Fault{Kind: standin.Status, Status: 429, RetryAfter: "0"}, 3, services.CodeUnavailable, 0},
		{"connection dropped", standin.Fault{Kind: standin.Drop}, 3, services.CodeUnavailable, 0},
		{"attempt timeout", standin.Fault{Kind: standin.Delay, Delay: 3 * time.Second}, 3, services.CodeTimeout, 0},
		{"200 SERVICE_UNAVAILABLE", standin.Fault{Kind: standin.Failure, Code: "SERVICE_UNAVAILABLE"}, 3, services.CodeUnavailable, 0},
		{"200 RATE_LIMIT_EXCEEDED", standin.Fault{Kind: standin.Failure, Code: "RATE_LIMIT_EXCEEDED"}, 3, services.CodeUnavailable, 0},
		{"400", standin.Fault{Kind: standin.Status, Status: 400}, 1, services.CodeBadGateway, 0},
		{"401", standin.Fault{Kind: standin.Status, Status: 401}, 1, services.CodeBadGateway, 0},
		{"500 without the contract's body", standin.Fault{Kind: standin.Status, Status: 500}, 1, services.CodeBadGateway, 0},
		{"INVALID_PARAMS", standin.Fault{Kind: standin.Failure, Code: "INVALID_PARAMS"}, 1, services.CodeUnprocessable, 0},
		{"ACTION_NOT_FOUND", standin.Fault{Kind: standin.Failure, Code: "ACTION_NOT_FOUND"}, 1, services.CodeNotImplemented, 0},
		{"MODULE_NOT_FOUND", standin.Fault{Kind: standin.Failure, Code: "MODULE_NOT_FOUND"}, 1, services.CodeNotImplemented, 0},
		{"EXECUTION_FAILED", standin.Fault{Kind: standin.Failure, Code: "EXECUTION_FAILED"}, 1, services.CodeBadGateway, 0},
		{"malformed JSON", standin.Fault{Kind: standin.Malformed}, 1, services.CodeBadGateway, 0},
		{"oversize answer", standin.Fault{Kind: standin.Oversize, Size: 100 << 10}, 1, services.CodeBadGateway, 0},
		{"result off the contract", standin.Fault{Kind: standin.OffContract}, 1, services.CodeBadGateway, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			eng := &engagement{}
			s := standin.Start(t, newRuntime(t, eng))
			s.Always(tc.fault)
			r := newRouter(t, newRuntime(t, &engagement{}), fastOptions(s.URL), false)

			_, _, err := modules.Call(context.Background(), r, modules.CmdAnalyzeSentiment, sentiment)
			se := serviceError(t, err)
			assert.Equal(t, tc.wantCode, se.Code, se.Detail)
			assert.Equal(t, tc.wantAttempts, s.Executes(), "attempts")
			assert.NotEmpty(t, se.Detail)
			assert.Contains(t, se.Detail, "engagement/analyze-sentiment")
			if se.Code == services.CodeUnavailable {
				assert.GreaterOrEqual(t, se.RetryAfter, 1, "503 problems carry Retry-After")
			}
			assert.Zero(t, eng.analyses.Load(), "the stand-in's module must not have run")
		})
	}
}

func TestRemoteFailureDetails(t *testing.T) {
	t.Parallel()
	s := standin.Start(t, newRuntime(t, &engagement{}))
	r := newRouter(t, newRuntime(t), fastOptions(s.URL), false)
	ctx := context.Background()

	s.Next(standin.Fault{Kind: standin.Failure, Code: "INVALID_PARAMS"})
	_, _, err := modules.Call(ctx, r, modules.CmdAnalyzeSentiment, sentiment)
	se := serviceError(t, err)
	assert.Contains(t, se.Detail, "the prompt is empty", "the backend's own words reach the caller")
	require.Len(t, se.Fields, 1)
	assert.Equal(t, services.FieldError{Field: "/prompt", Message: "must not be empty"}, se.Fields[0])

	s.Next(standin.Fault{Kind: standin.Status, Status: 503, RetryAfter: "7"})
	o := fastOptions(s.URL)
	o.MaxAttempts = 1
	_, _, err = modules.Call(ctx, newRouter(t, newRuntime(t), o, false), modules.CmdAnalyzeSentiment, sentiment)
	se = serviceError(t, err)
	assert.Equal(t, services.CodeUnavailable, se.Code)
	assert.Equal(t, 7, se.RetryAfter, "the backend's Retry-After is passed on")
	assert.Contains(t, se.Detail, "injected outage")
}

// The embedded modules served over HTTP check params against the contract, and the router
// passes their refusal on as unprocessable with the fields at fault.
func TestRemoteInvalidParams(t *testing.T) {
	t.Parallel()
	s := standin.Start(t, newRuntime(t, &engagement{}))
	r := newRouter(t, newRuntime(t), fastOptions(s.URL), false)
	_, _, err := modules.Call(context.Background(), r, modules.CmdAnalyzeSentiment, aidawg.AnalyzeSentimentParams{Texts: []string{""}})
	se := serviceError(t, err)
	assert.Equal(t, services.CodeUnprocessable, se.Code)
	assert.Equal(t, 1, s.Executes())
	require.NotEmpty(t, se.Fields)
	assert.Equal(t, "/texts/0", se.Fields[0].Field)
}

func TestRemoteSucceedsAfterTransientFailures(t *testing.T) {
	t.Parallel()
	s := standin.Start(t, newRuntime(t, &engagement{}))
	s.Next(standin.Fault{Kind: standin.Status, Status: 503}, standin.Fault{Kind: standin.Drop})
	r := newRouter(t, newRuntime(t), fastOptions(s.URL), false)
	out, servedBy, err := modules.Call(context.Background(), r, modules.CmdAnalyzeSentiment, sentiment)
	require.NoError(t, err)
	assert.Equal(t, modules.ServedByRemote, servedBy)
	assert.Equal(t, 3, s.Executes())
	assert.Equal(t, 1, out.Sentiment.Overall.SampleSize)
}

// A command with side effects is sent again only when the backend surely did not act on it,
// and the embedded module stands in for it only then.
func TestSideEffectsAreNotRepeated(t *testing.T) {
	t.Parallel()
	params := aidawg.SendEngagementParams{TargetSegment: "seg_de_free"}
	cases := []struct {
		name         string
		fault        standin.Fault
		wantAttempts int
		wantFallback bool
	}{
		{"attempt timeout", standin.Fault{Kind: standin.Delay, Delay: 3 * time.Second}, 1, false},
		{"connection dropped", standin.Fault{Kind: standin.Drop}, 1, false},
		{"502", standin.Fault{Kind: standin.Status, Status: 502}, 1, false},
		{"malformed answer", standin.Fault{Kind: standin.Malformed}, 1, false},
		{"503", standin.Fault{Kind: standin.Status, Status: 503, RetryAfter: "0"}, 3, true},
		{"429", standin.Fault{Kind: standin.Status, Status: 429, RetryAfter: "0"}, 3, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := standin.Start(t, newRuntime(t, &engagement{}))
			s.Always(tc.fault)
			local := &engagement{}
			r := newRouter(t, newRuntime(t, local), fastOptions(s.URL), true)
			_, servedBy, err := modules.Call(context.Background(), r, modules.CmdSendEngagement, params)
			assert.Equal(t, tc.wantAttempts, s.Executes(), "attempts")
			if tc.wantFallback {
				require.NoError(t, err)
				assert.Equal(t, modules.ServedByEmbedded, servedBy)
				assert.EqualValues(t, 1, local.sends.Load())
			} else {
				require.Error(t, err)
				assert.Zero(t, local.sends.Load(), "the embedded module must not send what the remote may have sent")
			}
		})
	}
}

func TestRefusedConnection(t *testing.T) {
	t.Parallel()
	local := &engagement{}
	url := standin.ClosedURL(t)
	_, _, err := modules.Call(context.Background(), newRouter(t, newRuntime(t, local), fastOptions(url), false), modules.CmdAnalyzeSentiment, sentiment)
	assert.Equal(t, services.CodeUnavailable, serviceError(t, err).Code)

	out, servedBy, err := modules.Call(context.Background(), newRouter(t, newRuntime(t, local), fastOptions(url), true), modules.CmdAnalyzeSentiment, sentiment)
	require.NoError(t, err)
	assert.Equal(t, modules.ServedByEmbedded, servedBy)
	assert.Equal(t, 1, out.Sentiment.Overall.SampleSize)
}

func TestRetryAfterIsHonoured(t *testing.T) {
	t.Parallel()
	s := standin.Start(t, newRuntime(t, &engagement{}))
	r := newRouter(t, newRuntime(t), fastOptions(s.URL), false)

	s.Next(standin.Fault{Kind: standin.Status, Status: 429, RetryAfter: "1"})
	start := time.Now()
	_, _, err := modules.Call(context.Background(), r, modules.CmdAnalyzeSentiment, sentiment)
	require.NoError(t, err)
	assert.Equal(t, 2, s.Executes())
	assert.GreaterOrEqual(t, time.Since(start), 900*time.Millisecond, "the retry waited for Retry-After")

	// A wait longer than the budget left is not taken: the caller learns when to come back.
	s.Next(standin.Fault{Kind: standin.Status, Status: 429, RetryAfter: "60"})
	_, _, err = modules.Call(context.Background(), r, modules.CmdAnalyzeSentiment, sentiment)
	se := serviceError(t, err)
	assert.Equal(t, 3, s.Executes(), "one attempt, no retry")
	assert.Equal(t, services.CodeUnavailable, se.Code)
	assert.Equal(t, 60, se.RetryAfter)
}

// However slow the backend, a call ends within its budget, and within the caller's deadline.
func TestCallStaysWithinBudget(t *testing.T) {
	t.Parallel()
	s := standin.Start(t, newRuntime(t, &engagement{}))
	s.Always(standin.Fault{Kind: standin.Delay, Delay: time.Minute})
	o := fastOptions(s.URL)
	o.AttemptTimeout = 400 * time.Millisecond
	o.Budget = 600 * time.Millisecond
	r := newRouter(t, newRuntime(t), o, false)

	start := time.Now()
	_, _, err := modules.Call(context.Background(), r, modules.CmdAnalyzeSentiment, sentiment)
	took := time.Since(start)
	assert.Equal(t, services.CodeTimeout, serviceError(t, err).Code)
	assert.Less(t, took, 3*time.Second, "the budget bounds the call")
	assert.LessOrEqual(t, s.Executes(), 2, "a third attempt does not fit in the budget")

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start = time.Now()
	_, _, err = modules.Call(ctx, newRouter(t, newRuntime(t), fastOptions(s.URL), false), modules.CmdAnalyzeSentiment, sentiment)
	assert.Equal(t, services.CodeTimeout, serviceError(t, err).Code)
	assert.Less(t, time.Since(start), 3*time.Second, "the caller's deadline bounds the call")
}

func TestBreakerOpensFailsFastAndRecovers(t *testing.T) {
	t.Parallel()
	s := standin.Start(t, newRuntime(t, &engagement{}))
	o := fastOptions(s.URL)
	o.MaxAttempts = 1
	o.BreakerFailures = 3
	o.BreakerCooldown = 300 * time.Millisecond
	remote, err := modules.NewRemote(newRuntime(t).Contract(), o)
	require.NoError(t, err)
	r := modules.NewRouter(newRuntime(t), remote, false, zerologNop)
	ctx := context.Background()

	s.Always(standin.Fault{Kind: standin.Status, Status: 503, RetryAfter: "0"})
	for range 3 {
		_, _, err := modules.Call(ctx, r, modules.CmdAnalyzeSentiment, sentiment)
		require.Error(t, err)
	}
	require.Equal(t, 3, s.Executes())
	assert.Equal(t, "open", remote.Circuits()["engagement"])

	_, _, err = modules.Call(ctx, r, modules.CmdAnalyzeSentiment, sentiment)
	se := serviceError(t, err)
	assert.Equal(t, 3, s.Executes(), "an open circuit fails fast, without calling")
	assert.Equal(t, services.CodeUnavailable, se.Code)
	assert.GreaterOrEqual(t, se.RetryAfter, 1)
	assert.Contains(t, se.Detail, "engagement module")

	// Circuits are per module: testing is still called.
	s.Reset()
	_, servedBy, err := modules.Call(ctx, r, modules.CmdRunValidation, aidawg.RunValidationParams{ValidationType: aidawg.ValidationTypeApi})
	require.NoError(t, err)
	assert.Equal(t, modules.ServedByRemote, servedBy)
	assert.Equal(t, 4, s.Executes())

	// After the cooldown one probe goes through; a failing probe opens the circuit again.
	s.Always(standin.Fault{Kind: standin.Status, Status: 503, RetryAfter: "0"})
	require.Eventually(t, func() bool {
		before := s.Executes()
		_, _, _ = modules.Call(ctx, r, modules.CmdAnalyzeSentiment, sentiment)
		return s.Executes() > before
	}, 5*time.Second, 20*time.Millisecond)
	assert.Equal(t, "open", remote.Circuits()["engagement"])
	executes := s.Executes()
	_, _, err = modules.Call(ctx, r, modules.CmdAnalyzeSentiment, sentiment)
	require.Error(t, err)
	assert.Equal(t, executes, s.Executes(), "open again after the failed probe")

	// Once the backend is back, the next probe closes the circuit.
	s.Reset()
	require.Eventually(t, func() bool {
		_, _, err := modules.Call(ctx, r, modules.CmdAnalyzeSentiment, sentiment)
		return err == nil
	}, 5*time.Second, 20*time.Millisecond)
	assert.Equal(t, "closed", remote.Circuits()["engagement"])
}

func TestFallbackServesAndSaysSo(t *testing.T) {
	t.Parallel()
	s := standin.Start(t, newRuntime(t, &engagement{}))
	s.Always(standin.Fault{Kind: standin.Status, Status: 503, RetryAfter: "0"})
	o := fastOptions(s.URL)
	o.BreakerFailures = 3
	o.BreakerCooldown = time.Minute
	local := &engagement{}
	r := newRouter(t, newRuntime(t, local), o, true)
	ctx := context.Background()

	out, servedBy, err := modules.Call(ctx, r, modules.CmdAnalyzeSentiment, sentiment)
	require.NoError(t, err)
	assert.Equal(t, modules.ServedByEmbedded, servedBy)
	assert.Equal(t, 1, out.Sentiment.Overall.SampleSize)
	assert.Equal(t, 3, s.Executes(), "the remote was tried first")
	assert.EqualValues(t, 1, local.analyses.Load())

	// The circuit is open now: the embedded module answers without the remote being called.
	_, servedBy, err = modules.Call(ctx, r, modules.CmdAnalyzeSentiment, sentiment)
	require.NoError(t, err)
	assert.Equal(t, modules.ServedByEmbedded, servedBy)
	assert.Equal(t, 3, s.Executes())

	// A command the embedded modules do not carry out has nothing to fall back on.
	_, _, err = modules.Call(ctx, r, modules.CmdGenerateMusic, aidawg.GenerateMusicParams{Prompt: "lo-fi"})
	assert.Equal(t, services.CodeUnavailable, serviceError(t, err).Code)

	// A handled failure of the remote is an answer, not an outage: no fallback.
	s.Reset()
	s.Next(standin.Fault{Kind: standin.Failure, Code: "EXECUTION_FAILED"})
	r = newRouter(t, newRuntime(t, local), o, true)
	_, _, err = modules.Call(ctx, r, modules.CmdAnalyzeSentiment, sentiment)
	assert.Equal(t, services.CodeBadGateway, serviceError(t, err).Code)
}

func TestInProcess(t *testing.T) {
	t.Parallel()
	r := newRouter(t, newRuntime(t, &engagement{}), modules.RemoteOptions{}, true)
	ctx := context.Background()
	assert.Nil(t, r.Remote())

	out, servedBy, err := modules.Call(ctx, r, modules.CmdAnalyzeSentiment, sentiment)
	require.NoError(t, err)
	assert.Equal(t, modules.ServedByEmbedded, servedBy)
	assert.Equal(t, 1, out.Sentiment.Overall.SampleSize)

	cases := []struct {
		name   string
		call   func() error
		code   services.Code
		fields []string
	}{
		{"params off the contract", func() error {
			_, _, err := modules.Call(ctx, r, modules.CmdAnalyzeSentiment, aidawg.AnalyzeSentimentParams{Texts: []string{""}})
			return err
		}, services.CodeUnprocessable, []string{"/texts/0"}},
		{"refused by the module", func() error {
			_, _, err := modules.Call(ctx, r, modules.CmdAnalyzeSentiment, aidawg.AnalyzeSentimentParams{Texts: []string{"refuse"}})
			return err
		}, services.CodeUnprocessable, []string{"/texts/0"}},
		{"module error", func() error {
			_, _, err := modules.Call(ctx, r, modules.CmdAnalyzeSentiment, aidawg.AnalyzeSentimentParams{Texts: []string{"fail"}})
			return err
		}, services.CodeBadGateway, nil},
		{"module panic", func() error {
			_, _, err := modules.Call(ctx, r, modules.CmdAnalyzeSentiment, aidawg.AnalyzeSentimentParams{Texts: []string{"panic"}})
			return err
		}, services.CodeBadGateway, nil},
		{"not carried out", func() error {
			_, _, err := modules.Call(ctx, r, modules.CmdGenerateMusic, aidawg.GenerateMusicParams{Prompt: "lo-fi"})
			return err
		}, services.CodeNotImplemented, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			se := serviceError(t, tc.call())
			assert.Equal(t, tc.code, se.Code, se.Detail)
			var got []string
			for _, f := range se.Fields {
				got = append(got, f.Field)
			}
			assert.Equal(t, tc.fields, got)
			assert.NotContains(t, se.Detail, "not loaded", "internal errors stay in the logs")
		})
	}
	assert.True(t, r.Serves(modules.CmdAnalyzeSentiment.Ref))
	assert.False(t, r.Serves(modules.CmdGenerateMusic.Ref))
}
