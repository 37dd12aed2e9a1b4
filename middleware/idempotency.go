package middleware

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/aidawg/jarvis/middleware/reqvalidate"
	"github.com/aidawg/jarvis/openapi"
	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/idempotency"
)

// HeaderIdempotencyKey names the key a caller gives to make a retry safe.
const HeaderIdempotencyKey = "Idempotency-Key"

// Idempotency replays the first successful answer to a request repeated with the same
// Idempotency-Key, body and caller, on the operations whose contract takes the header. The same
// key with another body is refused (422); a repeat while the first is still being handled
// gets 409, unless the first started a job: a repeat then answers that job as it now stands
// (also after the first request's process died), without starting another. Only a success
// spends a key, so a refused request can be corrected and retried.
func Idempotency(spec *openapi.Spec, store *idempotency.Store) echo.MiddlewareFunc {
	takesKey := map[string]bool{}
	for _, o := range spec.Operations {
		if o.Op.Parameters.GetByInAndName("header", HeaderIdempotencyKey) != nil {
			takesKey[o.Method+" "+o.EchoPath] = true
		}
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			key := req.Header.Get(HeaderIdempotencyKey)
			if key == "" || !takesKey[req.Method+" "+c.Path()] {
				return next(c)
			}
			p, ok := services.PrincipalFrom(req.Context())
			if !ok {
				return next(c)
			}
			body, err := reqvalidate.ReadBody(req)
			if err != nil {
				return err
			}
			req.Body = reqvalidate.NewBody(body)
			ctx, owner := req.Context(), p.Owner()

			claim, err := store.Begin(ctx, owner, key, req.Method+" "+c.Path(), idempotency.Fingerprint(body))
			switch {
			case errors.Is(err, idempotency.ErrInProgress):
				return &services.Error{Code: services.CodeConflict, RetryAfter: 1,
					Detail: "A request with this Idempotency-Key is still being handled. Wait for it, then retry to get its answer."}
			case errors.Is(err, idempotency.ErrMismatch):
				return services.Errorf(services.CodeUnprocessable,
					"This Idempotency-Key was already used for a different request. Use a new key for a new request.")
			case err != nil:
				return err
			case claim.Replay != nil:
				c.Response().Header().Set("Idempotent-Replayed", "true")
				return c.Blob(claim.Replay.Status, claim.Replay.ContentType, claim.Replay.Body)
			}
			if call := services.CallFrom(ctx); call != nil {
				if claim.JobID != "" {
					call.Note().ResumeJob(claim.JobID)
				} else {
					call.Note().OnJobCreated(func(ctx context.Context, tx *sql.Tx, jobID string) error {
						return store.AttachJob(ctx, tx, owner, key, jobID)
					})
				}
			}

			rec := &recorder{ResponseWriter: c.Response().Writer}
			c.Response().Writer = rec
			err = next(c)
			c.Response().Writer = rec.ResponseWriter
			// Record with a context of its own: the caller may have gone while the work finished.
			saveCtx := context.WithoutCancel(ctx)
			status := c.Response().Status
			if err == nil && status >= 200 && status < 300 {
				if serr := store.Complete(saveCtx, owner, key, idempotency.Response{
					Status: status, ContentType: c.Response().Header().Get(echo.HeaderContentType), Body: rec.body.Bytes(),
				}); serr != nil {
					return serr
				}
				return nil
			}
			if rerr := store.Release(saveCtx, owner, key); rerr != nil {
				return errors.Join(err, rerr)
			}
			return err
		}
	}
}

// recorder keeps a copy of the body written through it.
type recorder struct {
	http.ResponseWriter
	body bytes.Buffer
}

func (r *recorder) Write(b []byte) (int, error) {
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}
