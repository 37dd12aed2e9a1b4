package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/auth"
	"github.com/aidawg/jarvis/services/keys"
	"github.com/aidawg/jarvis/services/oauthserver"
	"github.com/aidawg/jarvis/services/ratelimit"
	"github.com/aidawg/jarvis/services/storage"
	"github.com/aidawg/jarvis/services/usage"
)

// resourceMetadataPath serves the RFC 9728 protected resource metadata.
const resourceMetadataPath = "/.well-known/oauth-protected-resource"

// usageFlushInterval is how often metered usage is added to the database.
const usageFlushInterval = 10 * time.Second

// accessParts are the parts that decide who calls and how much: the database of keys and
// usage, the authenticator and the limiter.
type accessParts struct {
	db          *storage.DB
	auth        *auth.Authenticator
	limiter     *ratelimit.Limiter
	usage       *usage.Meter
	metadata    []byte              // RFC 9728 document
	metadataURL string              // "" without OAuth, so that the API's 401s point at it only when it helps
	mcpMetadata []byte              // RFC 9728 document of the MCP endpoint
	oauth       *oauthserver.Server // nil unless Jarvis is an authorization server
}

func (a *App) openAccess(db *storage.DB) (*accessParts, error) {
	cfg := a.cfg
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var err error
	p := &accessParts{db: db}

	ac := auth.Config{
		Development:    cfg.DevelopmentBypass(),
		AppKey:         cfg.ChatGPTAppKey,
		BootstrapToken: cfg.AuthToken,
		KeyCacheTTL:    cfg.KeyCacheTTL,
	}
	// The metadata is served whether or not OAuth is on: MCP clients look for it on every 401
	// from /mcp, and without OAuth it tells them that no authorization server will issue them a
	// token (they need a key instead).
	metadata := map[string]any{
		"resource":                 cfg.PublicURL,
		"scopes_supported":         services.AllScopes,
		"bearer_methods_supported": []string{"header"},
		"resource_name":            "Jarvis",
	}
	var servers []string
	if cfg.OAuthServer.On {
		if p.oauth, err = a.newOAuthServer(db); err != nil {
			return nil, err
		}
		ac.Local = &auth.LocalConfig{Issuer: cfg.PublicURL, Keys: p.oauth.Keys(), Grants: p.oauth}
		servers = append(servers, cfg.PublicURL)
	}
	if cfg.OAuthIssuer != "" {
		ac.OAuth = &auth.OAuthConfig{Issuer: cfg.OAuthIssuer, Audience: cfg.OAuthAudience,
			JWKSURL: cfg.OAuthJWKSURL, Algorithms: cfg.OAuthAlgorithms, TenantClaim: cfg.OAuthTenantClaim}
		servers = append(servers, cfg.OAuthIssuer)
	}
	if len(servers) > 0 {
		p.metadataURL = cfg.PublicURL + resourceMetadataPath
		metadata["authorization_servers"] = servers
	}
	if p.metadata, err = json.Marshal(metadata); err != nil {
		return nil, err
	}
	metadata["resource"] = cfg.PublicURL + MCPPath
	metadata["resource_name"] = "Jarvis MCP"
	if p.mcpMetadata, err = json.Marshal(metadata); err != nil {
		return nil, err
	}
	p.auth = auth.New(ac, keys.NewStore(db))
	if ac.Development {
		a.log.Warn().Msg("development mode on a loopback listener: a request without credentials is the development user, with every scope")
	} else if cfg.Env == "development" {
		a.log.Info().Str("addr", cfg.Addr).Msg("development mode on a non-loopback listener: credentials are required")
	}

	lc := ratelimit.Config{Rates: cfg.RateLimits, DailyQuota: cfg.DailyQuota,
		AuthFailures: cfg.AuthFailureLimit, OnStoreError: cfg.RateLimitOnStoreError}
	if cfg.RedisURL != "" {
		p.limiter, err = ratelimit.NewRedis(lc, a.log, cfg.RedisURL, cfg.RedisPrefix)
		if err != nil {
			return nil, fmt.Errorf("JARVIS_REDIS_URL: %w", err)
		}
		pingCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		if err := p.limiter.Ping(pingCtx); err != nil {
			a.log.Warn().Err(err).Str("policy", string(lc.OnStoreError)).
				Msg("Redis does not answer; rate limits follow JARVIS_RATELIMIT_ON_STORE_ERROR until it does")
		}
		cancel()
	} else {
		p.limiter = ratelimit.NewMemory(lc, a.log)
	}
	a.closer = append(a.closer, p.limiter.Close)

	p.usage = usage.NewMeter(db, a.log, usageFlushInterval)
	a.closer = append(a.closer, p.usage.Close)
	return p, nil
}

// clientAddress is where a request comes from: the connection's address, or, when it is a
// trusted proxy, the nearest untrusted address in X-Forwarded-For. Echo's default trusts any
// X-Forwarded-For, which would let a client pick the address its failed logins count against.
func clientAddress(trusted []*net.IPNet) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range trusted {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}
