package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	echomw "github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"

	"github.com/aidawg/jarvis/gen/aidawg"
	"github.com/aidawg/jarvis/gen/jarvis"
	"github.com/aidawg/jarvis/handlers"
	"github.com/aidawg/jarvis/handlers/console"
	"github.com/aidawg/jarvis/handlers/mcpserver"
	"github.com/aidawg/jarvis/handlers/oauthpages"
	"github.com/aidawg/jarvis/middleware"
	"github.com/aidawg/jarvis/middleware/reqvalidate"
	"github.com/aidawg/jarvis/openapi"
	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/artifacts"
	"github.com/aidawg/jarvis/services/checks"
	"github.com/aidawg/jarvis/services/idempotency"
	"github.com/aidawg/jarvis/services/keys"
	"github.com/aidawg/jarvis/services/modules"
	"github.com/aidawg/jarvis/services/music"
	"github.com/aidawg/jarvis/services/ratelimit"
	"github.com/aidawg/jarvis/services/scaling"
	"github.com/aidawg/jarvis/services/ssrf"
	"github.com/aidawg/jarvis/services/telemetry"
	"github.com/aidawg/jarvis/services/tenantdata"
	"github.com/aidawg/jarvis/services/usage"
	"github.com/aidawg/jarvis/services/usercontext"
	"github.com/aidawg/jarvis/services/workflows"
)

// Version is the server's version, set at build time.
var Version = "1.0.0"

// App is an assembled Jarvis server.
type App struct {
	cfg    Config
	log    zerolog.Logger
	echo   *echo.Echo
	spec   *openapi.Spec
	ready  []readinessCheck
	closer []func() error
	// draining is set as soon as Serve's context ends: /ready answers 503 from then on, while
	// the listener still takes requests for JARVIS_DRAIN_DELAY, so that load balancers stop
	// sending before it closes.
	draining atomic.Bool
}

// readinessCheck is one dependency /ready reports. Only a required one's failure makes the
// server not ready; the others are reported so that an operator sees them, but taking the
// replica out of service would not help (every replica shares them, or calls still succeed).
type readinessCheck struct {
	name     string
	check    func(context.Context) error
	required bool
}

