package jobs

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"time"

	"github.com/riverqueue/river"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/telemetry"
)

type actionArgs struct {
	JobID string `json:"jobId"`
	// Trace is the trace context of the request that created the job; the job's runs link to it.
	Trace telemetry.Carrier `json:"trace,omitempty"`
}

func (actionArgs) Kind() string { return "jarvis.action" }

type actionWorker struct {
	river.WorkerDefaults[actionArgs]
	s *Service
}

func (w *actionWorker) Timeout(*river.Job[actionArgs]) time.Duration { return w.s.cfg.JobTimeout }

func (w *actionWorker) NextRetry(rj *river.Job[actionArgs]) time.Time {
	return backoff(w.s.cfg.RetryBackoff, rj.Attempt)
}

// backoff is an exponential delay from first with full jitter over its upper half, so that
// retries of many jobs spread out.
func backoff(first time.Duration, attempt int) time.Time {
	ceiling := first << min(max(attempt-1, 0), 16)
	return time.Now().Add(ceiling/2 + mrand.N(ceiling/2+1))
}

// retryable are the failures another attempt may get past.
var retryable = map[services.Code]bool{
	services.CodeUnavailable: true,
	services.CodeTimeout:     true,
	services.CodeBadGateway:  true,
	services.CodeRateLimited: true,
}

func (w *actionWorker) Work(ctx context.Context, rj *river.Job[actionArgs]) (err error) {
	s := w.s
	id := rj.Args.JobID
	// Each run is a trace of its own, linked to the request that created the job: a run may come
	// long after that request was answered, and there may be several.
	ctx, span := telemetry.Tracer().Start(ctx, "job.run", trace.WithNewRoot(), trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithLinks(rj.Args.Trace.Link()), trace.WithAttributes(
			attribute.String("jarvis.job.id", id), attribute.Int("jarvis.job.attempt", rj.Attempt)))
	defer func() {
		telemetry.Fail(span, err)
		span.End()
	}()
	j, err := s.store.getAny(ctx, id)
	if errors.Is(err, ErrNotFound) || (err == nil && j.Status.Finished()) {
		return nil // reaped, or finished by an earlier attempt or a cancellation
	}
	if err != nil {
		return err
	}
	span.SetAttributes(attribute.String("jarvis.job.type", j.Type))
	release, err := s.admit(ctx, j)
	if err != nil {
		return err
	}
	defer release()
	started, err := s.store.start(ctx, id, rj.Attempt, s.river.ID(), s.now())
	if err != nil {
		return err
	}
	if !started {
		// Cancellation was requested before the work began.
		s.finishJob(ctx, id, Cancelled, "Cancelled at the caller's request before it started.", nil, nil, nil)
		return nil
	}
	stopBeat := s.beat(ctx, id)
	endRun := s.metrics.running(j.Type)
	out, runErr := s.runners[j.Type](ctx, j, &Progress{s: s, jobID: id, lastPct: -5})
	endRun(runErr)
	stopBeat()
	if runErr == nil {
		result, err := marshalResult(out.Result)
		if err != nil {
			s.finishJob(ctx, id, Failed, "The result could not be stored.", nil, problemOf(err), nil)
			return nil
		}
		arts, err := s.storeArtifacts(ctx, id, out.Artifacts)
		if err != nil {
			return w.failOrRetry(ctx, rj, err)
		}
		s.finishJob(ctx, id, Completed, "Done.", result, nil, arts)
		return nil
	}
	if errors.Is(runErr, ErrCancelRequested) {
		s.finishJob(ctx, id, Cancelled, "Cancelled at the caller's request.", nil, nil, nil)
		return nil
	}
	return w.failOrRetry(ctx, rj, runErr)
}

func (w *actionWorker) failOrRetry(ctx context.Context, rj *river.Job[actionArgs], runErr error) error {
	s := w.s
	p := problemOf(runErr)
	if errors.Is(runErr, context.DeadlineExceeded) {
		p = &Problem{Code: services.CodeTimeout, Detail: "The work took longer than this server allows for one attempt."}
	}
	if retryable[p.Code] && rj.Attempt < rj.MaxAttempts {
		// Detach from the attempt's context: it may be the one that just expired.
		if err := s.store.requeue(context.WithoutCancel(ctx), rj.Args.JobID,
			fmt.Sprintf("Attempt %d failed (%s); it will be retried.", rj.Attempt, p.Detail)); err != nil {
			return err
		}
		return runErr
	}
	s.finishJob(context.WithoutCancel(ctx), rj.Args.JobID, Failed, "Failed: "+p.Detail, nil, p, nil)
	return nil
}

