// Package app assembles Jarvis from its configuration: stores, services, handlers and the
// HTTP server.
package app

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/gommon/bytes"
	"github.com/rs/zerolog"

	"github.com/aidawg/jarvis/services/modules"
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

	AidawgURL             string // empty: the embedded modules serve everything
	AidawgFallback        string // embedded or none
	AidawgTimeout         time.Duration
	AidawgBudget          time.Duration
	AidawgAttempts        int
	AidawgBackoff         time.Duration
	AidawgBackoffMax      time.Duration
	AidawgMaxResponse     int64
	AidawgBreakerFailures int
	AidawgBreakerCooldown time.Duration
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
	{"JARVIS_AIDAWG_URL", "", "Remote AI Dawg backend, such as https://aidawg.example.com. Unset: the embedded modules carry every command out."},
	{"JARVIS_AIDAWG_FALLBACK", "embedded", "embedded: while the remote fails or its circuit is open, the embedded modules serve the commands they carry out. none: they do not."},
	{"JARVIS_AIDAWG_TIMEOUT", "10s", "Deadline of each attempt of a call to the remote AI Dawg."},
	{"JARVIS_AIDAWG_BUDGET", "30s", "Deadline of a whole call to the remote AI Dawg, retries and waits included; keep it under ChatGPT's 45s."},
	{"JARVIS_AIDAWG_ATTEMPTS", "3", "Attempts per call to the remote AI Dawg, 1 to 10."},
	{"JARVIS_AIDAWG_BACKOFF", "200ms", "Longest wait before the first retry; each later retry may wait twice as long (full jitter)."},
	{"JARVIS_AIDAWG_BACKOFF_MAX", "2s", "Cap of the wait between retries (a longer Retry-After is still honoured within the budget)."},
	{"JARVIS_AIDAWG_MAX_RESPONSE", "4M", "Largest answer accepted from the remote AI Dawg; a larger one is a bad gateway."},
	{"JARVIS_AIDAWG_BREAKER_FAILURES", "5", "Consecutive failures of a module that open its circuit."},
	{"JARVIS_AIDAWG_BREAKER_COOLDOWN", "30s", "How long an open circuit fails fast before one call probes the module again."},
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
	count := func(name string, lo, hi int) int {
		raw := get(name)
		n, err := strconv.Atoi(raw)
		if err != nil || n < lo || n > hi {
			errs = append(errs, fmt.Errorf("%s=%q: want a whole number from %d to %d", name, raw, lo, hi))
		}
		return n
	}
	size := func(name string) int64 {
		raw := get(name)
		n, err := bytes.Parse(raw)
		if err != nil || n <= 0 {
			errs = append(errs, fmt.Errorf("%s=%q: want a size such as 4M or 512K", name, raw))
		}
		return n
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

		AidawgURL:             strings.TrimRight(get("JARVIS_AIDAWG_URL"), "/"),
		AidawgFallback:        get("JARVIS_AIDAWG_FALLBACK"),
		AidawgTimeout:         dur("JARVIS_AIDAWG_TIMEOUT"),
		AidawgBudget:          dur("JARVIS_AIDAWG_BUDGET"),
		AidawgAttempts:        count("JARVIS_AIDAWG_ATTEMPTS", 1, 10),
		AidawgBackoff:         dur("JARVIS_AIDAWG_BACKOFF"),
		AidawgBackoffMax:      dur("JARVIS_AIDAWG_BACKOFF_MAX"),
		AidawgMaxResponse:     size("JARVIS_AIDAWG_MAX_RESPONSE"),
		AidawgBreakerFailures: count("JARVIS_AIDAWG_BREAKER_FAILURES", 1, 1000),
		AidawgBreakerCooldown: dur("JARVIS_AIDAWG_BREAKER_COOLDOWN"),
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
	if c.AidawgURL != "" {
		if u, err := url.Parse(c.AidawgURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
			errs = append(errs, fmt.Errorf("JARVIS_AIDAWG_URL=%q: want an http or https URL, such as https://aidawg.example.com", c.AidawgURL))
		}
	}
	switch c.AidawgFallback {
	case "embedded", "none":
	default:
		errs = append(errs, fmt.Errorf("JARVIS_AIDAWG_FALLBACK=%q: want embedded or none", c.AidawgFallback))
	}
	if c.AidawgTimeout > 0 && c.AidawgBudget > 0 && c.AidawgTimeout > c.AidawgBudget {
		errs = append(errs, fmt.Errorf("JARVIS_AIDAWG_TIMEOUT=%s is longer than JARVIS_AIDAWG_BUDGET=%s: an attempt cannot outlast the call", c.AidawgTimeout, c.AidawgBudget))
	}
	if c.AidawgBudget > 0 && c.WriteTimeout > 0 && c.AidawgBudget >= c.WriteTimeout {
		errs = append(errs, fmt.Errorf("JARVIS_AIDAWG_BUDGET=%s is not shorter than JARVIS_WRITE_TIMEOUT=%s: the answer of a slow call would be cut off", c.AidawgBudget, c.WriteTimeout))
	}
	if c.AidawgBackoff > 0 && c.AidawgBackoffMax > 0 && c.AidawgBackoff > c.AidawgBackoffMax {
		errs = append(errs, fmt.Errorf("JARVIS_AIDAWG_BACKOFF=%s is longer than JARVIS_AIDAWG_BACKOFF_MAX=%s", c.AidawgBackoff, c.AidawgBackoffMax))
	}
	return errors.Join(errs...)
}

// remoteOptions are the settings of the remote AI Dawg client.
func (c Config) remoteOptions(log zerolog.Logger) modules.RemoteOptions {
	return modules.RemoteOptions{
		URL:              c.AidawgURL,
		AttemptTimeout:   c.AidawgTimeout,
		Budget:           c.AidawgBudget,
		MaxAttempts:      c.AidawgAttempts,
		BackoffBase:      c.AidawgBackoff,
		BackoffMax:       c.AidawgBackoffMax,
		MaxResponseBytes: c.AidawgMaxResponse,
		BreakerFailures:  c.AidawgBreakerFailures,
		BreakerCooldown:  c.AidawgBreakerCooldown,
		Log:              log,
	}
}
