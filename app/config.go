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

	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/ratelimit"
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

	DataDir     string
	DatabaseURL string

	AuthToken       string // bootstrap token; secret
	ChatGPTAppKey   string // X-ChatGPT-App-Key; secret
	KeyCacheTTL     time.Duration
	OAuthIssuer     string
	OAuthAudience   string
	OAuthJWKSURL    string
	OAuthAlgorithms []string

	RedisURL              string
	RedisPrefix           string
	RateLimits            map[string]services.Rate // every class, defaults with overrides applied
	RateLimitOnStoreError ratelimit.Policy
	AuthFailureLimit      services.Rate
	DailyQuota            int64

	CORSOrigins    []string
	TrustedProxies []*net.IPNet
}

// DevelopmentBypass reports whether requests without credentials are the development user:
// only in development, and only on a loopback listener.
func (c Config) DevelopmentBypass() bool {
	return c.Env == "development" && ListenerIsLoopback(c.Addr)
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
	{"JARVIS_DATA_DIR", "data", "Directory for the SQLite database and other files."},
	{"JARVIS_DATABASE_URL", "", "postgres:// URL, or sqlite: path; SQLite at JARVIS_DATA_DIR/jarvis.db by default."},
	{"JARVIS_AUTH_TOKEN", "", "Bootstrap token with every scope, as a bearer token or X-API-Key; at least 32 characters in production. Unset: off."},
	{"JARVIS_CHATGPT_APP_KEY", "", "Secret a GPT sends in X-ChatGPT-App-Key; at least 32 characters in production. Unset: off."},
	{"JARVIS_KEY_CACHE_TTL", "30s", "How long an API key read from the database is used before it is read again; a revocation takes this long to apply everywhere. 0 reads it on every call."},
	{"JARVIS_OAUTH_ISSUER", "", "OAuth 2.0 authorization server whose JWT access tokens are accepted (the tokens' iss). Unset: OAuth off."},
	{"JARVIS_OAUTH_AUDIENCE", "", "Audience the access tokens must name (aud); required with JARVIS_OAUTH_ISSUER."},
	{"JARVIS_OAUTH_JWKS_URL", "", "The issuer's JWKS; discovered from its metadata when unset."},
	{"JARVIS_OAUTH_ALGORITHMS", "RS256,ES256", "Signature algorithms accepted in access tokens, asymmetric only."},
	{"JARVIS_REDIS_URL", "", "redis:// URL of the store that replicas share rate limits in; in-memory limits when unset."},
	{"JARVIS_REDIS_PREFIX", "jarvis", "Prefix of Jarvis's keys in Redis."},
	{"JARVIS_RATE_LIMITS", "", "Overrides of the hourly limits per class, such as music.generate=20,jobs.read=2000/1h; * sets every class."},
	{"JARVIS_RATELIMIT_ON_STORE_ERROR", "memory", "When Redis fails: memory (count per replica), allow (let calls through) or deny (answer 503)."},
	{"JARVIS_AUTH_FAILURE_LIMIT", "30/10m", "Failed authentications allowed per client address and window, before it is refused with 429."},
	{"JARVIS_DAILY_QUOTA", "0", "Long actions per caller and UTC day, unless its API key sets its own; 0 for no quota."},
	{"JARVIS_CORS_ORIGINS", "https://chatgpt.com,https://chat.openai.com", "Origins browsers may call the API from, comma-separated; * for any."},
	{"JARVIS_TRUSTED_PROXIES", "", "CIDRs of reverse proxies whose X-Forwarded-For names the client address; unset: the connection's address."},
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
	errs = append(errs, cfg.loadAccess(get)...)

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
