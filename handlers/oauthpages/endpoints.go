package oauthpages

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/oauthserver"
)

// oauthError writes an RFC 6749 section 5.2 error.
func oauthError(c echo.Context, err error, basic bool) error {
	var oe *oauthserver.Error
	if !errors.As(err, &oe) {
		return err
	}
	if oe.Status == http.StatusUnauthorized && basic {
		c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Basic realm="jarvis"`)
	}
	noStore(c)
	return c.JSON(oe.Status, map[string]string{"error": oe.Code, "error_description": oe.Description})
}

func noStore(c echo.Context) {
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	c.Response().Header().Set("Pragma", "no-cache")
}

// clientCredentials reads the client's authentication: HTTP Basic (RFC 6749 section 2.3.1,
// form-encoded parts), or client_secret in the body, or only client_id for a public client.
func clientCredentials(c echo.Context) (oauthserver.ClientCredentials, bool, error) {
	form, _ := c.FormParams()
	if id, secret, ok := c.Request().BasicAuth(); ok {
		uid, err1 := url.QueryUnescape(id)
		usecret, err2 := url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return oauthserver.ClientCredentials{}, true, &oauthserver.Error{Code: "invalid_client", Description: "The Basic credentials are not form-encoded.", Status: 401}
		}
		if form.Get("client_id") != "" && form.Get("client_id") != uid || form.Get("client_secret") != "" {
			return oauthserver.ClientCredentials{}, true, &oauthserver.Error{Code: "invalid_request", Description: "Authenticate the client one way only.", Status: 400}
		}
		return oauthserver.ClientCredentials{ID: uid, Secret: usecret, Method: oauthserver.AuthBasic}, true, nil
	}
	if len(form["client_id"]) > 1 || len(form["client_secret"]) > 1 {
		return oauthserver.ClientCredentials{}, false, &oauthserver.Error{Code: "invalid_request", Description: "client_id and client_secret may be given once.", Status: 400}
	}
	if s := form.Get("client_secret"); s != "" {
		return oauthserver.ClientCredentials{ID: form.Get("client_id"), Secret: s, Method: oauthserver.AuthPost}, false, nil
	}
	return oauthserver.ClientCredentials{ID: form.Get("client_id"), Method: oauthserver.AuthNone}, false, nil
}

func (p *Pages) token(c echo.Context) error {
	ctx := c.Request().Context()
	if !strings.HasPrefix(c.Request().Header.Get(echo.HeaderContentType), echo.MIMEApplicationForm) {
		return oauthError(c, &oauthserver.Error{Code: "invalid_request", Description: "Send the token request as application/x-www-form-urlencoded.", Status: 400}, false)
	}
	cc, basic, err := clientCredentials(c)
	if err != nil {
		return oauthError(c, err, basic)
	}
	client, err := p.srv.AuthenticateClient(ctx, cc)
	if err != nil {
		return oauthError(c, err, basic)
	}
	form, _ := c.FormParams()
	for _, k := range []string{"grant_type", "code", "redirect_uri", "code_verifier", "refresh_token", "scope"} {
		if len(form[k]) > 1 {
			return oauthError(c, &oauthserver.Error{Code: "invalid_request", Description: "The parameter " + k + " is given more than once.", Status: 400}, basic)
		}
	}
	var resp oauthserver.TokenResponse
	switch form.Get("grant_type") {
	case "authorization_code":
		resp, err = p.srv.ExchangeCode(ctx, client, form.Get("code"), form.Get("redirect_uri"), form.Get("code_verifier"), form["resource"])
	case "refresh_token":
		resp, err = p.srv.Refresh(ctx, client, form.Get("refresh_token"), form.Get("scope"), form["resource"])
	case "":
		err = &oauthserver.Error{Code: "invalid_request", Description: "The grant_type is missing.", Status: 400}
	default:
		err = &oauthserver.Error{Code: "unsupported_grant_type", Description: "Only authorization_code and refresh_token are supported.", Status: 400}
	}
	if err != nil {
		return oauthError(c, err, basic)
	}
	noStore(c)
	return c.JSON(http.StatusOK, resp)
}

func (p *Pages) revoke(c echo.Context) error {
	ctx := c.Request().Context()
	cc, basic, err := clientCredentials(c)
	if err != nil {
		return oauthError(c, err, basic)
	}
	client, err := p.srv.AuthenticateClient(ctx, cc)
	if err != nil {
		return oauthError(c, err, basic)
	}
	token := c.FormValue("token")
	if token == "" {
		return oauthError(c, &oauthserver.Error{Code: "invalid_request", Description: "The token to revoke is missing.", Status: 400}, basic)
	}
	if err := p.srv.Revoke(ctx, client, token); err != nil {
		return err
	}
	noStore(c)
	return c.NoContent(http.StatusOK)
}

func (p *Pages) register(c echo.Context) error {
	ctx := c.Request().Context()
	if !p.srv.Registration() {
		return c.JSON(http.StatusForbidden, map[string]string{"error": "access_denied",
			"error_description": "Dynamic client registration is off on this server (JARVIS_OAUTH_REGISTRATION); ask the administrator for a client."})
	}
	addr := c.RealIP()
	res, err := p.opts.Limiter.Take(ctx, services.Principal{Method: "registration", Tenant: "-", User: addr,
		Limits: map[string]services.Rate{"oauth.register": p.opts.RegistrationLimit}}, "oauth.register", false)
	if err != nil {
		return err
	}
	if !res.Allowed() {
		retry := res.Limit.RetryAfter(time.Now())
		c.Response().Header().Set("Retry-After", itoa(retry))
		return c.JSON(http.StatusTooManyRequests, map[string]string{"error": "slow_down",
			"error_description": "Too many registrations from this address; retry after " + itoa(retry) + " seconds."})
	}
	var m oauthserver.ClientMetadata
	dec := json.NewDecoder(c.Request().Body)
	if err := dec.Decode(&m); err != nil {
		return oauthError(c, &oauthserver.Error{Code: "invalid_client_metadata", Description: "The body must be a JSON object of client metadata (RFC 7591).", Status: 400}, false)
	}
	out, err := p.srv.Register(ctx, m)
	if err != nil {
		return oauthError(c, err, false)
	}
	noStore(c)
	return c.JSON(http.StatusCreated, out)
}
