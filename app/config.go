// Package app assembles Jarvis from its configuration: stores, services, handlers and the
// HTTP server.
package app

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/gommon/bytes"
	"github.com/rs/zerolog"

	"github.com/aidawg/jarvis/handlers"
	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/checks"
	"github.com/aidawg/jarvis/services/modules"
	"github.com/aidawg/jarvis/services/ratelimit"
	"github.com/aidawg/jarvis/services/scaling"
	"github.com/aidawg/jarvis/services/ssrf"
	"github.com/aidawg/jarvis/services/webhook"
)

// Config is every setting, read once at start.
type Config struct {
	Env               string // development or production
	Addr              string
	PublicURL         string // without the base path
	LogLevel          string
	LogFlushInterval  time.Duration
	BodyLimit         string // such as 1M
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	ShutdownTimeout   time.Duration
	TLSCert           string        // PEM certificate chain file; with TLSKey, HTTPS from files
	TLSKey            string        // PEM private key file
	TLSDomains        []string      // host names HTTPS certificates are obtained for by ACME
	DrainDelay        time.Duration // how long /ready answers 503 before the listener closes

	DatabaseURL           string // postgres:// for PostgreSQL; empty for SQLite under DataDir
	DataDir               string
	SyncWait              time.Duration
	JobTTL                time.Duration
	JobWorkers            int
	JobMaxAttempts        int
	JobTimeout            time.Duration
	JobRescueAfter        time.Duration
	JobHeartbeatInterval  time.Duration
	JobStaleAfter         time.Duration
	JobRetryBackoff       time.Duration
	MaintenanceInterval   time.Duration
	ArtifactSecret        string // hex; empty means a key kept in DataDir
	ArtifactURLTTL        time.Duration
	WebhookSecret         string // whsec_...; empty means a secret kept in DataDir
	CallbackAttempts      int
	CallbackBackoff       time.Duration
	SSRFAllow             []string // CIDR prefixes callbacks and fetched URLs may reach despite being private
	EngagementWebhookURL  string   // where re-engagement messages are delivered; empty: campaigns are only stored
	EmbeddedMusicSpeed    float64  // seconds of audio rendered per second; 0 for as fast as possible
	AudioMaxBytes         int64    // largest audio file read for analysis
	ImportMaxBytes        int64    // largest file importData takes
	AudioMaxSeconds       int      // longest audio analysed
	AudioFetchTimeout     time.Duration
	DemoData              string // auto or off
	InstanceID            string // this replica's name in the job queue; stable across restarts if set
	ContextTTL            time.Duration
	PrivacyPolicyURL      string
	SessionTTL            time.Duration
	Scaling               scaling.Config
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
	AuthToken             string // bootstrap token; secret
	ChatGPTAppKey         string // X-ChatGPT-App-Key; secret
	KeyCacheTTL           time.Duration
	OAuthIssuer           string
	OAuthAudience         string
	OAuthJWKSURL          string
	OAuthAlgorithms       []string
	OAuthTenantClaim      string
	OAuthServer           OAuthServerConfig

	RedisURL              string
	RedisPrefix           string
	RateLimits            map[string]services.Rate // every class, defaults with overrides applied
	RateLimitOnStoreError ratelimit.Policy
	AuthFailureLimit      services.Rate
	DailyQuota            int64

	CORSOrigins    []string
	TrustedProxies []*net.IPNet

	ConsoleSecret     string // hex; empty means a key kept in DataDir
	ConsoleSessionTTL time.Duration
	// Effective is every setting's value as read, for the console's settings page.
	Effective []EffectiveSetting
	// Tracing is on when an OTLP endpoint is set; the exporter reads its other settings itself.
	Tracing bool
}