// New builds the application from cfg. Close releases what it opened.
func New(cfg Config, log zerolog.Logger) (*App, error) {
	spec, err := openapi.Load()
	if err != nil {
		return nil, err
	}
	validator, err := reqvalidate.New(spec)
	if err != nil {
		return nil, fmt.Errorf("compile the contract's request rules: %w", err)
	}
	servedYAML, servedJSON, err := openapi.Served(cfg.PublicURL)
	if err != nil {
		return nil, err
	}

	a := &App{cfg: cfg, log: log, spec: spec}
	ok := false
	defer func() {
		if !ok {
			a.Close()
		}
	}()
	if cfg.Tracing && !telemetry.Installed() {
		shutdown, err := telemetry.Setup(context.Background(), Version)
		if err != nil {
			return nil, err
		}
		// Last to close, so that the spans of the others' shutdown are sent.
		a.closer = append(a.closer, func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return shutdown(ctx)
		})
	}

	db, _, err := OpenDatabase(context.Background(), cfg)
	if err != nil {
		return nil, err
	}
	a.closer = append(a.closer, db.Close)
	a.ready = append(a.ready, readinessCheck{"database", db.PingContext, true})
	data := tenantdata.NewStore(db)
	if cfg.Env == "development" && cfg.DemoData == "auto" {
		tenant := services.DevelopmentPrincipal.Tenant
		loaded, err := data.EnsureDemo(context.Background(), tenant, tenantdata.DemoSeed, time.Now())
		if err != nil {
			return nil, fmt.Errorf("load the demo data into tenant %s: %w", tenant, err)
		}
		if loaded {
			log.Info().Str("tenant", tenant).Msg("loaded the demo artist; JARVIS_DEMO_DATA=off leaves it out")
		}
	}
	access, err := a.openAccess(db)
	if err != nil {
		return nil, err
	}
	if cfg.RedisURL != "" {
		// Under the deny policy every call is refused while Redis fails; under the others calls
		// are still served, so Redis is a condition of readiness only under deny.
		a.ready = append(a.ready, readinessCheck{"ratelimit", access.limiter.Ping, cfg.RateLimitOnStoreError == ratelimit.PolicyDeny})
	}

	allow, err := ssrf.ParsePrefixes(cfg.SSRFAllow)
	if err != nil {
		return nil, err
	}
	guard := ssrf.New(allow, 10*time.Second, 32<<20)
	// Recommendations name only operations this server carries out; the handlers know which,
	// and are built after the services they use.
	var server *handlers.Server
	available := func(op string) bool { return server != nil && server.Available(op) }
	recorder := usercontext.NewRecorder(usercontext.NewStore(db, cfg.SessionTTL), log, 4096)
	a.closer = append(a.closer, recorder.Close)
	contexts := usercontext.NewService(usercontext.NewStore(db, cfg.SessionTTL), recorder, available, cfg.ContextTTL)

	store, err := openArtifacts(cfg)
	if err != nil {
		return nil, err
	}
	pools, err := openScaling(cfg, db, log)
	if err != nil {
		return nil, err
	}
	a.closer = append(a.closer, pools.Close)
	outbox := &outboxOf{}
	router, err := newRouter(cfg, log, store, data, outbox, pools.Analyses())
	if err != nil {
		return nil, err
	}
	audio, err := audioSource(cfg, store)
	if err != nil {
		return nil, err
	}
	pipeline, starter := &lazyPipeline{}, &lateJobs{}
	flows := workflows.New(db, pipeline, time.Now)
	flowRuns := workflows.NewRunner(flows.Store(), pipeline, keys.NewStore(db))
	schedules := workflows.NewScheduler(flows.Store(), starter, time.Now, log)
	maintenance := []func(context.Context) error{contexts.DeleteIdle}
	if access.oauth != nil {
		maintenance = append(maintenance, access.oauth.Store().Purge)
	}
	engine, err := newJobEngine(cfg, db, store, router, guard, maintenance, pools, log,
		flowRuns.JobRunner(), schedules.Task())
	if err != nil {
		return nil, err
	}
	starter.engine = engine
	outbox.engine = engine
	jobsCtx, stopJobs := context.WithCancel(context.Background())
	if err := engine.Start(jobsCtx); err != nil {
		stopJobs()
		return nil, fmt.Errorf("start job queue: %w", err)
	}
	a.ready = append(a.ready, readinessCheck{"jobs", engine.Ready, true})
	if remote := router.Remote(); remote != nil {
		// The remote's outage is every replica's: reported, not a reason to stop sending here,
		// where the embedded modules may stand in.
		a.ready = append(a.ready, readinessCheck{"aidawg", func(ctx context.Context) error {
			status, err := remote.Health(ctx)
			if err == nil && status != aidawg.DesktopHealthStatusHealthy {
				err = fmt.Errorf("AI Dawg reports itself %s", status)
			}
			return err
		}, false})
	}
	a.closer = append(a.closer, func() error {
		defer stopJobs()
		ctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
		defer cancel()
		return engine.Stop(ctx)
	})

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(collectors.MetricsScheduler)), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := middleware.NewMetrics(reg)
	for _, instrument := range []func(prometheus.Registerer) error{router.Instrument, engine.Instrument, access.limiter.Instrument} {
		if err := instrument(reg); err != nil {
			return nil, err
		}
	}
	reg.MustRegister(pools.Collector())
	pools.Start(engine, reg)

	registry := checks.ForJarvis(checks.Parts{
		Router: router, DB: db, Jobs: engine.Store(), Requests: metrics, Spec: spec,
		Settings: cfg.checkedSettings(),
		Available: func(op string) (bool, string) {
			if server == nil {
				return false, "the server is not assembled yet"
			}
			return server.Availability(op)
		},
	}, probeTimeout)

	deps := handlers.Deps{Jobs: engine, Links: store.links, Contexts: contexts, Router: router, Checks: registry, Requests: validator, Audio: audio,
		Data: data, Workflows: flows, Scaling: pools}
	if access.oauth != nil {
		deps.Grants = access.oauth
	}
	server = handlers.NewServer(spec, handlers.Options{
		Version:     Version,
		PublicURL:   cfg.PublicURL,
		AuthMethods: access.auth.Methods(),
		Limits:      access.limiter,
		Usage:       access.usage,

		ImportMaxBytes: cfg.ImportMaxBytes,
	}, deps)

	recent := usage.NewRecent()
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = middleware.ErrorHandler(log)
	e.IPExtractor = clientAddress(cfg.TrustedProxies)
	// A request for the base path itself is the integration info at base path + "/".
	e.Pre(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if c.Request().URL.Path == openapi.BasePath {
				c.Request().URL.Path = openapi.BasePath + "/"
			}
			return next(c)
		}
	})
	e.Use(
		echomw.RecoverWithConfig(echomw.RecoverConfig{DisableErrorHandler: true, LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			log.Error().Err(err).Bytes("stack", stack).Msg("panic")
			return err
		}}),
		middleware.RequestID(),
		middleware.Trace(spec, cfg.Tracing || telemetry.Installed()),
		middleware.Observe(log, metrics, spec),
		middleware.Recent(spec, recent),
		middleware.SecurityHeaders(strings.HasPrefix(cfg.PublicURL, "https://")),
		middleware.CORS(cfg.CORSOrigins),
		// importData streams its file under a limit of its own.
		echomw.BodyLimitWithConfig(echomw.BodyLimitConfig{Limit: cfg.BodyLimit, Skipper: func(c echo.Context) bool {
			return c.Request().Method == http.MethodPost && strings.HasPrefix(c.Request().URL.Path, openapi.BasePath+"/admin/data/")
		}}),
	)

	e.GET("/health", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
	})
	e.GET("/ready", a.readiness)
	e.GET(artifacts.Path+":id", handlers.DownloadArtifact(store.links, engine.Store(), store.files))
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})))
	serveDoc := func(body []byte, contentType string) echo.HandlerFunc {
		return func(c echo.Context) error { return c.Blob(http.StatusOK, contentType, body) }
	}
	for _, prefix := range []string{"", openapi.BasePath} {
		e.GET(prefix+"/openapi.yaml", serveDoc(servedYAML, "application/yaml"))
		e.GET(prefix+"/openapi.json", serveDoc(servedJSON, echo.MIMEApplicationJSON))
	}

	e.GET(resourceMetadataPath, serveDoc(access.metadata, echo.MIMEApplicationJSON))
	e.GET(resourceMetadataPath+MCPPath, serveDoc(access.mcpMetadata, echo.MIMEApplicationJSON))
	if access.oauth != nil {
		oauthpages.New(access.oauth, oauthpages.Options{Limiter: access.limiter, RegistrationLimit: cfg.OAuthServer.RegistrationLimit, Log: log}).Register(e)
	}
	gptConfig, err := json.MarshalIndent(handlers.NewGPTConfig(spec, cfg.GPTSetup(server.Available)), "", "  ")
	if err != nil {
		return nil, err
	}
	e.GET("/gpt-config.json", serveDoc(gptConfig, echo.MIMEApplicationJSON))
	if err := a.mountPages(e, console.Deps{Keys: keys.NewStore(db), Usage: access.usage, Recent: recent, Jobs: engine,
		Data: data, Router: router, Limiter: access.limiter, Revoked: access.auth.Forget, Log: log}); err != nil {
		return nil, err
	}

	api := layeredRouter{group: e.Group(openapi.BasePath), layers: []echo.MiddlewareFunc{
		// Shedding load first spends nothing on the requests shed.
		middleware.InFlight(spec, pools.Limiter(scaling.API)),
		middleware.NoStore(),
		// Before any layer that reads the headers it checks.
		middleware.HeaderText(),
		middleware.Traced("auth", middleware.Authenticate(middleware.AuthConfig{Auth: access.auth, Limiter: access.limiter,
			ResourceMetadataURL: access.metadataURL, Resource: cfg.PublicURL, Log: log})),
		middleware.Meter(spec, access.usage),
		// Counting before the scope check puts the limit headers on 403 answers too, and
		// limits callers that keep calling what they may not.
		middleware.Traced("ratelimit", middleware.RateLimit(spec, access.limiter)),
		middleware.Authorize(spec),
		middleware.Remember(spec, contexts, log),
		middleware.Idempotency(spec, idempotency.NewStore(db, 24*time.Hour, cfg.WriteTimeout+10*time.Second)),
		middleware.Traced("validation", middleware.Validate(validator, middleware.InvalidBudget(spec, access.limiter))),
	}}
	jarvis.RegisterHandlers(api, server.Handler())
	api.answerUnmatched()

	// The MCP door: tool calls go back through e, so that they pass the same layers as HTTP
	// calls. Its 401s always name its resource metadata (RFC 9728: the well-known path with the
	// endpoint's path after it), which MCP clients look for.
	tools, err := mcpserver.New(spec, e, Version)
	if err != nil {
		return nil, err
	}
	pipeline.p = tools.Pipeline(validator)
	mcpHandler := echo.WrapHandler(tools.Handler(ListenerIsLoopback(publicHostPort(cfg.PublicURL))))
	mcpAuth := middleware.Authenticate(middleware.AuthConfig{Auth: access.auth, Limiter: access.limiter,
		ResourceMetadataURL: cfg.PublicURL + resourceMetadataPath + MCPPath, Resource: cfg.PublicURL + MCPPath, Log: log})
	e.Any(MCPPath, mcpHandler, middleware.NoStore(), mcpAuth)

	a.echo = e
	ok = true
	return a, nil
}

