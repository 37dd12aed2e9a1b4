// Package jobs runs long actions as durable jobs on River, over the application's database
// (SQLite or PostgreSQL). The jobs table is the callers' view (owner, progress, result,
// problem, artifacts); River's own tables carry the execution: attempts, retries, and the rescue
// of jobs whose process died.
package jobs

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/rs/zerolog"
	"go.opentelemetry.io/otel/attribute"

	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/artifacts"
	"github.com/aidawg/jarvis/services/ssrf"
	"github.com/aidawg/jarvis/services/storage"
	"github.com/aidawg/jarvis/services/telemetry"
	"github.com/aidawg/jarvis/services/webhook"
)

// Runner does the work of one job type. It reports progress as the work advances, and stops
// when Report says the job was cancelled.
type Runner func(ctx context.Context, job Job, progress *Progress) (Outcome, error)

// Outcome is what a finished job produced.
type Outcome struct {
	Result    any // stored as JSON, answered as the job's result
	Artifacts []NewArtifact
}

// NewArtifact is a file to keep with the job: Data to store, or the id of a file the artifact
// store already holds (a module that rendered it there).
type NewArtifact struct {
	Name        string
	ContentType string
	Data        io.Reader
	ExistingID  string
}

// Config tunes the engine.
type Config struct {
	InstanceID          string        // this process's name in the queue; "" for a new one each start
	Workers             int           // jobs worked at once by this process
	MaxWorkers          int           // River's own worker count, the most Workers may be raised to at run time; 0 for Workers
	MaxAttempts         int           // attempts per job, a rescue after a crash included
	JobTimeout          time.Duration // longest one attempt may run
	RescueAfter         time.Duration // River's own backstop: a job running this long is picked up again
	HeartbeatInterval   time.Duration // how often a running job's worker says it is alive; 0 for 3s
	StaleAfter          time.Duration // a running job silent this long has lost its process; 0 for 5 heartbeats
	TTL                 time.Duration // finished jobs and their artifacts are kept this long
	MaintenanceInterval time.Duration // how often expired jobs are reaped and orphans reconciled
	// PollInterval is how often workers look for jobs that no notification announced; 0 picks
	// by database: SQLite announces each insert (River polls a notification table), so a slow
	// poll only backs that up, while on PostgreSQL (database/sql, no LISTEN) polling is how
	// workers find new jobs at all.
	PollInterval     time.Duration
	RetryBackoff     time.Duration // first retry delay of a failed attempt; doubles each attempt
	InlineWait       time.Duration // how long RunLong waits for a job before returning it unfinished
	CallbackAttempts int
	CallbackBackoff  time.Duration // first retry delay of a callback; doubles each attempt
	// AllowHTTPCallbacks accepts plain http callback URLs (development). Otherwise callbacks are
	// https, but for the addresses the guard allows, which are the operator's own receivers.
	AllowHTTPCallbacks bool
}

// Links makes the signed download link of an artifact.
type Links interface {
	URL(id string, now time.Time) (string, time.Time)
}

// Service creates, runs, reads and cancels jobs.
type Service struct {
	cfg       Config
	db        *storage.DB
	store     *Store
	river     *river.Client[*sql.Tx]
	runners   map[string]Runner
	admission Admission
	tasks     []func(context.Context) error
	files     artifacts.Store
	links     Links
	guard     *ssrf.Guard
	secret    webhook.Secret
	log       zerolog.Logger
	now       func() time.Time
	mu        sync.Mutex
	waiters   map[string][]chan struct{}
	sweeper   sync.WaitGroup
	stopSweep context.CancelFunc
	metrics   *jobMetrics // nil until Instrument
}

// Deps are the service's collaborators.
type Deps struct {
	DB      *storage.DB
	Files   artifacts.Store
	Links   Links
	Guard   *ssrf.Guard    // every callback URL goes through it
	Secret  webhook.Secret // signs callbacks
	Runners map[string]Runner
	// Maintenance are further tasks the periodic maintenance job runs, such as deleting idle
	// user contexts.
	Maintenance []func(context.Context) error
	// Periodic are tasks run on schedules of their own, such as starting scheduled workflows.
	Periodic []Periodic
	// Admission, if set, decides when each job may start (the resizable worker pools).
	Admission Admission
	Log       zerolog.Logger
}