// EffectiveSetting is one setting's value as read, the default where unset.
type EffectiveSetting struct{ Name, Value string }

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
	{"JARVIS_LOG_FLUSH_INTERVAL", "100ms", "Longest time a log line below warn waits to be written with others (one write instead of one per request); warnings and errors are written at once. 0 writes each line as it comes."},
	{"JARVIS_BODY_LIMIT", "1M", "Largest request body accepted, such as 512K or 2M; importData has its own limit."},
	{"JARVIS_IMPORT_MAX_BYTES", "64M", "Largest file importData (POST /admin/data/{kind}) takes; the upload must also finish within JARVIS_READ_TIMEOUT."},
	{"JARVIS_READ_HEADER_TIMEOUT", "5s", "Time allowed to read request headers."},
	{"JARVIS_READ_TIMEOUT", "15s", "Time allowed to read a whole request."},
	{"JARVIS_WRITE_TIMEOUT", "60s", "Time allowed to write a response; above the longest inline wait."},
	{"JARVIS_IDLE_TIMEOUT", "120s", "How long an idle keep-alive connection stays open."},
	{"JARVIS_SHUTDOWN_TIMEOUT", "30s", "How long SIGINT or SIGTERM waits for in-flight requests."},
	{"JARVIS_TLS_CERT", "", "PEM certificate (chain) file: serve HTTPS, HTTP/2 included, with it and JARVIS_TLS_KEY. Unset: plain HTTP, or JARVIS_TLS_DOMAIN."},
	{"JARVIS_TLS_KEY", "", "PEM private key file of JARVIS_TLS_CERT."},
	{"JARVIS_TLS_DOMAIN", "", "Public host names, comma-separated, to serve HTTPS for with certificates obtained by ACME (Let's Encrypt), kept in JARVIS_DATA_DIR/acme; port 443 must reach JARVIS_ADDR. Not with JARVIS_TLS_CERT."},
	{"JARVIS_DRAIN_DELAY", "0s", "After SIGINT or SIGTERM, how long /ready answers 503 while requests are still served, before the listener closes; behind a load balancer, its readiness probe interval times its failure threshold."},
	{"JARVIS_DATABASE_URL", "", "postgres:// URL for PostgreSQL (scale-out); empty for SQLite at JARVIS_DATA_DIR/jarvis.db."},
	{"JARVIS_DATA_DIR", "data", "Directory for the SQLite database, artifacts and generated keys."},
	{"JARVIS_SYNC_WAIT", "20s", "How long a long action waits for its job before answering 202 with the job."},
	{"JARVIS_JOB_TTL", "24h", "Finished jobs and their artifacts are deleted this long after they finish."},
	{"JARVIS_JOB_WORKERS", "4", "Jobs this process works at once."},
	{"JARVIS_JOB_MAX_ATTEMPTS", "3", "Attempts per job, including a rescue after its process died."},
	{"JARVIS_JOB_TIMEOUT", "10m", "Longest one attempt of a job may run."},
	{"JARVIS_JOB_RESCUE_AFTER", "11m", "A job still running this long after its attempt began is taken to have lost its process and is run again; above JARVIS_JOB_TIMEOUT."},
	{"JARVIS_JOB_HEARTBEAT_INTERVAL", "3s", "How often the worker of a running job records that it is alive, and how often each process looks for jobs whose heartbeat stopped."},
	{"JARVIS_JOB_STALE_AFTER", "15s", "A running job without a heartbeat this long has lost its process and is run again (or failed, with no attempt left) by any replica; at least three heartbeat intervals."},
	{"JARVIS_JOB_RETRY_BACKOFF", "5s", "First delay before retrying a failed attempt; doubles each attempt."},
	{"JARVIS_MAINTENANCE_INTERVAL", "1m", "How often expired jobs are deleted and orphaned jobs failed."},
	{"JARVIS_ARTIFACT_SECRET", "", "Hex key (32+ bytes) signing artifact links; replicas must share one. Empty: a key kept in JARVIS_DATA_DIR."},
	{"JARVIS_ARTIFACT_URL_TTL", "24h", "How long an artifact download link stays valid."},
	{"JARVIS_WEBHOOK_SECRET", "", "whsec_ secret signing job callbacks (Standard Webhooks). Empty: a secret kept in JARVIS_DATA_DIR."},
	{"JARVIS_CALLBACK_ATTEMPTS", "8", "Delivery attempts per job callback."},
	{"JARVIS_CALLBACK_BACKOFF", "10s", "First delay before retrying a callback; doubles each attempt."},
	{"JARVIS_SSRF_ALLOW", "", "Comma-separated CIDR prefixes that callbacks and fetched URLs may reach although private or loopback."},
	{"JARVIS_INSTANCE_ID", "", "This replica's name in the job queue. A restarted replica with the same name resumes its duties (such as rescuing jobs) at once. Empty: a new name each start."},
	{"JARVIS_PRIVACY_POLICY_URL", "", "The operator's privacy policy, which ChatGPT requires to share a GPT; given in /gpt-config.json."},
	{"JARVIS_CONTEXT_TTL", "24h", "A user's remembered context is deleted after this long without an action."},
	{"JARVIS_SESSION_TTL", "2h", "A conversation's session data lapses this long after its last action."},
	{"JARVIS_EMBEDDED_MUSIC_SPEED", "0", "Seconds of audio the embedded generator renders per second, like a hosted model; 0 renders as fast as the CPU allows."},
	{"JARVIS_AUDIO_MAX_BYTES", "100M", "Largest audio file analyseMusic and validateMusic read, fetched or uploaded."},
	{"JARVIS_AUDIO_MAX_SECONDS", "900", "Longest audio analysed, in seconds; longer audio answers 422."},
	{"JARVIS_AUDIO_FETCH_TIMEOUT", "60s", "Time allowed to fetch a whole audio file from its link."},
	{"JARVIS_DEMO_DATA", "auto", "auto: with JARVIS_ENV=development, the demo artist is loaded into tenant dev at start when it holds no data; off: never. Production never loads it."},
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
	{"JARVIS_AUTH_TOKEN", "", "Bootstrap token with every scope, as a bearer token or X-API-Key; at least 32 characters and 128 bits of estimated entropy in production (openssl rand -hex 32). Unset: off."},
	{"JARVIS_CHATGPT_APP_KEY", "", "Secret a GPT sends in X-ChatGPT-App-Key; at least 32 characters and 128 bits of estimated entropy in production (openssl rand -hex 32). Unset: off."},
	{"JARVIS_KEY_CACHE_TTL", "30s", "How long an API key read from the database is used before it is read again; a revocation takes this long to apply everywhere. 0 reads it on every call."},
	{"JARVIS_OAUTH_ISSUER", "", "OAuth 2.0 authorization server whose JWT access tokens are accepted (the tokens' iss). Unset: OAuth off."},
	{"JARVIS_OAUTH_AUDIENCE", "", "Audience the access tokens must name (aud); required with JARVIS_OAUTH_ISSUER."},
	{"JARVIS_OAUTH_JWKS_URL", "", "The issuer's JWKS; discovered from its metadata when unset."},
	{"JARVIS_OAUTH_ALGORITHMS", "RS256,ES256", "Signature algorithms accepted in access tokens, asymmetric only."},
	{"JARVIS_OAUTH_TENANT_CLAIM", "", "Claim of the access tokens naming the user's tenant (within the issuer); tokens without it are refused. Unset: one tenant for all of the issuer's users."},
	{"JARVIS_OAUTH_SERVER", "off", "on: Jarvis is an OAuth 2.1 authorization server for its own API and /mcp (users of jarvis users create sign in on its pages); off: it is not."},
	{"JARVIS_OAUTH_SIGNING_KEY", "", "PEM file of the P-256 key signing Jarvis's access tokens; replicas must share one. Empty: a key generated into JARVIS_DATA_DIR/keys (jarvis oauth keys rotate makes a new one)."},
	{"JARVIS_OAUTH_PREVIOUS_SIGNING_KEY", "", "PEM file of the key used before JARVIS_OAUTH_SIGNING_KEY; it stays in the JWKS so that its tokens pass until they expire."},
	{"JARVIS_OAUTH_ACCESS_TTL", "1h", "Lifetime of the access tokens Jarvis issues."},
	{"JARVIS_OAUTH_REFRESH_TTL", "720h", "Lifetime of a refresh token; each use replaces it."},
	{"JARVIS_OAUTH_LOGIN_TTL", "12h", "How long a sign-in on the login page lasts in the browser."},
	{"JARVIS_OAUTH_REGISTRATION", "on", "on: clients may register themselves (RFC 7591 dynamic registration); off: only clients of jarvis oauth clients create and metadata documents."},
	{"JARVIS_OAUTH_REGISTRATION_LIMIT", "20/1h", "Dynamic registrations per client address and window."},
	{"JARVIS_OAUTH_CIMD_HOSTS", "chatgpt.com,claude.ai,claude.com", "Hosts whose Client ID Metadata Documents are accepted as client ids; * for any host. Fetched through the SSRF guard."},
	{"JARVIS_OAUTH_CIMD_MAX_BYTES", "16K", "Largest Client ID Metadata Document read."},
	{"JARVIS_REDIS_URL", "", "redis:// URL of the store that replicas share rate limits in; in-memory limits when unset."},
	{"JARVIS_REDIS_PREFIX", "jarvis", "Prefix of Jarvis's keys in Redis."},
	{"JARVIS_RATE_LIMITS", "", "Overrides of the hourly limits per class, such as music.generate=20,jobs.read=2000/1h; * sets every class."},
	{"JARVIS_RATELIMIT_ON_STORE_ERROR", "memory", "When Redis fails: memory (count per replica), allow (let calls through) or deny (answer 503)."},
	{"JARVIS_AUTH_FAILURE_LIMIT", "30/10m", "Failed authentications allowed per client address and window; past it, its failing attempts are refused with 429 (valid credentials still pass)."},
	{"JARVIS_DAILY_QUOTA", "0", "Long actions per caller and UTC day, unless its API key sets its own; 0 for no quota."},
	{"JARVIS_CORS_ORIGINS", "https://chatgpt.com,https://chat.openai.com", "Origins browsers may call the API from, comma-separated; * for any."},
	{"JARVIS_TRUSTED_PROXIES", "", "CIDRs of reverse proxies whose X-Forwarded-For names the client address; unset: the connection's address."},
	{"JARVIS_CONSOLE_SECRET", "", "Hex key (32+ bytes) signing the operator console's session cookies; replicas must share one. Empty: a key kept in JARVIS_DATA_DIR."},
	{"JARVIS_CONSOLE_SESSION_TTL", "8h", "How long a sign-in to the operator console lasts."},
	{"OTEL_EXPORTER_OTLP_ENDPOINT", "", "OTLP/HTTP collector to send OpenTelemetry traces to, such as http://otel-collector:4318; unset: no tracing. The SDK reads the other OTEL_* variables itself."},
	{"OTEL_SDK_DISABLED", "false", "true turns tracing off even with an OTLP endpoint set."},
	{"JARVIS_SCALING_LIMITS", "", "Starting limits of the pools while the database holds none, such as api=256,audio-analysis=8; unset pools start at workers and music-generation JARVIS_JOB_WORKERS, audio-analysis 4, api 512, database 20."},
	{"JARVIS_SCALING_BOUNDS", "", "Bounds of the pools' limits, such as workers=1-32; unset: music-generation, audio-analysis and workers 1-64, api 1-4096, database 2-200."},
	{"JARVIS_SCALING_COSTS", "", "US dollars per slot and hour of each pool, such as music-generation=0.5, for costPerHour and maxCost; unset pools cost 0."},
	{"JARVIS_SCALING_POLL_INTERVAL", "2s", "How often each replica reads the pools' shared limits from the database."},
	{"JARVIS_SCALING_WINDOW", "1m", "Observation window of auto-optimize and of the p95 latency; the pools are sampled 60 times in it."},
	{"JARVIS_SCALING_STABILIZATION", "5m", "A scale-down by auto-optimize goes no lower than the highest recommendation within this window."},
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
	// duration reads a duration above zero or, where zero means off, of at least zero.
	duration := func(name string, zeroMeansOff bool) time.Duration {
		raw := get(name)
		d, err := time.ParseDuration(raw)
		switch {
		case zeroMeansOff && (err != nil || d < 0):
			errs = append(errs, fmt.Errorf("%s=%q: want 0 or a positive duration such as 100ms", name, raw))
		case !zeroMeansOff && (err != nil || d <= 0):
			errs = append(errs, fmt.Errorf("%s=%q: want a positive duration such as 30s", name, raw))
		}
		return d
	}
	dur := func(name string) time.Duration { return duration(name, false) }
	// count reads a whole number of at least lo and, when hi is above zero, at most hi.
	count := func(name string, lo, hi int) int {
		raw := get(name)
		n, err := strconv.Atoi(raw)
		switch {
		case hi > 0 && (err != nil || n < lo || n > hi):
			errs = append(errs, fmt.Errorf("%s=%q: want a whole number from %d to %d", name, raw, lo, hi))
		case err != nil || n < lo:
			errs = append(errs, fmt.Errorf("%s=%q: want a whole number of at least %d", name, raw, lo))
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
		LogFlushInterval:  duration("JARVIS_LOG_FLUSH_INTERVAL", true),
		BodyLimit:         get("JARVIS_BODY_LIMIT"),
		ReadHeaderTimeout: dur("JARVIS_READ_HEADER_TIMEOUT"),
		ReadTimeout:       dur("JARVIS_READ_TIMEOUT"),
		WriteTimeout:      dur("JARVIS_WRITE_TIMEOUT"),
		IdleTimeout:       dur("JARVIS_IDLE_TIMEOUT"),
		ShutdownTimeout:   dur("JARVIS_SHUTDOWN_TIMEOUT"),
		DrainDelay:        duration("JARVIS_DRAIN_DELAY", true),

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
	cfg.AudioMaxBytes = size("JARVIS_AUDIO_MAX_BYTES")
	cfg.ImportMaxBytes = size("JARVIS_IMPORT_MAX_BYTES")
	cfg.AudioMaxSeconds = count("JARVIS_AUDIO_MAX_SECONDS", 1, 86400)
	cfg.AudioFetchTimeout = dur("JARVIS_AUDIO_FETCH_TIMEOUT")
	cfg.DemoData = get("JARVIS_DEMO_DATA")
	if cfg.DemoData != "auto" && cfg.DemoData != "off" {
		errs = append(errs, fmt.Errorf("JARVIS_DEMO_DATA=%q: want auto or off", cfg.DemoData))
	}
	cfg.DatabaseURL = get("JARVIS_DATABASE_URL")
	cfg.InstanceID = get("JARVIS_INSTANCE_ID")
	cfg.ContextTTL = dur("JARVIS_CONTEXT_TTL")
	cfg.PrivacyPolicyURL = get("JARVIS_PRIVACY_POLICY_URL")
	cfg.SessionTTL = dur("JARVIS_SESSION_TTL")
	cfg.DataDir = get("JARVIS_DATA_DIR")
	cfg.SyncWait = dur("JARVIS_SYNC_WAIT")
	cfg.JobTTL = dur("JARVIS_JOB_TTL")
	cfg.JobWorkers = count("JARVIS_JOB_WORKERS", 1, 0)
	cfg.JobMaxAttempts = count("JARVIS_JOB_MAX_ATTEMPTS", 1, 0)
	cfg.JobTimeout = dur("JARVIS_JOB_TIMEOUT")
	cfg.JobRescueAfter = dur("JARVIS_JOB_RESCUE_AFTER")
	cfg.JobRetryBackoff = dur("JARVIS_JOB_RETRY_BACKOFF")
	cfg.JobHeartbeatInterval = dur("JARVIS_JOB_HEARTBEAT_INTERVAL")
	cfg.JobStaleAfter = dur("JARVIS_JOB_STALE_AFTER")
	cfg.MaintenanceInterval = dur("JARVIS_MAINTENANCE_INTERVAL")
	cfg.ArtifactSecret = get("JARVIS_ARTIFACT_SECRET")
	cfg.ArtifactURLTTL = dur("JARVIS_ARTIFACT_URL_TTL")
	cfg.WebhookSecret = get("JARVIS_WEBHOOK_SECRET")
	cfg.CallbackAttempts = count("JARVIS_CALLBACK_ATTEMPTS", 1, 0)
	cfg.CallbackBackoff = dur("JARVIS_CALLBACK_BACKOFF")
	cfg.EngagementWebhookURL = get("JARVIS_ENGAGEMENT_WEBHOOK_URL")
	for _, p := range strings.Split(get("JARVIS_SSRF_ALLOW"), ",") {
		if p = strings.TrimSpace(p); p != "" {
			cfg.SSRFAllow = append(cfg.SSRFAllow, p)
		}
	}
	if raw := get("JARVIS_EMBEDDED_MUSIC_SPEED"); raw != "" {
		v, err := strconv.ParseFloat(raw, 64)
		if err != nil || v < 0 {
			errs = append(errs, fmt.Errorf("JARVIS_EMBEDDED_MUSIC_SPEED=%q: want a number of at least 0", raw))
		}
		cfg.EmbeddedMusicSpeed = v
	}

	cfg.TLSCert, cfg.TLSKey = get("JARVIS_TLS_CERT"), get("JARVIS_TLS_KEY")
	cfg.TLSDomains = splitList(get("JARVIS_TLS_DOMAIN"))
	errs = append(errs, cfg.checkTLS()...)
	switch disabled := strings.ToLower(get("OTEL_SDK_DISABLED")); disabled {
	case "true", "false":
		cfg.Tracing = disabled == "false" && (get("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "")
	default:
		errs = append(errs, fmt.Errorf("OTEL_SDK_DISABLED=%q: want true or false", disabled))
	}

	cfg.PublicURL = strings.TrimRight(get("JARVIS_PUBLIC_URL"), "/")
	if cfg.PublicURL == "" {
		cfg.PublicURL = cfg.defaultPublicURL()
	}
	errs = append(errs, cfg.loadAccess(get)...)
	cfg.ConsoleSecret = get("JARVIS_CONSOLE_SECRET")
	if key, err := hex.DecodeString(cfg.ConsoleSecret); cfg.ConsoleSecret != "" && (err != nil || len(key) < 32) {
		errs = append(errs, fmt.Errorf("JARVIS_CONSOLE_SECRET: want at least 32 bytes in hex (openssl rand -hex 32)"))
	}
	cfg.ConsoleSessionTTL = dur("JARVIS_CONSOLE_SESSION_TTL")
	for _, st := range Settings {
		cfg.Effective = append(cfg.Effective, EffectiveSetting{Name: st.Name, Value: get(st.Name)})
	}
	errs = append(errs, cfg.loadScaling(get)...)

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
	if c.WriteTimeout > 0 && c.WriteTimeout < c.SyncWait+10*time.Second {
		errs = append(errs, fmt.Errorf("JARVIS_WRITE_TIMEOUT=%s: want at least JARVIS_SYNC_WAIT plus 10s (%s), so that long actions can answer inline",
			c.WriteTimeout, c.SyncWait+10*time.Second))
	}
	if c.SyncWait > 40*time.Second {
		errs = append(errs, fmt.Errorf("JARVIS_SYNC_WAIT=%s: want at most 40s, inside ChatGPT's 45-second budget for an action", c.SyncWait))
	}
	if c.JobTimeout > 0 && c.JobRescueAfter > 0 && c.JobRescueAfter <= c.JobTimeout {
		errs = append(errs, fmt.Errorf("JARVIS_JOB_RESCUE_AFTER=%s: want more than JARVIS_JOB_TIMEOUT (%s), or running jobs would be run twice",
			c.JobRescueAfter, c.JobTimeout))
	}
	if c.JobHeartbeatInterval <= 0 {
		errs = append(errs, fmt.Errorf("JARVIS_JOB_HEARTBEAT_INTERVAL=%s: want a duration above 0, such as 3s", c.JobHeartbeatInterval))
	} else if c.JobStaleAfter < 3*c.JobHeartbeatInterval {
		errs = append(errs, fmt.Errorf("JARVIS_JOB_STALE_AFTER=%s: want at least three JARVIS_JOB_HEARTBEAT_INTERVAL (%s), or a slow write would look like a dead process",
			c.JobStaleAfter, 3*c.JobHeartbeatInterval))
	}
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") &&
		!strings.HasPrefix(c.DatabaseURL, "sqlite:") {
		errs = append(errs, fmt.Errorf("JARVIS_DATABASE_URL: want a postgres://, postgresql:// or sqlite: URL"))
	}
	if c.ArtifactSecret != "" {
		if key, err := hex.DecodeString(c.ArtifactSecret); err != nil || len(key) < 32 {
			errs = append(errs, fmt.Errorf("JARVIS_ARTIFACT_SECRET: want at least 32 bytes written in hex (64 hex digits)"))
		}
	}
	if c.WebhookSecret != "" {
		if _, err := webhook.ParseSecret(c.WebhookSecret); err != nil {
			errs = append(errs, fmt.Errorf("JARVIS_WEBHOOK_SECRET: %v", err))
		}
	}
	if _, err := ssrf.ParsePrefixes(c.SSRFAllow); err != nil {
		errs = append(errs, fmt.Errorf("JARVIS_SSRF_ALLOW: %v", err))
	}
	if c.EngagementWebhookURL != "" {
		if u, err := url.Parse(c.EngagementWebhookURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("JARVIS_ENGAGEMENT_WEBHOOK_URL=%q: want an http or https URL, such as https://crm.example.com/hooks/jarvis", c.EngagementWebhookURL))
		}
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

// GPTSetup is what the GPT builder settings take from the configuration; available says which
// operations the server carries out (nil for all).
func (c Config) GPTSetup(available func(string) bool) handlers.GPTSetup {
	return handlers.GPTSetup{PublicURL: c.PublicURL, PrivacyPolicyURL: c.PrivacyPolicyURL, OAuthIssuer: c.OAuthIssuer, OAuthServer: c.OAuthServer.On,
		Rates: c.RateLimits, Available: available}
}

// checkedSettings are the settings runValidation's config checks judge.
func (c Config) checkedSettings() checks.Settings {
	return checks.Settings{
		Env: c.Env, Addr: c.Addr, ListenerLoopback: ListenerIsLoopback(c.Addr), PublicURL: c.PublicURL,
		AidawgURL: c.AidawgURL, AidawgBudget: c.AidawgBudget, AidawgFallback: c.AidawgFallback,
	}
}