// probeTimeout bounds each health probe of runHealthChecks.
const probeTimeout = 2 * time.Second

// newRouter assembles the AI Dawg modules: the embedded ones, and the remote backend when
// JARVIS_AIDAWG_URL names one.
func newRouter(cfg Config, log zerolog.Logger, store *artifactStore, data *tenantdata.Store, outbox *outboxOf, analyses music.Gate) (*modules.Router, error) {
	embedded, err := embeddedModules(cfg, log, store, data, outbox, analyses)
	if err != nil {
		return nil, err
	}
	var remote *modules.Remote
	if cfg.AidawgURL != "" {
		if remote, err = modules.NewRemote(embedded.Contract(), cfg.remoteOptions(log)); err != nil {
			return nil, err
		}
	}
	return modules.NewRouter(embedded, remote, cfg.AidawgFallback == "embedded", log), nil
}

// MCPPath is where the MCP door is served.
const MCPPath = "/mcp"

// publicHostPort is the host and port of the public URL, for telling whether callers reach
// Jarvis directly on loopback or through a proxy under another name.
func publicHostPort(publicURL string) string {
	u, err := url.Parse(publicURL)
	if err != nil {
		return ""
	}
	if u.Port() == "" {
		return net.JoinHostPort(u.Hostname(), "443")
	}
	return u.Host
}

