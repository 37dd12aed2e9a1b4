package middleware

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/aidawg/jarvis/apispec"
	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/ratelimit"
)

// RateLimit counts each call against the caller's limit for the operation's class, and for
// long actions against the caller's daily quota, and writes the limit headers. A refused call
// is a 429 problem with Retry-After. Quota taken by a call that fails is given back.
func RateLimit(spec *apispec.Spec, lim *ratelimit.Limiter) echo.MiddlewareFunc {
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
			writeLimitHeaders(c.Response().Header(), now, decisions(res)...)
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

func decisions(res ratelimit.Result) []ratelimit.Decision {
	if res.Quota == nil {
		return []ratelimit.Decision{res.Limit}
	}
	return []ratelimit.Decision{res.Limit, *res.Quota}
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

// writeLimitHeaders writes the X-RateLimit fields for the decision closest to refusing, and the
// IETF RateLimit-Policy and RateLimit fields for all of them.
func writeLimitHeaders(h http.Header, now time.Time, ds ...ratelimit.Decision) {
	if len(ds) == 0 {
		return
	}
	tightest := ds[0]
	policies := make([]string, len(ds))
	states := make([]string, len(ds))
	for i, d := range ds {
		if d.Remaining < tightest.Remaining || !d.Allowed && tightest.Allowed {
			tightest = d
		}
		reset := max(int64(d.Reset.Sub(now).Round(time.Second)/time.Second), 0)
		policies[i] = d.Class + ";q=" + strconv.FormatInt(d.Rate.Limit, 10) + ";w=" + strconv.FormatInt(int64(d.Rate.Period/time.Second), 10)
		states[i] = d.Class + ";r=" + strconv.FormatInt(d.Remaining, 10) + ";t=" + strconv.FormatInt(reset, 10)
	}
	h.Set("X-RateLimit-Limit", strconv.FormatInt(tightest.Rate.Limit, 10))
	h.Set("X-RateLimit-Remaining", strconv.FormatInt(tightest.Remaining, 10))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(tightest.Reset.Unix(), 10))
	h.Set("RateLimit-Policy", strings.Join(policies, ", "))
	h.Set("RateLimit", strings.Join(states, ", "))
}
