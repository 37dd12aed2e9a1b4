// Package scaling sizes Jarvis's own pools while it runs: the job workers (all of them, and
// those of music generation), the concurrent audio analyses, the in-flight API requests and
// the database connections. A pool's limit is a number of slots ("instances"), kept in the
// database so that it survives restarts and reaches every replica sharing it; each replica
// applies it to itself. Every change is recorded with who made it, when, from, to and why.
package scaling

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/jobs"
	"github.com/aidawg/jarvis/services/storage"
)

// The pools.
const (
	MusicGeneration = "music-generation" // job workers of music generation
	AudioAnalysis   = "audio-analysis"   // analyses and validations run at once
	API             = "api"              // requests in flight
	Workers         = "workers"          // job workers of every type
	Database        = "database"         // open database connections
)

// Pools lists the pools in the order they are reported.
var Pools = []string{MusicGeneration, AudioAnalysis, API, Workers, Database}

// Bounds are the fewest and most slots a pool may be given.
type Bounds struct{ Min, Max int }

// Config is how the pools start and may change.
type Config struct {
	Initial       map[string]int     // limits while the database holds none
	Bounds        map[string]Bounds  // configured bounds; a change outside them is refused
	Costs         map[string]float64 // US dollars per slot and hour; absent is 0
	PollInterval  time.Duration      // how often a replica reads the shared limits
	Window        time.Duration      // observations auto-optimize judges by
	Stabilization time.Duration      // a scale-down goes no lower than the highest recommendation within it
}

// DefaultBounds are the bounds of pools the configuration leaves out.
var DefaultBounds = map[string]Bounds{
	MusicGeneration: {1, 64}, AudioAnalysis: {1, 64}, API: {1, 4096}, Workers: {1, 64}, Database: {2, 200},
}

// QueueDepth counts the jobs waiting to start, of the given types or of all.
type QueueDepth interface {
	QueueDepth(ctx context.Context, types ...string) (int, error)
}

// Service holds the pools of this process.
type Service struct {
	cfg   Config
	db    *storage.DB
	log   zerolog.Logger
	now   func() time.Time
	queue QueueDepth
	pools map[string]*pool
	held  *prometheus.HistogramVec
	obs   *observer
	// observe reads a pool's metric over the window; the observer's, or a test's.
	observe func(name, metric string, limit int) (float64, bool)
	mu      sync.Mutex
	seen    map[string]int64 // version of each pool's row last applied
	stop    context.CancelFunc
	done    chan struct{}
	closed  sync.Once
}

type pool struct {
	name    string
	limiter *Limiter // nil for the database pool
	db      *sql.DB  // the database pool's
	fixed   string   // why the pool cannot change, or ""
}

func (p *pool) usage() Usage {
	if p.limiter != nil {
		return p.limiter.Usage()
	}
	st := p.db.Stats()
	return Usage{Limit: st.MaxOpenConnections, InUse: st.InUse}
}

func (p *pool) set(n int) {
	if p.limiter != nil {
		p.limiter.SetLimit(n)
		return
	}
	p.db.SetMaxOpenConns(n)
	p.db.SetMaxIdleConns(max(n/2, 1))
}

