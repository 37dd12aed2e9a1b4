package app

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
)

func TestLayeredRoutesRunTheLayersInOrderAndUnmatchedPathsToo(t *testing.T) {
	var ran []string
	layer := func(name string) echo.MiddlewareFunc {
		return func(next echo.HandlerFunc) echo.HandlerFunc {
			return func(c echo.Context) error {
				ran = append(ran, name)
				return next(c)
			}
		}
	}
	e := echo.New()
	api := layeredRouter{group: e.Group("/base"), layers: []echo.MiddlewareFunc{layer("first"), layer("second")}}
	api.GET("/thing", func(c echo.Context) error {
		ran = append(ran, "handler")
		return c.NoContent(http.StatusNoContent)
	}, layer("route"))
	api.answerUnmatched()
	e.GET("/outside", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })

	for _, tc := range []struct {
		method, path string
		status       int
		ran          []string
	}{
		{http.MethodGet, "/base/thing", http.StatusNoContent, []string{"first", "second", "route", "handler"}},
		{http.MethodGet, "/base/thing", http.StatusNoContent, []string{"first", "second", "route", "handler"}},
		{http.MethodGet, "/base/missing", http.StatusNotFound, []string{"first", "second"}},
		// A known path asked with another method reaches the layers too; in the API, validation
		// answers it 405.
		{http.MethodPost, "/base/thing", http.StatusNotFound, []string{"first", "second"}},
		{http.MethodGet, "/base", http.StatusNotFound, []string{"first", "second"}},
		{http.MethodGet, "/outside", http.StatusNoContent, nil},
	} {
		ran = nil
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
		assert.Equal(t, tc.status, rec.Code, tc.path)
		assert.Equal(t, tc.ran, ran, tc.path)
	}
}