// New builds the job engine. Start begins working jobs; Stop ends it.
func New(cfg Config, d Deps) (*Service, error) {
	drv := driver(d.DB)
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 50 * time.Millisecond
		if drv.SupportsListener() {
			cfg.PollInterval = time.Second
		}
	}
	if cfg.HeartbeatInterval <= 0 {
		cfg.HeartbeatInterval = 3 * time.Second
	}
	if cfg.StaleAfter <= 0 {
		cfg.StaleAfter = 5 * cfg.HeartbeatInterval
	}
	s := &Service{
		cfg: cfg, db: d.DB, store: NewStore(d.DB), runners: d.Runners, admission: d.Admission, tasks: d.Maintenance, files: d.Files, links: d.Links,
		guard: d.Guard, secret: d.Secret, log: d.Log, now: time.Now, waiters: map[string][]chan struct{}{},
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &actionWorker{s: s})
	river.AddWorker(workers, &callbackWorker{s: s})
	river.AddWorker(workers, &maintenanceWorker{s: s})
	periodic, tasks, err := periodicJobs(d.Periodic)
	if err != nil {
		return nil, err
	}
	river.AddWorker(workers, &periodicWorker{tasks: tasks})

	// Callback deliveries and maintenance wait seconds between attempts anyway; looking for them
	// as often as for actions would only cost queries.
	background := max(cfg.PollInterval, time.Second)
	client, err := river.NewClient(drv, &river.Config{
		Queues: map[string]river.QueueConfig{
			queueActions:   {MaxWorkers: max(cfg.Workers, cfg.MaxWorkers, 1)},
			queueCallbacks: {MaxWorkers: 4, FetchPollInterval: background},
			queueMaintain:  {MaxWorkers: 1, FetchPollInterval: background},
			// A workflow run waits for the jobs its steps start; on a queue of their own, runs
			// cannot take every worker those jobs need.
			queueWorkflows: {MaxWorkers: max(cfg.Workers, 1)},
		},
		ID:                   cfg.InstanceID,
		Workers:              workers,
		MaxAttempts:          max(cfg.MaxAttempts, 1),
		JobTimeout:           cfg.JobTimeout,
		RescueStuckJobsAfter: cfg.RescueAfter,
		FetchPollInterval:    cfg.PollInterval,
		FetchCooldown:        min(cfg.PollInterval, 50*time.Millisecond),
		Logger:               slog.New(zerolog.NewSlogHandler(d.Log.Level(zerolog.WarnLevel))),
		PeriodicJobs: append([]*river.PeriodicJob{river.NewPeriodicJob(
			river.PeriodicInterval(cfg.MaintenanceInterval),
			func() (river.JobArgs, *river.InsertOpts) { return maintenanceArgs{}, nil },
			&river.PeriodicJobOpts{ID: "jarvis.maintenance", RunOnStart: true},
		)}, periodic...),
	})
	if err != nil {
		return nil, fmt.Errorf("job queue: %w", err)
	}
	s.river = client
	return s, nil
}

var (
	idMu      sync.Mutex
	idEntropy = ulid.Monotonic(rand.Reader, 0)
)

// newJobID makes an opaque id that sorts by creation, strictly within this process, so that
// listings are newest first even for jobs created in the same millisecond.
func newJobID(t time.Time) string {
	idMu.Lock()
	defer idMu.Unlock()
	return "job_" + ulid.MustNew(ulid.Timestamp(t), idEntropy).String()
}

func driver(db *storage.DB) riverdriver.Driver[*sql.Tx] {
	if db.Dialect == storage.Postgres {
		return riverdatabasesql.New(db.DB)
	}
	return riversqlite.New(db.DB)
}

// Migrate brings River's own tables up to date.
func Migrate(ctx context.Context, db *storage.DB) error {
	m, err := rivermigrate.New(driver(db), nil)
	if err != nil {
		return err
	}
	_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	return err
}

// Start takes back the jobs this instance's previous process was running, then begins working
// jobs and looking for jobs whose heartbeat stopped, until ctx ends or Stop is called.
func (s *Service) Start(ctx context.Context) error {
	// Before this process's workers fetch anything, so that every running job under its id is
	// its predecessor's.
	if _, err := s.rescuePredecessor(ctx); err != nil {
		return fmt.Errorf("rescue the previous process's jobs: %w", err)
	}
	if err := s.river.Start(ctx); err != nil {
		return err
	}
	sweepCtx, cancel := context.WithCancel(ctx)
	s.stopSweep = cancel
	s.sweeper.Add(1)
	go s.sweepLoop(sweepCtx)
	return nil
}

// Stop lets running jobs finish (up to ctx's deadline, then cancels them) and stops working.
func (s *Service) Stop(ctx context.Context) error {
	if s.stopSweep != nil {
		s.stopSweep()
		s.sweeper.Wait()
	}
	err := s.river.Stop(ctx)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return s.river.StopAndCancel(context.Background())
	}
	return err
}

