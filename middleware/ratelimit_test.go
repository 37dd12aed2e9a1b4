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
	// The five values share one array; adding to one field must not write into the next.
	h.Add("X-RateLimit-Limit", "other")
	assert.Equal(t, []string{"20", "other"}, h.Values("X-RateLimit-Limit"))
	assert.Equal(t, "12", h.Get("X-RateLimit-Remaining"))
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
	// Two answers that each add to the shared value: were the shared slice roomier than its
	// length, the second Add would overwrite what the first one added.
	first := run()
	first.Add("Cache-Control", "private")
	second := run()
	second.Add("Cache-Control", "public")
	assert.Equal(t, []string{"no-store", "private"}, first.Values("Cache-Control"))
	assert.Equal(t, []string{"no-store", "public"}, second.Values("Cache-Control"))
	assert.Equal(t, []string{"no-store"}, run().Values("Cache-Control"))
}
