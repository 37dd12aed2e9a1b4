package app

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/labstack/gommon/bytes"

	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/auth"
	"github.com/aidawg/jarvis/services/oauthserver"
	"github.com/aidawg/jarvis/services/ratelimit"
	"github.com/aidawg/jarvis/services/ssrf"
	"github.com/aidawg/jarvis/services/storage"
)

// OAuthServerConfig is Jarvis as an authorization server.
type OAuthServerConfig struct {
	On                bool
	SigningKey        string // PEM file; "" for a key in the data dir
	PreviousKey       string
	AccessTTL         time.Duration
	RefreshTTL        time.Duration
	LoginTTL          time.Duration
	Registration      bool
	RegistrationLimit services.Rate
	CIMDHosts         []string
	CIMDMaxBytes      int64
}

func onOff(name, raw string, errs *[]error) bool {
	switch raw {
	case "on":
		return true
	case "off":
		return false
	}
	*errs = append(*errs, fmt.Errorf("%s=%q: want on or off", name, raw))
	return false
}

func (c *Config) loadOAuthServer(get func(string) string) []error {
	var errs []error
	o := &c.OAuthServer
	o.On = onOff("JARVIS_OAUTH_SERVER", get("JARVIS_OAUTH_SERVER"), &errs)
	o.Registration = onOff("JARVIS_OAUTH_REGISTRATION", get("JARVIS_OAUTH_REGISTRATION"), &errs)
	o.SigningKey, o.PreviousKey = get("JARVIS_OAUTH_SIGNING_KEY"), get("JARVIS_OAUTH_PREVIOUS_SIGNING_KEY")
	if o.PreviousKey != "" && o.SigningKey == "" {
		errs = append(errs, fmt.Errorf("JARVIS_OAUTH_PREVIOUS_SIGNING_KEY: set JARVIS_OAUTH_SIGNING_KEY too, or neither (keys kept in the data dir rotate with jarvis oauth keys rotate)"))
	}
	for _, d := range []struct {
		name string
		to   *time.Duration
	}{{"JARVIS_OAUTH_ACCESS_TTL", &o.AccessTTL}, {"JARVIS_OAUTH_REFRESH_TTL", &o.RefreshTTL}, {"JARVIS_OAUTH_LOGIN_TTL", &o.LoginTTL}} {
		v, err := time.ParseDuration(get(d.name))
		if err != nil || v < time.Minute {
			errs = append(errs, fmt.Errorf("%s=%q: want a duration of at least 1m, such as 1h", d.name, get(d.name)))
		}
		*d.to = v
	}
	if o.AccessTTL > 24*time.Hour {
		errs = append(errs, fmt.Errorf("JARVIS_OAUTH_ACCESS_TTL=%s: want at most 24h; refresh tokens keep clients signed in longer", o.AccessTTL))
	}
	var err error
	if o.RegistrationLimit, err = ratelimit.ParseRate(get("JARVIS_OAUTH_REGISTRATION_LIMIT")); err != nil || o.RegistrationLimit.Limit < 1 {
		errs = append(errs, fmt.Errorf("JARVIS_OAUTH_REGISTRATION_LIMIT=%q: want registrations per window of at least 1, such as 20/1h", get("JARVIS_OAUTH_REGISTRATION_LIMIT")))
	}
	o.CIMDHosts = splitList(get("JARVIS_OAUTH_CIMD_HOSTS"))
	for _, h := range o.CIMDHosts {
		if h != "*" && (strings.ContainsAny(h, "/:@ ") && !strings.HasPrefix(h, "[")) {
			errs = append(errs, fmt.Errorf("JARVIS_OAUTH_CIMD_HOSTS: %q is not a host name such as claude.ai", h))
		}
	}
	if o.CIMDMaxBytes, err = bytes.Parse(get("JARVIS_OAUTH_CIMD_MAX_BYTES")); err != nil || o.CIMDMaxBytes < 512 || o.CIMDMaxBytes > 1<<20 {
		errs = append(errs, fmt.Errorf("JARVIS_OAUTH_CIMD_MAX_BYTES=%q: want a size from 512 to 1M, such as 16K", get("JARVIS_OAUTH_CIMD_MAX_BYTES")))
	}
	if o.On {
		if err := auth.CheckURL(c.PublicURL); err != nil {
			errs = append(errs, fmt.Errorf("JARVIS_OAUTH_SERVER=on: JARVIS_PUBLIC_URL is the issuer, and %w", err))
		}
		if strings.TrimRight(c.OAuthIssuer, "/") == c.PublicURL {
			errs = append(errs, fmt.Errorf("JARVIS_OAUTH_ISSUER: names Jarvis itself; with JARVIS_OAUTH_SERVER=on leave it for another issuer, or unset"))
		}
	}
	return errs
}

// newOAuthServer assembles the authorization server: its signing keys, the fetcher of client
// metadata documents and its store.
func (a *App) newOAuthServer(db *storage.DB) (*oauthserver.Server, error) {
	cfg := a.cfg
	o := cfg.OAuthServer
	keys, err := oauthserver.LoadKeys(cfg.DataDir, o.SigningKey, o.PreviousKey)
	if err != nil {
		return nil, fmt.Errorf("OAuth signing keys: %w", err)
	}
	allow, err := ssrf.ParsePrefixes(cfg.SSRFAllow)
	if err != nil {
		return nil, err
	}
	return oauthserver.New(cfg.oauthServerConfig(allow), db, keys), nil
}

func (c Config) oauthServerConfig(allow []netip.Prefix) oauthserver.Config {
	o := c.OAuthServer
	return oauthserver.Config{
		Issuer:        c.PublicURL,
		Resources:     []string{c.PublicURL, c.PublicURL + MCPPath},
		AccessTTL:     o.AccessTTL,
		RefreshTTL:    o.RefreshTTL,
		CodeTTL:       60 * time.Second,
		SessionTTL:    o.LoginTTL,
		Registration:  o.Registration,
		CIMD:          oauthserver.NewCIMDFetcher(ssrf.New(allow, 5*time.Second, o.CIMDMaxBytes), o.CIMDHosts, o.CIMDMaxBytes, nil),
		GrantCacheTTL: c.KeyCacheTTL,
	}
}

// OpenOAuthServer is the authorization server over db, for the CLI: it shares the signing keys
// and the store the server uses.
func OpenOAuthServer(cfg Config, db *storage.DB) (*oauthserver.Server, error) {
	a := &App{cfg: cfg}
	return a.newOAuthServer(db)
}
