package middleware

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/aidawg/jarvis/openapi"
	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/ratelimit"
)

// RateLimit counts each call against the caller's limit for the operation's class, and for
// long actions against the caller's daily quota, and writes the limit headers. A refused call
// is a 429 problem with Retry-After. Quota taken by a call that fails is given back.
func RateLimit(spec *openapi.Spec, lim *ratelimit.Limiter) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			op, ok := spec.ByRoute(c.Request().Method, c.Path())
			if !ok {
				return next(c)
			}
			ctx := c.Request().Context()
			p, _ := services.PrincipalFrom(ctx)
			res, err := lim.Take(ctx, p, op.RateClass(), op.Costly())
			if err != nil {
				return err
			}
			now := time.Now()
			writeLimitHeaders(c.Response().Header(), now, res.Limit, res.Quota)
			if !res.Allowed() {
				return refusal(res, now)
			}
			err = next(c)
			if res.Quota == nil {
				return err
			}
			if err != nil {
				c.Error(err)
			}
			if c.Response().Status >= http.StatusBadRequest {
				lim.Refund(context.WithoutCancel(ctx), p, res)
			}
			return nil
		}
	}
}

// InvalidBudget is what Validate does with a request it refuses, in a chain where RateLimit
// counted the request: the request's count of its class is given back and it counts against the
// caller's invalid budget instead, which the limit headers then describe; past that budget the
// answer is a 429. Its quota, if it took one, RateLimit gives back as for any failed call.
func InvalidBudget(spec *openapi.Spec, lim *ratelimit.Limiter) func(echo.Context, *services.Error) error {
	return func(c echo.Context, refused *services.Error) error {
		op, ok := spec.ByRoute(c.Request().Method, c.Path())
		if !ok {
			return refused
		}
		ctx := c.Request().Context()
		p, _ := services.PrincipalFrom(ctx)
		d, err := lim.TakeInvalid(ctx, p, op.RateClass())
		if err != nil {
			return err
		}
		now := time.Now()
		writeLimitHeaders(c.Response().Header(), now, d, nil)
		if d.Allowed {
			return refused
		}
		// The fields at fault stay in the answer, so that the caller can still fix the call.
		return &services.Error{Code: services.CodeRateLimited, RetryAfter: d.RetryAfter(now), Fields: refused.Fields,
			Detail: "This caller has sent all " + strconv.FormatInt(d.Rate.Limit, 10) + " calls the contract refuses that are allowed per " +
				window(d.Rate.Period) + " (the " + ratelimit.InvalidClass + " budget), and this one breaks it too: " + refused.Detail +
				" Fix the calls as the contract describes, and retry after retryAfter seconds."}
	}
}

func refusal(res ratelimit.Result, now time.Time) *services.Error {
	if !res.Limit.Allowed {
		d := res.Limit
		return &services.Error{Code: services.CodeRateLimited, RetryAfter: d.RetryAfter(now),
			Detail: "This caller has used all " + strconv.FormatInt(d.Rate.Limit, 10) + " calls of " + d.Class +
				" allowed per " + window(d.Rate.Period) + ". Tell the user, and retry after retryAfter seconds."}
	}
	q := res.Quota
	return &services.Error{Code: services.CodeQuotaExceeded, RetryAfter: q.RetryAfter(now),
		Detail: "This caller has used its daily quota of " + strconv.FormatInt(q.Rate.Limit, 10) +
			" long actions (music generation, forecasts, workflow runs). It renews at 00:00 UTC, in retryAfter seconds; other actions still work."}
}

func window(d time.Duration) string {
	switch d {
	case time.Hour:
		return "hour"
	case time.Minute:
		return "minute"
	case 24 * time.Hour:
		return "day"
	}
	return d.String()
}

// limitHeaders are the fields writeLimitHeaders sets, in the order it writes their values.
var limitHeaders = [...]string{"X-Ratelimit-Limit", "X-Ratelimit-Remaining", "X-Ratelimit-Reset", "Ratelimit-Policy", "Ratelimit"}

// writeLimitHeaders writes the X-RateLimit fields for the decision closest to refusing (the
// limit, or the quota when there is one), and the IETF RateLimit-Policy and RateLimit fields for
// both. Every call answers with them, so the values are written into one string.
func writeLimitHeaders(h http.Header, now time.Time, limit ratelimit.Decision, quota *ratelimit.Decision) {
	ds := [2]ratelimit.Decision{limit}
	n := 1
	tightest := limit
	if quota != nil {
		ds[1], n = *quota, 2
		if quota.Remaining < limit.Remaining || !quota.Allowed && limit.Allowed {
			tightest = *quota
		}
	}
	var ends [len(limitHeaders)]int
	buf := make([]byte, 0, 160)
	buf = strconv.AppendInt(buf, tightest.Rate.Limit, 10)
	ends[0] = len(buf)
	buf = strconv.AppendInt(buf, tightest.Remaining, 10)
	ends[1] = len(buf)
	buf = strconv.AppendInt(buf, tightest.Reset.Unix(), 10)
	ends[2] = len(buf)
	for i, d := range ds[:n] {
		if i > 0 {
			buf = append(buf, ", "...)
		}
		buf = append(append(buf, d.Class...), ";q="...)
		buf = strconv.AppendInt(buf, d.Rate.Limit, 10)
		buf = strconv.AppendInt(append(buf, ";w="...), int64(d.Rate.Period/time.Second), 10)
	}
	ends[3] = len(buf)
	for i, d := range ds[:n] {
		if i > 0 {
			buf = append(buf, ", "...)
		}
		reset := max(int64(d.Reset.Sub(now).Round(time.Second)/time.Second), 0)
		buf = append(append(buf, d.Class...), ";r="...)
		buf = strconv.AppendInt(buf, d.Remaining, 10)
		buf = strconv.AppendInt(append(buf, ";t="...), reset, 10)
	}
	ends[4] = len(buf)

	all := string(buf)
	values := make([]string, len(limitHeaders))
	start := 0
	for i, name := range limitHeaders {
		values[i] = all[start:ends[i]]
		h[name] = values[i : i+1 : i+1]
		start = ends[i]
	}
}
