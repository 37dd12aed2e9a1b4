package middleware

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"

	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/ratelimit"
)

func TestLimitHeadersNameTheTightestDecisionAndDescribeEvery(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	limit := ratelimit.Decision{Class: "music.generate", Rate: services.Rate{Limit: 20, Period: time.Minute},
		Remaining: 12, Reset: now.Add(30 * time.Second), Allowed: true}
	quota := ratelimit.Decision{Class: ratelimit.QuotaClass, Rate: services.Rate{Limit: 5, Period: 24 * time.Hour},
		Remaining: 2, Reset: now.Add(10 * time.Hour), Allowed: true}

	h := http.Header{}
	writeLimitHeaders(h, now, limit, &quota)
	assert.Equal(t, http.Header{
		"X-Ratelimit-Limit":     {"5"},
		"X-Ratelimit-Remaining": {"2"},
		"X-Ratelimit-Reset":     {"1800036000"},
		"Ratelimit-Policy":      {"music.generate;q=20;w=60, " + ratelimit.QuotaClass + ";q=5;w=86400"},
		"Ratelimit":             {"music.generate;r=12;t=30, " + ratelimit.QuotaClass + ";r=2;t=36000"},
	}, h)
	for name := range h {
		assert.Equal(t, http.CanonicalHeaderKey(name), name, "set directly, so it must be canonical")
	}

	h = http.Header{}
	writeLimitHeaders(h, now, limit, nil)
	assert.Equal(t, "20", h.Get("X-RateLimit-Limit"))
	assert.Equal(t, "12", h.Get("X-RateLimit-Remaining"))
	assert.Equal(t, "music.generate;r=12;t=30", h.Get("RateLimit"))
	h.Add("RateLimit", "other")
	assert.Equal(t, []string{"music.generate;r=12;t=30", "other"}, h.Values("RateLimit"), "a value added later does not disturb the shared string")
}

func TestFixedHeadersAreSharedSafely(t *testing.T) {
	mw := fixedHeaders{"cache-control": "no-store"}.middleware()
	e := echo.New()
	run := func() http.Header {
		rec := httptest.NewRecorder()
		c := e.NewContext(httptest.NewRequest(http.MethodGet, "/", nil), rec)
		_ = mw(func(c echo.Context) error { return nil })(c)
		return rec.Header()
	}
	first := run()
	first.Add("Cache-Control", "private")
	assert.Equal(t, []string{"no-store", "private"}, first.Values("Cache-Control"))
	assert.Equal(t, []string{"no-store"}, run().Values("Cache-Control"), "the next answer is not changed by the first one's Add")
}