// New builds the pools over db, reads the shared limits (writing the configured ones for the
// pools that have none yet) and applies them. Start begins following other replicas' changes.
func New(ctx context.Context, cfg Config, db *storage.DB, log zerolog.Logger) (*Service, error) {
	s := &Service{cfg: cfg, db: db, log: log, now: time.Now, pools: map[string]*pool{}, seen: map[string]int64{}}
	s.observe = func(name, metric string, limit int) (float64, bool) {
		if s.obs == nil {
			return 0, false
		}
		return s.obs.observed(name, metric, limit)
	}
	if s.cfg.Bounds == nil {
		s.cfg.Bounds = map[string]Bounds{}
	}
	for name, b := range DefaultBounds {
		if _, ok := s.cfg.Bounds[name]; !ok {
			s.cfg.Bounds[name] = b
		}
	}
	for _, name := range Pools {
		p := &pool{name: name}
		if name == Database {
			p.db = db.DB
			if db.Dialect == storage.SQLite {
				// River's SQLite driver needs the one connection it shares with the application.
				p.fixed = "SQLite keeps one connection, which the job queue's driver needs to avoid SQLITE_BUSY; the pool can be sized on PostgreSQL"
			}
		} else {
			p.limiter = NewLimiter(s.initial(name))
		}
		s.pools[name] = p
	}
	s.held = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "jarvis_pool_work_seconds",
		Help:    "Time a unit of work of a pool took, its wait for a slot included: a job from its creation, an analysis from its call.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600},
	}, []string{"pool"})
	if err := s.seed(ctx); err != nil {
		return nil, err
	}
	if err := s.refresh(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Service) initial(name string) int {
	n, ok := s.cfg.Initial[name]
	if !ok {
		n = map[string]int{MusicGeneration: 4, AudioAnalysis: 4, API: 512, Workers: 4, Database: 20}[name]
	}
	b := s.cfg.Bounds[name]
	return min(max(n, b.Min), b.Max)
}

// seed writes the configured limit of each pool the database holds none of. The first replica
// to start decides; a later one with other settings follows the database.
func (s *Service) seed(ctx context.Context) error {
	now := s.now().UnixMilli()
	for _, name := range Pools {
		if s.pools[name].fixed != "" {
			continue
		}
		n := s.initial(name)
		if _, err := s.db.ExecContext(ctx, `INSERT INTO scaling_limits (pool, slots, version, updated_at, updated_by)
			VALUES ($1, $2, 1, $3, 'configuration') ON CONFLICT (pool) DO NOTHING`, name, n, now); err != nil {
			return fmt.Errorf("seed the limit of %s: %w", name, err)
		}
	}
	return nil
}

// refresh applies the shared limits that changed since they were last read.
func (s *Service) refresh(ctx context.Context) error {
	rows, err := s.db.QueryContext(ctx, `SELECT pool, slots, version FROM scaling_limits`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			name     string
			slots    int
			version  int64
			isKnown  bool
			lastSeen int64
		)
		if err := rows.Scan(&name, &slots, &version); err != nil {
			return err
		}
		p := s.pools[name]
		if p == nil || p.fixed != "" {
			continue
		}
		s.mu.Lock()
		lastSeen, isKnown = s.seen[name]
		if !isKnown || version > lastSeen {
			s.seen[name] = version
			p.set(slots)
		}
		s.mu.Unlock()
	}
	return rows.Err()
}

// Start follows the shared limits every PollInterval and samples the pools every
// Window/60, until Close.
func (s *Service) Start(queue QueueDepth, gather prometheus.Gatherer) {
	s.queue = queue
	s.obs = newObserver(s, gather)
	ctx, cancel := context.WithCancel(context.Background())
	s.stop, s.done = cancel, make(chan struct{})
	go s.loop(ctx)
}

func (s *Service) loop(ctx context.Context) {
	defer close(s.done)
	poll := time.NewTicker(max(s.cfg.PollInterval, 10*time.Millisecond))
	defer poll.Stop()
	sample := time.NewTicker(max(s.cfg.Window/60, 50*time.Millisecond))
	defer sample.Stop()
	s.obs.sample(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-poll.C:
			if err := s.refresh(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn().Err(err).Msg("read the shared pool limits")
			}
		case <-sample.C:
			s.obs.sample(ctx)
		}
	}
}

// Close stops following the shared limits.
func (s *Service) Close() error {
	s.closed.Do(func() {
		if s.stop != nil {
			s.stop()
			<-s.done
		}
	})
	return nil
}

// Collector is the pools' own metric, for the server's registry.
func (s *Service) Collector() prometheus.Collector { return s.held }

// Limiter is the limiter of a pool other than the database's.
func (s *Service) Limiter(name string) *Limiter { return s.pools[name].limiter }

// admissionWait is how long a job waits in this process for a slot before it is offered back
// to the queue, where any replica with a free slot may take it.
const admissionWait = 250 * time.Millisecond

