package handlers

import (
	"context"
	"errors"
	"mime"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/aidawg/jarvis/services"
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
		if err := links.Check(id, q.Get("expires"), q.Get("sig"), time.Now()); err != nil {
			detail := "This download link is not valid. Call getJobStatus for the job to get a fresh link."
			if errors.Is(err, artifacts.ErrExpired) {
				detail = "This download link has expired. Call getJobStatus for the job to get a fresh link."
			}
			return services.Errorf(services.CodeForbidden, "%s", detail)
		}
		ctx := c.Request().Context()
		a, err := records.Artifact(ctx, id)
		if errors.Is(err, jobs.ErrNotFound) {
			return services.Errorf(services.CodeNotFound, "This file no longer exists: finished jobs and their files are deleted after the retention period.")
		}
		if err != nil {
			return err
		}
		f, err := files.Open(ctx, id)
		if errors.Is(err, artifacts.ErrNotFound) {
			return services.Errorf(services.CodeNotFound, "This file no longer exists: finished jobs and their files are deleted after the retention period.")
		}
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
