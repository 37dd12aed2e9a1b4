// Package docs serves the API reference at /docs: Swagger UI (pinned in tools/web, copied into
// assets/vendor by make web-assets) rendering the contract as this server serves it, so that
// "try it" calls this server. Everything the page loads comes from this origin.
package docs

import (
	"embed"
	"io/fs"
	"net/http"

	"github.com/labstack/echo/v4"
)

// Path is where the reference is served.
const Path = "/docs"

// CSP lets the page run the renderer's script and styles from this origin only, and call this
// origin (the contract and "try it"). Swagger UI draws its icons as data: images.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
	"connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"

//go:embed assets
var assetFS embed.FS

// Register serves the page and its assets on e.
func Register(e *echo.Echo) {
	assets, _ := fs.Sub(assetFS, "assets")
	files := http.StripPrefix(Path+"/assets/", http.FileServer(http.FS(assets)))
	index, _ := fs.ReadFile(assets, "index.html")
	headers := func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			h.Set(echo.HeaderContentSecurityPolicy, CSP)
			h.Set(echo.HeaderCacheControl, "public, max-age=300")
			return next(c)
		}
	}
	g := e.Group(Path, headers)
	g.GET("", func(c echo.Context) error { return c.HTMLBlob(http.StatusOK, index) })
	g.GET("/", func(c echo.Context) error { return c.Redirect(http.StatusMovedPermanently, Path) })
	g.GET("/assets/*", echo.WrapHandler(files))
}
