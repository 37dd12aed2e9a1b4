package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"time"

	"github.com/aidawg/jarvis/app"
)

// serveInProcess serves the application inside this process, as jarvis serve does but with each
// request's goroutine labelled side=server, so that a profile tells its samples from the load
// generator's.
func serveInProcess(addr, dir string) (stop func(), err error) {
	defaults := chainSettings(dir)
	cfg, err := app.LoadConfig(func(k string) (string, bool) {
		switch k {
		case "JARVIS_ADDR":
			return addr, true
		case "JARVIS_PUBLIC_URL":
			return "http://" + addr, true
		}
		if v, ok := os.LookupEnv(k); ok {
			return v, true
		}
		v, ok := defaults[k]
		return v, ok
	})
	if err != nil {
		return nil, err
	}
	// The access log goes where the real server's would, batched as the server batches it.
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return nil, err
	}
	log, logs := app.NewLogger(cfg, devNull)
	closeLogs := func() {
		_ = logs.Close()
		_ = devNull.Close()
	}
	a, err := app.New(cfg, log)
	if err != nil {
		closeLogs()
		return nil, err
	}
	h := a.Handler()
	labels := pprof.Labels("side", "server")
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			pprof.Do(r.Context(), labels, func(ctx context.Context) { h.ServeHTTP(w, r) })
		}),
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		a.Close()
		closeLogs()
		return nil, err
	}
	go func() { _ = srv.Serve(ln) }()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		_ = a.Close()
		closeLogs()
	}, nil
}

func startProfile(path string) (stop func() error, err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("start CPU profile: %w", err)
	}
	return func() error {
		pprof.StopCPUProfile()
		return f.Close()
	}, nil
}