func problemOf(err error) *Problem {
	if se, ok := services.AsError(err); ok && se.Code != services.CodeInternal {
		return &Problem{Code: se.Code, Detail: se.Detail}
	}
	return &Problem{Code: services.CodeInternal, Detail: "The job failed inside Jarvis. Start it again; if it fails again, report the job id."}
}

// finishJob records the end of a job, wakes its waiters and schedules its callback.
func (s *Service) finishJob(ctx context.Context, id string, status Status, message string, result json.RawMessage, p *Problem, arts []Artifact) {
	ok, err := s.store.finish(ctx, id, status, message, result, p, arts, s.now())
	if err != nil {
		s.log.Error().Err(err).Str("jobId", id).Msg("record job end")
		return
	}
	if !ok {
		for _, a := range arts {
			_ = s.files.Delete(ctx, a.ID)
		}
		return
	}
	s.notify(id)
	s.enqueueCallback(ctx, id)
}

// Callbacks.

type callbackArgs struct {
	DeliveryID string `json:"deliveryId"`
	// Trace is the trace context of the job run that finished; the deliveries link to it.
	Trace telemetry.Carrier `json:"trace,omitempty"`
}

func (callbackArgs) Kind() string { return "jarvis.callback" }

// callbackEvent is the body of a callback: the job as getJobStatus answers it.
type callbackEvent struct {
	Type      string       `json:"type"`
	Timestamp time.Time    `json:"timestamp"`
	Data      callbackData `json:"data"`
}

type callbackData struct {
	ID         string           `json:"id"`
	Type       string           `json:"type"`
	Status     Status           `json:"status"`
	Progress   int              `json:"progress"`
	Message    string           `json:"message,omitempty"`
	CreatedAt  time.Time        `json:"createdAt"`
	StartedAt  *time.Time       `json:"startedAt,omitempty"`
	FinishedAt *time.Time       `json:"finishedAt,omitempty"`
	Result     json.RawMessage  `json:"result,omitempty"`
	Problem    *Problem         `json:"problem,omitempty"`
	Artifacts  []callbackAssets `json:"artifacts"`
}

type callbackAssets struct {
	Name        string    `json:"name"`
	ContentType string    `json:"contentType"`
	SizeBytes   int64     `json:"sizeBytes"`
	URL         string    `json:"url"`
	ExpiresAt   time.Time `json:"expiresAt"`
}

// enqueueCallback records a delivery of the finished job to its callback URL, if it has one,
// and enqueues its first attempt.
func (s *Service) enqueueCallback(ctx context.Context, jobID string) {
	ctx = context.WithoutCancel(ctx)
	j, err := s.store.getAny(ctx, jobID)
	if err != nil || j.CallbackURL == "" {
		return
	}
	arts, err := s.store.artifacts(ctx, []string{jobID})
	if err != nil {
		s.log.Error().Err(err).Str("jobId", jobID).Msg("read artifacts for callback")
		return
	}
	now := s.now().UTC()
	data := callbackData{ID: j.ID, Type: j.Type, Status: j.Status, Progress: j.Progress, Message: j.Message,
		CreatedAt: j.CreatedAt, StartedAt: j.StartedAt, FinishedAt: j.FinishedAt, Result: j.Result, Problem: j.Problem,
		Artifacts: []callbackAssets{}}
	for _, a := range arts[jobID] {
		url, exp := s.links.URL(a.ID, now)
		data.Artifacts = append(data.Artifacts, callbackAssets{Name: a.Name, ContentType: a.ContentType, SizeBytes: a.SizeBytes, URL: url, ExpiresAt: exp})
	}
	payload, err := json.Marshal(callbackEvent{Type: "job." + string(j.Status), Timestamp: now, Data: data})
	if err != nil {
		s.log.Error().Err(err).Str("jobId", jobID).Msg("encode callback")
		return
	}
	deliveryID := "msg_" + rand.Text()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		s.log.Error().Err(err).Str("jobId", jobID).Msg("enqueue callback")
		return
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after commit
	if _, err = tx.ExecContext(ctx, `INSERT INTO webhook_deliveries (id, job_id, url, event, payload, status, created_at)
		VALUES ($1, $2, $3, $4, $5, 'pending', $6)`, deliveryID, jobID, j.CallbackURL, "job."+string(j.Status), string(payload), now.UnixMilli()); err == nil {
		_, err = s.river.InsertTx(ctx, tx, callbackArgs{DeliveryID: deliveryID, Trace: telemetry.Capture(ctx)}, &river.InsertOpts{
			Queue: queueCallbacks, MaxAttempts: max(s.cfg.CallbackAttempts, 1)})
	}
	if err == nil {
		err = tx.Commit()
	}
	if err != nil {
		s.log.Error().Err(err).Str("jobId", jobID).Msg("enqueue callback")
	}
}