// Ready reports whether jobs can be queued and worked: the queue is running and its table answers.
func (s *Service) Ready(ctx context.Context) error {
	select {
	case <-s.river.Stopped():
		return errors.New("the job queue has stopped")
	default:
	}
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM river_queue`).Scan(&n); err != nil {
		return fmt.Errorf("the job queue's table does not answer: %w", err)
	}
	return nil
}

// Store is the engine's job store.
func (s *Service) Store() *Store { return s.store }

// Has reports whether jobs of typ can run here.
func (s *Service) Has(typ string) bool { _, ok := s.runners[typ]; return ok }

const (
	queueActions   = "actions"
	queueCallbacks = "callbacks"
	queueMaintain  = "maintenance"
	queueWorkflows = "workflows"
)

// queueFor is the queue jobs of typ are worked from.
func queueFor(typ string) string {
	if typ == TypeWorkflowRun {
		return queueWorkflows
	}
	return queueActions
}

// Create records a job for owner and enqueues it, in one transaction.
func (s *Service) Create(ctx context.Context, owner services.Owner, typ string, params any, callbackURL string) (Job, error) {
	if _, ok := s.runners[typ]; !ok {
		return Job{}, services.Errorf(services.CodeNotImplemented, "Jobs of type %s cannot run on this server.", typ)
	}
	if callbackURL != "" {
		u, err := s.guard.CheckURL(callbackURL)
		if err != nil {
			return Job{}, &services.Error{Code: services.CodeValidation, Err: err,
				Detail: "callbackUrl is not a URL Jarvis may call: " + err.Error() + ". Give a public https URL.",
				Fields: []services.FieldError{{Field: "/callbackUrl", Message: err.Error()}}}
		}
		// A callback carries the job's result and signed links to its artifacts, which plain
		// http would expose on the way.
		if u.Scheme == "http" && !s.cfg.AllowHTTPCallbacks && !s.guard.Allowlisted(u) {
			return Job{}, &services.Error{Code: services.CodeValidation,
				Detail: "callbackUrl is a plain http URL; this server posts callbacks only over https. Give an https URL.",
				Fields: []services.FieldError{{Field: "/callbackUrl", Message: "must be an https URL"}}}
		}
	}
	raw, err := json.Marshal(params)
	if err != nil {
		return Job{}, fmt.Errorf("encode job params: %w", err)
	}
	ctx, span := startSpan(ctx, "job.enqueue", attribute.String("jarvis.job.type", typ))
	defer span.End()
	j, err := s.create(ctx, owner, typ, raw, callbackURL)
	if err != nil {
		telemetry.Fail(span, err)
		return Job{}, err
	}
	span.SetAttributes(attribute.String("jarvis.job.id", j.ID))
	s.metrics.queued(typ)
	return j, nil
}

// create records the job and enqueues it, with the trace context its run links to.
func (s *Service) create(ctx context.Context, owner services.Owner, typ string, raw json.RawMessage, callbackURL string) (Job, error) {
	now := s.now().UTC().Truncate(time.Millisecond)
	j := Job{
		ID: newJobID(now), Owner: owner, Type: typ, Status: Queued, Message: "Waiting for a worker.",
		Params: raw, CallbackURL: callbackURL, CreatedAt: now,
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Job{}, err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after commit
	if err := s.store.insert(ctx, tx, &j); err != nil {
		return Job{}, fmt.Errorf("record job: %w", err)
	}
	res, err := s.river.InsertTx(ctx, tx, actionArgs{JobID: j.ID, Trace: telemetry.Capture(ctx)}, &river.InsertOpts{Queue: queueFor(typ)})
	if err != nil {
		return Job{}, fmt.Errorf("enqueue job: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE jobs SET river_id = $1 WHERE id = $2`, res.Job.ID, j.ID); err != nil {
		return Job{}, err
	}
	if err := services.JobCreated(ctx, tx, j.ID); err != nil {
		return Job{}, err
	}
	if err := tx.Commit(); err != nil {
		return Job{}, err
	}
	return j, nil
}

// Wait returns the job once it has finished, or as it stands after d.
func (s *Service) Wait(ctx context.Context, owner services.Owner, id string, d time.Duration) (Job, error) {
	done := s.subscribe(id)
	defer s.unsubscribe(id, done)
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	// Another replica may work the job; polling finds that, the local signal is just faster.
	poll := time.NewTicker(max(s.cfg.PollInterval*2, 100*time.Millisecond))
	defer poll.Stop()
	for {
		j, err := s.Get(ctx, owner, id)
		if err != nil || j.Status.Finished() {
			return j, err
		}
		select {
		case <-done:
		case <-poll.C:
		case <-deadline.C:
			return s.Get(ctx, owner, id)
		case <-ctx.Done():
			return j, ctx.Err()
		}
	}
}

