// Package app assembles Jarvis from its configuration: stores, services, handlers and the
// HTTP server.
package app

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/gommon/bytes"
)

// Config is every setting, read once at start.
type Config struct {
	Env               string // development or production
	Addr              string
	PublicURL         string // without the base path
	LogLevel          string
	BodyLimit         string // such as 1M
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	ShutdownTimeout   time.Duration
}

// Setting documents one environment variable; the README's table is made from the same facts.
type Setting struct {
	Name    string
	Default string
	Help    string
}

// Settings lists the environment variables LoadConfig reads.
var Settings = []Setting{
	{"JARVIS_ENV", "production", "development or production. development allows the loopback-only conveniences."},
	{"JARVIS_ADDR", "127.0.0.1:4000", "Address the server listens on."},
	{"JARVIS_PUBLIC_URL", "", "URL callers reach Jarvis at, without the base path; the served schema's servers entry. Defaults to http:// plus JARVIS_ADDR."},
	{"JARVIS_LOG_LEVEL", "info", "debug, info, warn or error."},
	{"JARVIS_BODY_LIMIT", "1M", "Largest request body accepted, such as 512K or 2M."},
	{"JARVIS_READ_HEADER_TIMEOUT", "5s", "Time allowed to read request headers."},
	{"JARVIS_READ_TIMEOUT", "15s", "Time allowed to read a whole request."},
	{"JARVIS_WRITE_TIMEOUT", "60s", "Time allowed to write a response; above the longest inline wait."},
	{"JARVIS_IDLE_TIMEOUT", "120s", "How long an idle keep-alive connection stays open."},
	{"JARVIS_SHUTDOWN_TIMEOUT", "30s", "How long SIGINT or SIGTERM waits for in-flight requests."},
}

func defaultOf(name string) string {
	for _, s := range Settings {
		if s.Name == name {
			return s.Default
		}
	}
	return ""
}

// LoadConfig reads the settings through lookup (os.LookupEnv in the binary) and validates
// them, reporting every invalid value at once.
func LoadConfig(lookup func(string) (string, bool)) (Config, error) {
	get := func(name string) string {
		if v, ok := lookup(name); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
		return defaultOf(name)
	}
	var errs []error
	dur := func(name string) time.Duration {
		raw := get(name)
		d, err := time.ParseDuration(raw)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("%s=%q: want a positive duration such as 30s", name, raw))
		}
		return d
	}

	cfg := Config{
		Env:               get("JARVIS_ENV"),
		Addr:              get("JARVIS_ADDR"),
		LogLevel:          get("JARVIS_LOG_LEVEL"),
		BodyLimit:         get("JARVIS_BODY_LIMIT"),
		ReadHeaderTimeout: dur("JARVIS_READ_HEADER_TIMEOUT"),
		ReadTimeout:       dur("JARVIS_READ_TIMEOUT"),
		WriteTimeout:      dur("JARVIS_WRITE_TIMEOUT"),
		IdleTimeout:       dur("JARVIS_IDLE_TIMEOUT"),
		ShutdownTimeout:   dur("JARVIS_SHUTDOWN_TIMEOUT"),
	}
	cfg.PublicURL = strings.TrimRight(get("JARVIS_PUBLIC_URL"), "/")
	if cfg.PublicURL == "" {
		cfg.PublicURL = "http://" + cfg.Addr
	}

	if err := cfg.validate(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return Config{}, fmt.Errorf("invalid configuration:\n%w", errors.Join(errs...))
	}
	return cfg, nil
}

func (c Config) validate() error {
	var errs []error
	switch c.Env {
	case "development", "production":
	default:
		errs = append(errs, fmt.Errorf("JARVIS_ENV=%q: want development or production", c.Env))
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("JARVIS_ADDR=%q: want host:port, such as 127.0.0.1:4000", c.Addr))
	}
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
		errs = append(errs, fmt.Errorf("JARVIS_PUBLIC_URL=%q: want an http or https URL with no path, such as https://jarvis.example.com", c.PublicURL))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("JARVIS_LOG_LEVEL=%q: want debug, info, warn or error", c.LogLevel))
	}
	if n, err := bytes.Parse(c.BodyLimit); err != nil || n <= 0 {
		errs = append(errs, fmt.Errorf("JARVIS_BODY_LIMIT=%q: want a size such as 1M or 512K", c.BodyLimit))
	}
	if c.WriteTimeout > 0 && c.WriteTimeout < 30*time.Second {
		errs = append(errs, fmt.Errorf("JARVIS_WRITE_TIMEOUT=%s: want at least 30s, so that long actions can answer inline", c.WriteTimeout))
	}
	return errors.Join(errs...)
}

// ListenerIsLoopback reports whether addr only accepts connections from this machine.
func ListenerIsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