type callbackWorker struct {
	river.WorkerDefaults[callbackArgs]
	s *Service
}

func (w *callbackWorker) NextRetry(rj *river.Job[callbackArgs]) time.Time {
	return backoff(w.s.cfg.CallbackBackoff, rj.Attempt)
}

func (w *callbackWorker) Work(ctx context.Context, rj *river.Job[callbackArgs]) (err error) {
	s := w.s
	ctx, span := telemetry.Tracer().Start(ctx, "job.callback", trace.WithNewRoot(), trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithLinks(rj.Args.Trace.Link()), trace.WithAttributes(
			attribute.String("jarvis.webhook.id", rj.Args.DeliveryID), attribute.Int("jarvis.webhook.attempt", rj.Attempt)))
	defer func() {
		telemetry.Fail(span, err)
		span.End()
	}()
	var url, payload string
	err = s.db.QueryRowContext(ctx, `SELECT url, payload FROM webhook_deliveries WHERE id = $1`, rj.Args.DeliveryID).Scan(&url, &payload)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // the job and its deliveries were reaped
	}
	if err != nil {
		return err
	}
	start := s.now()
	status, sendErr := s.send(ctx, rj.Args.DeliveryID, url, []byte(payload))
	took := s.now().Sub(start)
	var statusCode any
	if status > 0 {
		statusCode = status
	}
	var errText any
	if sendErr != nil {
		errText = sendErr.Error()
	}
	ok := sendErr == nil
	final := ok || rj.Attempt >= rj.MaxAttempts
	deliveryStatus := "retrying"
	switch {
	case ok:
		deliveryStatus = "delivered"
	case final:
		deliveryStatus = "failed"
	}
	var delivered any
	if ok {
		delivered = s.now().UnixMilli()
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after commit
	if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_attempts (delivery_id, attempt, at, status_code, error, duration_ms)
		VALUES ($1, $2, $3, $4, $5, $6)`, rj.Args.DeliveryID, rj.Attempt, start.UnixMilli(), statusCode, errText, took.Milliseconds()); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET status = $1, attempts = $2, delivered_at = $3 WHERE id = $4`,
		deliveryStatus, rj.Attempt, delivered, rj.Args.DeliveryID); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	if !ok && !final {
		return sendErr
	}
	return nil
}

func (s *Service) send(ctx context.Context, id, url string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Jarvis-Webhooks/1")
	if err := s.secret.SetHeaders(req.Header, id, s.now(), body); err != nil {
		return 0, fmt.Errorf("sign callback: %w", err)
	}
	// The receiver may continue the delivery's trace.
	telemetry.Inject(ctx, req.Header)
	resp, err := s.guard.Do(ctx, req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = s.guard.ReadLimited(resp.Body)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("receiver answered %d", resp.StatusCode)
	}
	return resp.StatusCode, nil
}

// Maintenance: retention and reconciliation.

type maintenanceArgs struct{}

func (maintenanceArgs) Kind() string { return "jarvis.maintenance" }

func (maintenanceArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueMaintain, MaxAttempts: 1}
}

type maintenanceWorker struct {
	river.WorkerDefaults[maintenanceArgs]
	s *Service
}

