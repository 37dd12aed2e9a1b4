package app

import (
	"context"
	"encoding/hex"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/aidawg/jarvis/handlers/console"
	"github.com/aidawg/jarvis/handlers/docs"
	"github.com/aidawg/jarvis/services/artifacts"
)

// mountPages serves the pages beside the API: the API reference at /docs and the operator
// console at /console.
func (a *App) mountPages(e *echo.Echo, d console.Deps) error {
	docs.Register(e)
	key, err := consoleKey(a.cfg)
	if err != nil {
		return err
	}
	d.Settings = maskedSettings(a.cfg.Effective)
	for _, rc := range a.ready {
		d.Ready = append(d.Ready, console.Check{Name: rc.name, Check: rc.check})
	}
	c, err := console.New(d, console.Options{PublicURL: a.cfg.PublicURL, SessionKey: key, SessionTTL: a.cfg.ConsoleSessionTTL})
	if err != nil {
		return err
	}
	ctx, stop := context.WithCancel(context.Background())
	if err := c.Start(ctx); err != nil {
		stop()
		return err
	}
	a.closer = append(a.closer, func() error { stop(); return nil })
	c.Register(e)
	return nil
}

func consoleKey(cfg Config) ([]byte, error) {
	if cfg.ConsoleSecret != "" {
		return hex.DecodeString(cfg.ConsoleSecret)
	}
	return artifacts.LoadOrCreateKey(filepath.Join(cfg.DataDir, "keys", "console.key"))
}

// secretSettings hold a secret in their whole value.
var secretSettings = map[string]bool{"JARVIS_AUTH_TOKEN": true, "JARVIS_CHATGPT_APP_KEY": true,
	"JARVIS_ARTIFACT_SECRET": true, "JARVIS_WEBHOOK_SECRET": true, "JARVIS_CONSOLE_SECRET": true}

// maskedSettings are the effective settings with secrets masked: a secret setting shows only
// whether it is set, and a URL its user but not its password.
func maskedSettings(in []EffectiveSetting) []console.Setting {
	out := make([]console.Setting, 0, len(in))
	for _, s := range in {
		v := s.Value
		switch {
		case v == "":
			v = "(unset)"
		case secretSettings[s.Name]:
			v = "(set, masked)"
		case strings.Contains(v, "://"):
			if u, err := url.Parse(v); err == nil && u.User != nil {
				if _, has := u.User.Password(); has {
					u.User = url.UserPassword(u.User.Username(), "masked")
				}
				v = maskQuery(u).String()
			} else if err == nil {
				v = maskQuery(u).String()
			} else {
				v = "(set, unreadable URL masked)"
			}
		}
		out = append(out, console.Setting{Name: s.Name, Value: v})
	}
	return out
}

// maskQuery masks the query parameters of u that carry credentials, such as PostgreSQL's
// password=.
func maskQuery(u *url.URL) *url.URL {
	q := u.Query()
	changed := false
	for name := range q {
		switch strings.ToLower(name) {
		case "password", "pass", "passwd", "sslpassword", "token", "secret":
			q.Set(name, "masked")
			changed = true
		}
	}
	if changed {
		u.RawQuery = q.Encode()
	}
	return u
}
