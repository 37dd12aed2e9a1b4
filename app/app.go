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
	"time"

	"github.com/labstack/echo/v4"
	echomw "github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"

	"github.com/aidawg/jarvis/gen/jarvis"
	"github.com/aidawg/jarvis/handlers"
	"github.com/aidawg/jarvis/handlers/mcpserver"
	"github.com/aidawg/jarvis/middleware"
	"github.com/aidawg/jarvis/middleware/reqvalidate"
	"github.com/aidawg/jarvis/openapi"
	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/artifacts"
	"github.com/aidawg/jarvis/services/checks"
	"github.com/aidawg/jarvis/services/idempotency"
	"github.com/aidawg/jarvis/services/modules"
	"github.com/aidawg/jarvis/services/music"
	"github.com/aidawg/jarvis/services/ratelimit"
	"github.com/aidawg/jarvis/services/scaling"
	"github.com/aidawg/jarvis/services/ssrf"
	"github.com/aidawg/jarvis/services/tenantdata"
	"github.com/aidawg/jarvis/services/usercontext"
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
}

type readinessCheck struct {
	name  string
	check func(context.Context) error
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

	db, _, err := OpenDatabase(context.Background(), cfg)
	if err != nil {
		return nil, err
	}
	a.closer = append(a.closer, db.Close)
	a.ready = append(a.ready, readinessCheck{"database", db.PingContext})
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
	if cfg.RedisURL != "" && cfg.RateLimitOnStoreError == ratelimit.PolicyDeny {
		// Under the deny policy every call is refused while Redis fails; under the others calls
		// are still served, so Redis is not a condition of readiness.
		a.ready = append(a.ready, readinessCheck{"ratelimit", access.limiter.Ping})
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
	router, err := newRouter(cfg, log, store, data, pools.Analyses())
	if err != nil {
		return nil, err
	}
	audio, err := audioSource(cfg, store)
	if err != nil {
		return nil, err
	}
	engine, err := newJobEngine(cfg, db, store, router, guard, []func(context.Context) error{contexts.DeleteIdle}, pools, log)
	if err != nil {
		return nil, err
	}
	jobsCtx, stopJobs := context.WithCancel(context.Background())
	if err := engine.Start(jobsCtx); err != nil {
		stopJobs()
		return nil, fmt.Errorf("start job queue: %w", err)
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

	server = handlers.NewServer(spec, handlers.Options{
		Version:     Version,
		PublicURL:   cfg.PublicURL,
		AuthMethods: access.auth.Methods(),
		Limits:      access.limiter,
		Usage:       access.usage,
	}, handlers.Deps{Jobs: engine, Links: store.links, Contexts: contexts, Router: router, Checks: registry, Requests: validator, Audio: audio,
		Scaling: pools})

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
		middleware.Observe(log, metrics, spec),
		middleware.SecurityHeaders(strings.HasPrefix(cfg.PublicURL, "https://")),
		middleware.CORS(cfg.CORSOrigins),
		echomw.BodyLimit(cfg.BodyLimit),
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
	gptConfig, err := json.MarshalIndent(handlers.NewGPTConfig(spec, cfg.GPTSetup(server.Available)), "", "  ")
	if err != nil {
		return nil, err
	}
	e.GET("/gpt-config.json", serveDoc(gptConfig, echo.MIMEApplicationJSON))

	api := layeredRouter{group: e.Group(openapi.BasePath), layers: []echo.MiddlewareFunc{
		// Shedding load first spends nothing on the requests shed.
		middleware.InFlight(spec, pools.Limiter(scaling.API)),
		middleware.NoStore(),
		// Before any layer that reads the headers it checks.
		middleware.HeaderText(),
		middleware.Authenticate(middleware.AuthConfig{Auth: access.auth, Limiter: access.limiter,
			ResourceMetadataURL: access.metadataURL, Log: log}),
		middleware.Meter(spec, access.usage),
		// Counting before the scope check puts the limit headers on 403 answers too, and
		// limits callers that keep calling what they may not.
		middleware.RateLimit(spec, access.limiter),
		middleware.Authorize(spec),
		middleware.Remember(spec, contexts, log),
		middleware.Idempotency(spec, idempotency.NewStore(db, 24*time.Hour, cfg.WriteTimeout+10*time.Second)),
		middleware.Validate(validator, middleware.InvalidBudget(spec, access.limiter)),
	}}
	jarvis.RegisterHandlers(api, server.Handler())
	api.answerUnmatched()

	// The MCP door: tool calls go back through e, so that they pass the same layers as HTTP
	// calls. Its 401s always name the resource metadata, which MCP clients look for.
	tools, err := mcpserver.New(spec, e, Version)
	if err != nil {
		return nil, err
	}
	mcpHandler := echo.WrapHandler(tools.Handler(ListenerIsLoopback(publicHostPort(cfg.PublicURL))))
	mcpAuth := middleware.Authenticate(middleware.AuthConfig{Auth: access.auth, Limiter: access.limiter,
		ResourceMetadataURL: cfg.PublicURL + resourceMetadataPath, Log: log})
	e.Any(MCPPath, mcpHandler, middleware.NoStore(), mcpAuth)

	a.echo = e
	ok = true
	return a, nil
}

// probeTimeout bounds each health probe of runHealthChecks.
const probeTimeout = 2 * time.Second

// newRouter assembles the AI Dawg modules: the embedded ones, and the remote backend when
// JARVIS_AIDAWG_URL names one.
func newRouter(cfg Config, log zerolog.Logger, store *artifactStore, data *tenantdata.Store, analyses music.Gate) (*modules.Router, error) {
	embedded, err := embeddedModules(cfg, log, store, data, analyses)
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
	return serveUntil(ctx, ln, a.echo, a.cfg)
}

// serveUntil serves handler on ln with the configured timeouts until ctx is done, then drains
// the requests in flight for up to the shutdown timeout.
func serveUntil(ctx context.Context, ln net.Listener, handler http.Handler, cfg Config) error {
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
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

func (a *App) readiness(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	checks := map[string]string{}
	ready := true
	for _, rc := range a.ready {
		if err := rc.check(ctx); err != nil {
			ready = false
			checks[rc.name] = err.Error()
			continue
		}
		checks[rc.name] = "ok"
	}
	status, word := http.StatusOK, "ready"
	if !ready {
		status, word = http.StatusServiceUnavailable, "not ready"
	}
	body, _ := json.Marshal(map[string]any{"status": word, "checks": checks})
	return c.Blob(status, echo.MIMEApplicationJSON, body)
}