// Get returns the owner's job; another owner's id is not found.
func (s *Service) Get(ctx context.Context, owner services.Owner, id string) (Job, error) {
	j, err := s.store.Get(ctx, owner, id)
	if errors.Is(err, ErrNotFound) {
		return Job{}, notFound(id)
	}
	return j, err
}

// List pages through the owner's jobs.
func (s *Service) List(ctx context.Context, owner services.Owner, f Filter) (Page, error) {
	return s.store.List(ctx, owner, f)
}

// Stats summarises the owner's jobs.
func (s *Service) Stats(ctx context.Context, owner services.Owner) (Stats, error) {
	return s.store.Stats(ctx, owner)
}

// Cancel cancels a queued job at once and asks a running one to stop; the running work sees the
// request the next time it reports progress.
func (s *Service) Cancel(ctx context.Context, owner services.Owner, id string) (Job, error) {
	j, err := s.store.requestCancel(ctx, owner, id)
	switch {
	case errors.Is(err, ErrNotFound):
		return Job{}, notFound(id)
	case errors.Is(err, ErrFinished):
		return j, alreadyFinished(j)
	case err != nil:
		return j, err
	}
	if j.Status == Queued {
		if _, err := s.store.finish(ctx, id, Cancelled, "Cancelled at the caller's request before it started.",
			nil, nil, nil, s.now()); err != nil {
			return j, err
		}
		s.notify(id)
		s.enqueueCallback(ctx, id)
		return s.store.Get(ctx, owner, id)
	}
	return j, nil
}

func (s *Service) subscribe(id string) chan struct{} {
	ch := make(chan struct{}, 1)
	s.mu.Lock()
	s.waiters[id] = append(s.waiters[id], ch)
	s.mu.Unlock()
	return ch
}

func (s *Service) unsubscribe(id string, ch chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := s.waiters[id]
	for i, c := range list {
		if c == ch {
			list = append(list[:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(s.waiters, id)
	} else {
		s.waiters[id] = list
	}
}

func (s *Service) notify(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ch := range s.waiters[id] {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// ErrCancelRequested is what Progress.Report answers once the job has been cancelled.
var ErrCancelRequested = errors.New("job cancelled")

// Progress lets running work say how far it is and learn whether it should stop.
type Progress struct {
	s       *Service
	jobID   string
	last    time.Time
	lastPct int
}

// Report records progress (0 to 100), a message and an estimate of the time remaining. Writes
// are spaced out; each write also checks for cancellation, which Report then returns as
// ErrCancelRequested.
func (p *Progress) Report(ctx context.Context, pct int, message string, remaining time.Duration) error {
	pct = min(max(pct, 0), 99) // 100 is set when the result is stored
	now := p.s.now()
	if pct < p.lastPct+5 && now.Sub(p.last) < 250*time.Millisecond {
		return nil
	}
	eta := int((remaining + time.Second - 1) / time.Second)
	cancelled, err := p.s.store.progress(ctx, p.jobID, pct, message, &eta)
	if err != nil {
		return err
	}
	p.last, p.lastPct = now, pct
	if cancelled {
		return ErrCancelRequested
	}
	return nil
}

// storeArtifacts writes a job's files and returns their records.
// keep stores a new artifact's data, or finds the size of one already in the store.
func (s *Service) keep(ctx context.Context, a NewArtifact) (string, int64, error) {
	if a.ExistingID != "" {
		f, err := s.files.Open(ctx, a.ExistingID)
		if err != nil {
			return "", 0, err
		}
		defer f.Close()
		n, err := f.Seek(0, io.SeekEnd)
		return a.ExistingID, n, err
	}
	id := artifacts.NewID()
	n, err := s.files.Put(ctx, id, a.Data)
	return id, n, err
}

func (s *Service) storeArtifacts(ctx context.Context, jobID string, list []NewArtifact) ([]Artifact, error) {
	out := make([]Artifact, 0, len(list))
	for _, a := range list {
		id, n, err := s.keep(ctx, a)
		if err != nil {
			for _, done := range out {
				_ = s.files.Delete(ctx, done.ID)
			}
			return nil, fmt.Errorf("store artifact %s: %w", a.Name, err)
		}
		out = append(out, Artifact{ID: id, JobID: jobID, Name: a.Name, ContentType: a.ContentType, SizeBytes: n})
	}
	return out, nil
}

func marshalResult(v any) (json.RawMessage, error) {
	if raw, ok := v.(json.RawMessage); ok {
		return raw, nil
	}
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		return nil, err
	}
	return json.RawMessage(bytes.TrimSpace(buf.Bytes())), nil
}