func (w *maintenanceWorker) Work(ctx context.Context, _ *river.Job[maintenanceArgs]) error {
	if err := w.s.Reconcile(ctx); err != nil {
		return err
	}
	if _, err := w.s.Reap(ctx); err != nil {
		return err
	}
	for _, task := range w.s.tasks {
		if err := task(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Reconcile fails the jobs that River has given up on without their worker recording an end:
// a job whose process died on its last attempt is discarded by River's rescuer, and would
// otherwise look as if it were still running.
func (s *Service) Reconcile(ctx context.Context) error {
	rows, err := s.db.QueryContext(ctx, `SELECT j.id, r.attempt FROM jobs j JOIN river_job r ON r.id = j.river_id
		WHERE j.status IN ($1, $2) AND r.state IN ('discarded', 'cancelled', 'completed')`, string(Queued), string(Running))
	if err != nil {
		return err
	}
	type orphan struct {
		id       string
		attempts int
	}
	var orphans []orphan
	for rows.Next() {
		var o orphan
		if err := rows.Scan(&o.id, &o.attempts); err != nil {
			rows.Close()
			return err
		}
		orphans = append(orphans, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, o := range orphans {
		s.finishJob(ctx, o.id, Failed, "Failed: the process running it stopped.", nil, &Problem{
			Code:   services.CodeUnavailable,
			Detail: fmt.Sprintf("The server running this job stopped during its work, and it was not retried again after %d attempt(s). Start the action again.", o.attempts),
		}, nil)
	}
	return nil
}

// Reap deletes finished jobs older than the retention period, with their artifacts, and
// expired idempotency keys. It returns how many jobs it deleted.
func (s *Service) Reap(ctx context.Context) (int, error) {
	cutoff := s.now().Add(-s.cfg.TTL)
	total := 0
	for {
		artIDs, n, err := s.store.expired(ctx, cutoff, 500)
		if err != nil {
			return total, err
		}
		for _, id := range artIDs {
			if err := s.files.Delete(ctx, id); err != nil {
				s.log.Warn().Err(err).Str("artifactId", id).Msg("delete artifact file")
			}
		}
		total += n
		if n < 500 {
			break
		}
	}
	_, err := s.db.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE created_at < $1`, s.now().Add(-24*time.Hour).UnixMilli())
	return total, err
}

// Event is one webhook event to deliver: its type and its whole JSON body.
type Event struct {
	Type string
	Body []byte
}

// Deliver queues one signed delivery of each event to url, attempted from at on and retried
// like job callbacks. The deliveries are recorded under a finished job of typ owned by owner,
// whose message says what was queued and which carries them until the retention period reaps
// it. The URL must pass the guard and be https, as callbacks must.
func (s *Service) Deliver(ctx context.Context, owner services.Owner, typ, url string, events []Event, at time.Time) (string, error) {
	u, err := s.guard.CheckURL(url)
	if err != nil {
		return "", err
	}
	// The events carry what the callers' data says of people, which plain http would expose.
	if u.Scheme == "http" && !s.cfg.AllowHTTPCallbacks && !s.guard.Allowlisted(u) {
		return "", errors.New("the endpoint is a plain http URL; deliveries go only over https, but to the addresses JARVIS_SSRF_ALLOW lists")
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	id := newJobID(now)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return "", err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after commit
	if _, err := tx.ExecContext(ctx, `INSERT INTO jobs (id, tenant, owner, type, status, progress, message, params, created_at,
		started_at, finished_at) VALUES ($1, $2, $3, $4, $5, 100, $6, '{}', $7, $8, $9)`, id, owner.Tenant, owner.User, typ,
		string(Completed), fmt.Sprintf("%d webhook events queued for delivery.", len(events)),
		now.UnixMilli(), now.UnixMilli(), now.UnixMilli()); err != nil {
		return "", fmt.Errorf("record deliveries: %w", err)
	}
	for _, e := range events {
		deliveryID := "msg_" + rand.Text()
		if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_deliveries (id, job_id, url, event, payload, status, created_at)
			VALUES ($1, $2, $3, $4, $5, 'pending', $6)`, deliveryID, id, url, e.Type, string(e.Body), now.UnixMilli()); err != nil {
			return "", fmt.Errorf("record delivery: %w", err)
		}
		if _, err := s.river.InsertTx(ctx, tx, callbackArgs{DeliveryID: deliveryID}, &river.InsertOpts{
			Queue: queueCallbacks, MaxAttempts: max(s.cfg.CallbackAttempts, 1), ScheduledAt: at}); err != nil {
			return "", fmt.Errorf("enqueue delivery: %w", err)
		}
	}
	return id, tx.Commit()
}
