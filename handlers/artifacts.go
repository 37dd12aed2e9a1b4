package handlers

import (
	"context"
	"mime"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/aidawg/jarvis/services/artifacts"
	"github.com/aidawg/jarvis/services/jobs"
)

// ArtifactRecords finds an artifact's name and type.
type ArtifactRecords interface {
	Artifact(ctx context.Context, id string) (jobs.Artifact, error)
}

// ArtifactChecker verifies a signed download link.
type ArtifactChecker interface {
	Check(id, expires, sig string, now time.Time) error
}

// DownloadArtifact serves an artifact to whoever holds a valid signed link, with its type, a
// download name and range support (players seek, downloads resume).
func DownloadArtifact(links ArtifactChecker, records ArtifactRecords, files artifacts.Store) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Param("id")
		q := c.QueryParams()
		// Each failure is a service error with its own detail: a bad or expired link, a file
		// deleted with its job.
		if err := links.Check(id, q.Get("expires"), q.Get("sig"), time.Now()); err != nil {
			return err
		}
		ctx := c.Request().Context()
		a, err := records.Artifact(ctx, id)
		if err != nil {
			return err
		}
		f, err := files.Open(ctx, id)
		if err != nil {
			return err
		}
		defer f.Close()
		h := c.Response().Header()
		h.Set(echo.HeaderContentType, a.ContentType)
		h.Set(echo.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": a.Name}))
		h.Set("Cache-Control", "private, max-age=3600")
		http.ServeContent(c.Response(), c.Request(), a.Name, f.ModTime(), f)
		return nil
	}
}
