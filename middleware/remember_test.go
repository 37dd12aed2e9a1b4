package middleware

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/openapi"
	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/storage/storagetest"
	"github.com/aidawg/jarvis/services/usercontext"
)

func TestDropPaths(t *testing.T) {
	body := []byte(`{"metrics":{"series":[1,2],"totals":{"streams":3}},"meta":{"requestId":"r"}}`)
	got := dropPaths(body, [][]string{{"metrics", "series"}, {"absent", "x"}})
	assert.JSONEq(t, `{"metrics":{"totals":{"streams":3}},"meta":{"requestId":"r"}}`, string(got))
	assert.Equal(t, "not json", string(dropPaths([]byte("not json"), [][]string{{"a"}})))
}

func TestVerbosePathsComeFromTheContract(t *testing.T) {
	spec, err := openapi.Load()
	require.NoError(t, err)
	metrics, _ := spec.ByID("getMarketingMetrics")
	assert.Equal(t, [][]string{{"metrics", "series"}}, verbosePaths(metrics.Op))
	generate, _ := spec.ByID("generateMusic")
	assert.Equal(t, [][]string{{"track", "sections"}}, verbosePaths(generate.Op))
	health, _ := spec.ByID("runHealthChecks")
	assert.Empty(t, verbosePaths(health.Op))
}

// BenchmarkRemember measures what remembering adds to an action: reading the caller's
// preferences (cached) and queuing the history entry, against the same chain without it.
func BenchmarkRemember(b *testing.B) {
	spec, err := openapi.Load()
	if err != nil {
		b.Fatal(err)
	}
	db := storagetest.Open(b, storagetest.SQLiteURL(b))
	store := usercontext.NewStore(db, time.Hour)
	recorder := usercontext.NewRecorder(store, zerolog.Nop(), 1<<16)
	defer recorder.Close()
	contexts := usercontext.NewService(store, recorder, nil, time.Hour)

	newEcho := func(mw ...echo.MiddlewareFunc) *echo.Echo {
		e := echo.New()
		setPrincipal := func(next echo.HandlerFunc) echo.HandlerFunc {
			return func(c echo.Context) error {
				c.SetRequest(c.Request().WithContext(services.WithPrincipal(c.Request().Context(), services.DevelopmentPrincipal)))
				return next(c)
			}
		}
		g := e.Group(openapi.BasePath, append([]echo.MiddlewareFunc{setPrincipal}, mw...)...)
		g.POST("/actions/engagement/sentiment", func(c echo.Context) error {
			return c.JSONBlob(http.StatusOK, []byte(`{"sentiment":{"overall":{"score":0.2}}}`))
		})
		return e
	}
	body := `{"source":"all","timeRange":"week","texts":["great chorus","muddy mix"]}`
	run := func(b *testing.B, e *echo.Echo) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			req := httptest.NewRequest(http.MethodPost, openapi.BasePath+"/actions/engagement/sentiment", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d", rec.Code)
			}
		}
	}
	b.Run("without", func(b *testing.B) { run(b, newEcho()) })
	b.Run("remembered", func(b *testing.B) { run(b, newEcho(Remember(spec, contexts, zerolog.Nop()))) })
}