// Handler is the whole HTTP surface.
func (a *App) Handler() http.Handler { return a.echo }

// Serve answers on ln until ctx is done, then stops taking new requests and waits up to the
// shutdown timeout for the ones in flight.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	return serveUntil(ctx, ln, a.echo, a.cfg, func() { a.draining.Store(true) })
}

// serveUntil serves handler on ln with the configured timeouts until ctx is done; then it calls
// draining, goes on serving for the drain delay, and drains the requests in flight for up to the
// shutdown timeout.
func serveUntil(ctx context.Context, ln net.Listener, handler http.Handler, cfg Config, draining func()) error {
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
	}
	tlsConfig, err := cfg.tlsConfig()
	if err != nil {
		return err
	}
	errc := make(chan error, 1)
	if tlsConfig != nil {
		srv.TLSConfig = tlsConfig
		go func() { errc <- srv.ServeTLS(ln, "", "") }()
	} else {
		go func() { errc <- srv.Serve(ln) }()
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	draining()
	if cfg.DrainDelay > 0 {
		t := time.NewTimer(cfg.DrainDelay)
		select {
		case err := <-errc:
			t.Stop()
			return err
		case <-t.C:
		}
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("drain in-flight requests: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Close releases the application's resources.
func (a *App) Close() error {
	var errs []error
	for i := len(a.closer) - 1; i >= 0; i-- {
		errs = append(errs, a.closer[i]())
	}
	return errors.Join(errs...)
}

// readiness answers /ready: each dependency's state, and 503 when a required one fails or the
// server is draining.
func (a *App) readiness(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	checks := make(map[string]string, len(a.ready))
	optional := []string{}
	ready := true
	for _, rc := range a.ready {
		if !rc.required {
			optional = append(optional, rc.name)
		}
		if err := rc.check(ctx); err != nil {
			ready = ready && !rc.required
			checks[rc.name] = err.Error()
			continue
		}
		checks[rc.name] = "ok"
	}
	status, word := http.StatusOK, "ready"
	switch {
	case a.draining.Load():
		status, word = http.StatusServiceUnavailable, "draining"
	case !ready:
		status, word = http.StatusServiceUnavailable, "not ready"
	}
	body, _ := json.Marshal(map[string]any{"status": word, "checks": checks, "optional": optional})
	return c.Blob(status, echo.MIMEApplicationJSON, body)
}