// Admit takes a slot of the workers pool, and of music-generation for such a job, for a job
// about to start. A job waits for its type's pool before it takes a worker, so that no worker
// is held idle. Implements jobs.Admission.
func (s *Service) Admit(ctx context.Context, jobType string, created time.Time) (func(), bool) {
	ctx, cancel := context.WithTimeout(ctx, admissionWait)
	defer cancel()
	var typed *Limiter
	if jobType == jobs.TypeMusicGeneration {
		typed = s.pools[MusicGeneration].limiter
		if typed.Acquire(ctx) != nil {
			return nil, false
		}
	}
	workers := s.pools[Workers].limiter
	if workers.Acquire(ctx) != nil {
		if typed != nil {
			typed.Release()
		}
		return nil, false
	}
	return func() {
		took := s.now().Sub(created).Seconds()
		workers.Release()
		s.held.WithLabelValues(Workers).Observe(took)
		if typed != nil {
			typed.Release()
			s.held.WithLabelValues(MusicGeneration).Observe(took)
		}
	}, true
}

// Analyses is the gate of the audio-analysis pool: a call waits for a slot as long as its
// context allows.
func (s *Service) Analyses() analysisGate { return analysisGate{s} }

type analysisGate struct{ s *Service }

func (g analysisGate) Enter(ctx context.Context) (func(), error) {
	start := g.s.now()
	l := g.s.pools[AudioAnalysis].limiter
	if err := l.Acquire(ctx); err != nil {
		return nil, err
	}
	return func() {
		l.Release()
		g.s.held.WithLabelValues(AudioAnalysis).Observe(g.s.now().Sub(start).Seconds())
	}, nil
}

// Change is one recorded change of a pool's limit.
type Change struct {
	Pool   string
	From   int
	To     int
	Action string
	Reason string
	By     string // the principal's subject
	At     time.Time
}

// Request is what manageScaling asks for.
type Request struct {
	Action       string // get-status, scale-up, scale-down or auto-optimize
	Pool         string // "" for every pool (get-status, auto-optimize)
	Instances    *int   // scale-up and scale-down: the new limit; nil for one slot more or less
	TargetMetric string // auto-optimize: utilization, queue-depth or latency
	TargetValue  *float64
	MinInstances *int
	MaxInstances *int
	MaxCost      *float64
	Reason       string
}

// Report is the answer: each pool's status, the changes made, and why a pool was left alone.
type Report struct {
	Action    string
	Resources []Status
	Changes   []Change
	Notes     []string
	Memory    Memory
	History   []Change // the latest recorded changes, newest first
}

// Status is one pool as it stands.
type Status struct {
	Pool            string
	Limit           int
	Min, Max        int // configured bounds
	InUse           int
	QueueDepth      *int
	P95             *time.Duration // over the observation window; nil without observations
	Utilization     float64        // in use over the limit
	CostPerSlotHour float64
	CostPerHour     float64
	Fixed           string
}

func invalid(field, message, detail string) error {
	return &services.Error{Code: services.CodeValidation, Detail: detail,
		Fields: []services.FieldError{{Field: field, Message: message}}}
}

// Manage carries out a request as who.
func (s *Service) Manage(ctx context.Context, who string, r Request) (Report, error) {
	if r.Pool != "" && s.pools[r.Pool] == nil {
		return Report{}, invalid("/resource", "is not a pool", fmt.Sprintf("resource %q is not one of %s.", r.Pool, strings.Join(Pools, ", ")))
	}
	if r.MinInstances != nil && r.MaxInstances != nil && *r.MinInstances > *r.MaxInstances {
		return Report{}, invalid("/constraints/minInstances", "is above maxInstances",
			fmt.Sprintf("constraints.minInstances (%d) is above constraints.maxInstances (%d). Give a range that holds at least one value.", *r.MinInstances, *r.MaxInstances))
	}
	rep := Report{Action: r.Action}
	var err error
	switch r.Action {
	case "get-status":
	case "scale-up", "scale-down":
		if r.Pool == "" {
			return Report{}, invalid("/resource", "is required for "+r.Action, "Name the resource to "+r.Action+": one of "+strings.Join(Pools, ", ")+".")
		}
		var c *Change
		c, err = s.scale(ctx, who, r)
		if c != nil {
			rep.Changes = append(rep.Changes, *c)
		}
	case "auto-optimize":
		rep.Changes, rep.Notes, err = s.optimize(ctx, who, r)
	default:
		return Report{}, invalid("/action", "is not an action", fmt.Sprintf("action %q is not one of get-status, scale-up, scale-down, auto-optimize.", r.Action))
	}
	if err != nil {
		return Report{}, err
	}
	if rep.Resources, err = s.statuses(ctx, r.Pool); err != nil {
		return Report{}, err
	}
	rep.Memory = readMemory()
	if rep.History, err = s.history(ctx, r.Pool, 20); err != nil {
		return Report{}, err
	}
	return rep, nil
}

