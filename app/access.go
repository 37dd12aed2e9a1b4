package app

import (
	"fmt"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aidawg/jarvis/services/auth"
	"github.com/aidawg/jarvis/services/ratelimit"
)

// minSecretLen is the shortest bootstrap token or app key production accepts.
const minSecretLen = 32

// minSecretBits is the least estimated entropy of a bootstrap token or app key in production:
// that of 32 random hex digits, so that a long secret of few symbols ("aaaa…") or a repeated
// pattern ("0123…") is refused.
const minSecretBits = 128

// secretBits estimates a secret's entropy as the length of the shortest pattern it repeats
// (its whole length when it repeats none) times log2 of the number of distinct characters in
// it: generous to a secret that was typed, about right for one that is random.
func secretBits(s string) float64 {
	rs := []rune(s)
	distinct := map[rune]bool{}
	for _, r := range rs {
		distinct[r] = true
	}
	if len(distinct) < 2 {
		return 0
	}
	period := len(rs)
	for p := 1; p < len(rs); p++ {
		repeats := true
		for i := p; i < len(rs) && repeats; i++ {
			repeats = rs[i] == rs[i-p]
		}
		if repeats {
			period = p
			break
		}
	}
	return float64(period) * math.Log2(float64(len(distinct)))
}

// loadAccess reads the settings of authentication, rate limits and the HTTP hardening. Errors
// name a secret setting but never show its value.
func (c *Config) loadAccess(get func(string) string) []error {
	var errs []error
	c.DataDir = get("JARVIS_DATA_DIR")
	c.DatabaseURL = get("JARVIS_DATABASE_URL")
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") &&
		!strings.HasPrefix(c.DatabaseURL, "postgresql://") && !strings.HasPrefix(c.DatabaseURL, "sqlite:") {
		errs = append(errs, fmt.Errorf("JARVIS_DATABASE_URL: want a postgres:// URL or sqlite:path"))
	}

	c.AuthToken = get("JARVIS_AUTH_TOKEN")
	c.ChatGPTAppKey = get("JARVIS_CHATGPT_APP_KEY")
	if c.Env == "production" {
		for _, s := range []struct{ name, value string }{{"JARVIS_AUTH_TOKEN", c.AuthToken}, {"JARVIS_CHATGPT_APP_KEY", c.ChatGPTAppKey}} {
			switch {
			case s.value == "":
			case len(s.value) < minSecretLen:
				errs = append(errs, fmt.Errorf("%s: want at least %d characters in production (it has %d); make one with: openssl rand -hex 32", s.name, minSecretLen, len(s.value)))
			case secretBits(s.value) < minSecretBits:
				errs = append(errs, fmt.Errorf("%s: too predictable for production (its shortest repeated pattern's length × log2(distinct characters) is %.0f bits, want at least %d); make one with: openssl rand -hex 32",
					s.name, secretBits(s.value), minSecretBits))
			}
		}
	}
	if ttl, err := time.ParseDuration(get("JARVIS_KEY_CACHE_TTL")); err != nil || ttl < 0 {
		errs = append(errs, fmt.Errorf("JARVIS_KEY_CACHE_TTL=%q: want a duration such as 30s, or 0", get("JARVIS_KEY_CACHE_TTL")))
	} else {
		c.KeyCacheTTL = ttl
	}

	c.OAuthIssuer = get("JARVIS_OAUTH_ISSUER")
	c.OAuthAudience = get("JARVIS_OAUTH_AUDIENCE")
	c.OAuthJWKSURL = get("JARVIS_OAUTH_JWKS_URL")
	c.OAuthAlgorithms = splitList(get("JARVIS_OAUTH_ALGORITHMS"))
	c.OAuthTenantClaim = get("JARVIS_OAUTH_TENANT_CLAIM")
	if c.OAuthIssuer != "" {
		if err := auth.CheckURL(c.OAuthIssuer); err != nil {
			errs = append(errs, fmt.Errorf("JARVIS_OAUTH_ISSUER: %w", err))
		}
		if c.OAuthAudience == "" {
			errs = append(errs, fmt.Errorf("JARVIS_OAUTH_AUDIENCE: required with JARVIS_OAUTH_ISSUER, so that tokens meant for other services are refused"))
		}
	} else if c.OAuthAudience != "" || c.OAuthJWKSURL != "" || c.OAuthTenantClaim != "" {
		errs = append(errs, fmt.Errorf("JARVIS_OAUTH_ISSUER: required when JARVIS_OAUTH_AUDIENCE, JARVIS_OAUTH_JWKS_URL or JARVIS_OAUTH_TENANT_CLAIM is set"))
	}
	if c.OAuthJWKSURL != "" {
		if err := auth.CheckURL(c.OAuthJWKSURL); err != nil {
			errs = append(errs, fmt.Errorf("JARVIS_OAUTH_JWKS_URL: %w", err))
		}
	}
	if len(c.OAuthAlgorithms) == 0 {
		errs = append(errs, fmt.Errorf("JARVIS_OAUTH_ALGORITHMS: name at least one of %s", strings.Join(auth.Algorithms, ", ")))
	}
	for _, a := range c.OAuthAlgorithms {
		if !slices.Contains(auth.Algorithms, a) {
			errs = append(errs, fmt.Errorf("JARVIS_OAUTH_ALGORITHMS: %q is not one of %s", a, strings.Join(auth.Algorithms, ", ")))
		}
	}

	errs = append(errs, c.loadOAuthServer(get)...)

	c.RedisURL = get("JARVIS_REDIS_URL")
	if c.RedisURL != "" && !strings.HasPrefix(c.RedisURL, "redis://") && !strings.HasPrefix(c.RedisURL, "rediss://") {
		errs = append(errs, fmt.Errorf("JARVIS_REDIS_URL: want a redis:// or rediss:// URL"))
	}
	c.RedisPrefix = get("JARVIS_REDIS_PREFIX")
	overrides, err := ratelimit.ParseRates(get("JARVIS_RATE_LIMITS"))
	if err != nil {
		errs = append(errs, fmt.Errorf("JARVIS_RATE_LIMITS: %w", err))
	}
	c.RateLimits = ratelimit.ResolveRates(overrides)
	c.RateLimitOnStoreError = ratelimit.Policy(get("JARVIS_RATELIMIT_ON_STORE_ERROR"))
	if !slices.Contains(ratelimit.Policies, c.RateLimitOnStoreError) {
		errs = append(errs, fmt.Errorf("JARVIS_RATELIMIT_ON_STORE_ERROR=%q: want memory, allow or deny", c.RateLimitOnStoreError))
	}
	if c.AuthFailureLimit, err = ratelimit.ParseRate(get("JARVIS_AUTH_FAILURE_LIMIT")); err != nil || c.AuthFailureLimit.Limit < 1 {
		errs = append(errs, fmt.Errorf("JARVIS_AUTH_FAILURE_LIMIT=%q: want failures per window of at least 1, such as 30/10m", get("JARVIS_AUTH_FAILURE_LIMIT")))
	}
	if c.DailyQuota, err = strconv.ParseInt(get("JARVIS_DAILY_QUOTA"), 10, 64); err != nil || c.DailyQuota < 0 {
		errs = append(errs, fmt.Errorf("JARVIS_DAILY_QUOTA=%q: want a number of long actions per day, 0 for none", get("JARVIS_DAILY_QUOTA")))
	}

	c.CORSOrigins = splitList(get("JARVIS_CORS_ORIGINS"))
	for _, o := range c.CORSOrigins {
		if o != "*" && !strings.HasPrefix(o, "https://") && !strings.HasPrefix(o, "http://") {
			errs = append(errs, fmt.Errorf("JARVIS_CORS_ORIGINS: %q is not an origin such as https://chatgpt.com", o))
		}
	}
	for _, p := range splitList(get("JARVIS_TRUSTED_PROXIES")) {
		if !strings.Contains(p, "/") {
			if ip := net.ParseIP(p); ip != nil && ip.To4() != nil {
				p += "/32"
			} else {
				p += "/128"
			}
		}
		_, n, err := net.ParseCIDR(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("JARVIS_TRUSTED_PROXIES: %q is not an address or CIDR such as 10.0.0.0/8", p))
			continue
		}
		c.TrustedProxies = append(c.TrustedProxies, n)
	}
	return errs
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
