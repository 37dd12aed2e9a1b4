package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	echomw "github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"

	"github.com/aidawg/jarvis/apispec"
	"github.com/aidawg/jarvis/gen/jarvis"
	"github.com/aidawg/jarvis/handlers"
	"github.com/aidawg/jarvis/middleware"
	"github.com/aidawg/jarvis/reqvalidate"
)

// Version is the server's version, set at build time.
var Version = "1.0.0"

// App is an assembled Jarvis server.
type App struct {
	cfg    Config
	log    zerolog.Logger
	echo   *echo.Echo
	spec   *apispec.Spec
	ready  []readinessCheck
	closer []func() error
}

type readinessCheck struct {
	name  string
	check func(context.Context) error
}

// New builds the application from cfg. Close releases what it opened.
func New(cfg Config, log zerolog.Logger) (*App, error) {
	spec, err := apispec.Load()
	if err != nil {
		return nil, err
	}
	validator, err := reqvalidate.New(spec)
	if err != nil {
		return nil, fmt.Errorf("compile the contract's request rules: %w", err)
	}
	servedYAML, servedJSON, err := apispec.Served(cfg.PublicURL)
	if err != nil {
		return nil, err
	}

	a := &App{cfg: cfg, log: log, spec: spec}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := middleware.NewMetrics(reg)

	server := handlers.NewServer(spec, handlers.Options{
		Version:     Version,
		PublicURL:   cfg.PublicURL,
		AuthMethods: []string{},
	})

	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = middleware.ErrorHandler(log)
	// A request for the base path itself is the integration info at base path + "/".
	e.Pre(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if c.Request().URL.Path == apispec.BasePath {
				c.Request().URL.Path = apispec.BasePath + "/"
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
		echomw.BodyLimit(cfg.BodyLimit),
	)

	e.GET("/health", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
	})
	e.GET("/ready", a.readiness)
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})))
	serveDoc := func(body []byte, contentType string) echo.HandlerFunc {
		return func(c echo.Context) error { return c.Blob(http.StatusOK, contentType, body) }
	}
	for _, prefix := range []string{"", apispec.BasePath} {
		e.GET(prefix+"/openapi.yaml", serveDoc(servedYAML, "application/yaml"))
		e.GET(prefix+"/openapi.json", serveDoc(servedJSON, echo.MIMEApplicationJSON))
	}

	api := e.Group(apispec.BasePath, middleware.Validate(validator))
	jarvis.RegisterHandlers(api, jarvis.NewStrictHandler(server, nil))

	a.echo = e
	return a, nil
}

// Handler is the whole HTTP surface.
func (a *App) Handler() http.Handler { return a.echo }

// Serve answers on ln until ctx is done, then stops taking new requests and waits up to the
// shutdown timeout for the ones in flight.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           a.echo,
		ReadHeaderTimeout: a.cfg.ReadHeaderTimeout,
		ReadTimeout:       a.cfg.ReadTimeout,
		WriteTimeout:      a.cfg.WriteTimeout,
		IdleTimeout:       a.cfg.IdleTimeout,
		ErrorLog:          nil,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
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