// allowed is the range a pool's limit may take under the configured bounds and the request's
// constraints, the cost cap included.
func (s *Service) allowed(name string, r Request) (lo, hi int, capped string) {
	b := s.cfg.Bounds[name]
	lo, hi = b.Min, b.Max
	if r.MinInstances != nil {
		lo = max(lo, *r.MinInstances)
	}
	if r.MaxInstances != nil {
		hi = min(hi, *r.MaxInstances)
	}
	if cost := s.cfg.Costs[name]; r.MaxCost != nil && cost > 0 {
		byCost := int(math.Floor(*r.MaxCost/cost + 1e-9))
		if byCost < hi {
			hi, capped = byCost, fmt.Sprintf("maxCost %.2f at %.4f a slot-hour allows %d", *r.MaxCost, cost, byCost)
		}
	}
	return lo, hi, capped
}

func (s *Service) scale(ctx context.Context, who string, r Request) (*Change, error) {
	p := s.pools[r.Pool]
	if p.fixed != "" {
		return nil, &services.Error{Code: services.CodeUnprocessable, Detail: "The " + r.Pool + " pool cannot be changed here: " + p.fixed + ".",
			Fields: []services.FieldError{{Field: "/resource", Message: "cannot be changed on this database"}}}
	}
	current := p.usage().Limit
	want := current + 1
	if r.Action == "scale-down" {
		want = current - 1
	}
	if r.Instances != nil {
		want = *r.Instances
		if r.Action == "scale-up" && want < current {
			return nil, invalid("/instances", fmt.Sprintf("is below the current %d", current),
				fmt.Sprintf("scale-up to %d would lower %s from %d. Use scale-down, or give instances above %d.", want, r.Pool, current, current))
		}
		if r.Action == "scale-down" && want > current {
			return nil, invalid("/instances", fmt.Sprintf("is above the current %d", current),
				fmt.Sprintf("scale-down to %d would raise %s from %d. Use scale-up, or give instances below %d.", want, r.Pool, current, current))
		}
	}
	lo, hi, capped := s.allowed(r.Pool, r)
	if want < lo || want > hi {
		field := "/instances"
		if r.Instances == nil {
			field = "/action"
		}
		why := fmt.Sprintf("the configured bounds are %d to %d", s.cfg.Bounds[r.Pool].Min, s.cfg.Bounds[r.Pool].Max)
		if r.MinInstances != nil || r.MaxInstances != nil || capped != "" {
			why += fmt.Sprintf(", and with the constraints %d to %d", lo, hi)
			if capped != "" {
				why += " (" + capped + ")"
			}
		}
		return nil, invalid(field, fmt.Sprintf("must be from %d to %d", lo, hi),
			fmt.Sprintf("%s cannot go to %d slots: %s. Give a value within them.", r.Pool, want, why))
	}
	if want == current {
		return nil, nil
	}
	reason := r.Reason
	if reason == "" {
		reason = fmt.Sprintf("%s asked by the caller", r.Action)
	}
	return s.apply(ctx, who, r.Pool, current, want, r.Action, reason)
}

// errConflict is a limit another replica changed since it was read.
var errConflict = errors.New("the limit changed meanwhile")

// apply records the change of a pool from from to to and applies it here at once; the other
// replicas apply it at their next poll.
func (s *Service) apply(ctx context.Context, who, name string, from, to int, action, reason string) (*Change, error) {
	now := s.now().UTC().Truncate(time.Millisecond)
	c := &Change{Pool: name, From: from, To: to, Action: action, Reason: reason, By: who, At: now}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after commit
	var version int64
	err = tx.QueryRowContext(ctx, `UPDATE scaling_limits SET slots = $1, version = version + 1, updated_at = $2, updated_by = $3
		WHERE pool = $4 AND slots = $5 RETURNING version`, to, now.UnixMilli(), who, name, from).Scan(&version)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, &services.Error{Code: services.CodeConflict, RetryAfter: 1, Err: errConflict,
			Detail: fmt.Sprintf("The %s limit was changed by another call meanwhile. Read get-status and ask again.", name)}
	}
	if err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO scaling_changes (id, pool, from_slots, to_slots, action, reason, actor, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, "chg_"+rand.Text(), name, from, to, action, reason, who, now.UnixMilli()); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	if version > s.seen[name] {
		s.seen[name] = version
		s.pools[name].set(to)
	}
	s.mu.Unlock()
	s.log.Info().Str("pool", name).Int("from", from).Int("to", to).Str("by", who).Str("reason", reason).Msg("pool limit changed")
	return c, nil
}

func (s *Service) statuses(ctx context.Context, only string) ([]Status, error) {
	var out []Status
	for _, name := range Pools {
		if only != "" && name != only {
			continue
		}
		p := s.pools[name]
		u := p.usage()
		st := Status{Pool: name, Limit: u.Limit, Min: s.cfg.Bounds[name].Min, Max: s.cfg.Bounds[name].Max, InUse: u.InUse,
			CostPerSlotHour: s.cfg.Costs[name], Fixed: p.fixed}
		if p.fixed != "" {
			st.Min, st.Max = u.Limit, u.Limit
		}
		if u.Limit > 0 {
			st.Utilization = float64(u.InUse) / float64(u.Limit)
		}
		st.CostPerHour = float64(u.Limit) * st.CostPerSlotHour
		depth, err := s.queueDepth(ctx, name, u)
		if err != nil {
			return nil, err
		}
		st.QueueDepth = depth
		if s.obs != nil {
			st.P95 = s.obs.p95(name)
		}
		out = append(out, st)
	}
	return out, nil
}

// queueDepth is the work waiting for a slot: queued jobs for the job pools, callers waiting
// for the analysis pool; the API pool sheds instead of queueing, and database/sql does not
// say how many wait for a connection.
func (s *Service) queueDepth(ctx context.Context, name string, u Usage) (*int, error) {
	var n int
	var err error
	switch name {
	case Workers:
		if s.queue == nil {
			return nil, nil
		}
		n, err = s.queue.QueueDepth(ctx)
	case MusicGeneration:
		if s.queue == nil {
			return nil, nil
		}
		n, err = s.queue.QueueDepth(ctx, jobs.TypeMusicGeneration)
	case AudioAnalysis:
		n = u.Waiting
	case API:
		n = 0
	default:
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("queue depth of %s: %w", name, err)
	}
	return &n, nil
}

func (s *Service) history(ctx context.Context, only string, limit int) ([]Change, error) {
	q, args := `SELECT pool, from_slots, to_slots, action, reason, actor, at FROM scaling_changes`, []any{}
	if only != "" {
		q += ` WHERE pool = $1`
		args = append(args, only)
	}
	q += ` ORDER BY at DESC, id DESC LIMIT ` + strconv.Itoa(limit)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Change
	for rows.Next() {
		var c Change
		var at int64
		if err := rows.Scan(&c.Pool, &c.From, &c.To, &c.Action, &c.Reason, &c.By, &at); err != nil {
			return nil, err
		}
		c.At = time.UnixMilli(at).UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}

// validPool reports whether name is a pool.
func validPool(name string) bool { return slices.Contains(Pools, name) }
