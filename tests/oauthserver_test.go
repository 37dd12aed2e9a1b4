package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/aidawg/jarvis/gen/client"
	"github.com/aidawg/jarvis/services/oauthserver"
)

const userPassword = "correct horse battery staple"

// asServer is a Jarvis that is its own authorization server.
func asServer(t *testing.T, extra env) *server {
	t.Helper()
	e := env{"JARVIS_OAUTH_SERVER": "on", "JARVIS_KEY_CACHE_TTL": "0"}
	for k, v := range extra {
		e[k] = v
	}
	return startServer(t, production(e))
}

func createUser(t *testing.T, s *server, tenant, email string, scopes ...string) oauthserver.User {
	t.Helper()
	if len(scopes) == 0 {
		scopes = []string{"actions:read", "actions:write", "jobs"}
	}
	u, err := oauthserver.NewStore(openDB(t, s), nil).CreateUser(context.Background(), tenant, email, userPassword, scopes)
	require.NoError(t, err)
	return u
}

// userAgent is a browser-like client with cookies that stops at every redirect, so that the test sees
// where Jarvis sends it.
type userAgent struct {
	t    *testing.T
	http *http.Client
}

func newUserAgent(t *testing.T) *userAgent {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &userAgent{t: t, http: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *userAgent) do(req *http.Request) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.http.Do(req)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(b.t, err)
	return resp, string(body)
}

func (b *userAgent) get(u string) (*http.Response, string) {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	require.NoError(b.t, err)
	return b.do(req)
}

func (b *userAgent) post(u string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	require.NoError(b.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

var hiddenField = regexp.MustCompile(`name="(csrf|request)" value="([^"]*)"`)

func formFields(body string) map[string]string {
	out := map[string]string{}
	for _, m := range hiddenField.FindAllStringSubmatch(body, -1) {
		out[m[1]] = m[2]
	}
	return out
}

// signIn posts the login form of a login page.
func (b *userAgent) signIn(s *server, page, email, password string) (*http.Response, string) {
	b.t.Helper()
	f := formFields(page)
	require.NotEmpty(b.t, f["csrf"], "login page: %s", page)
	return b.post(s.URL+"/oauth/login", url.Values{"csrf": {f["csrf"]}, "request": {f["request"]}, "email": {email}, "password": {password}})
}

// approve posts the Allow button of a consent page and returns where Jarvis redirects.
func (b *userAgent) approve(s *server, page string) *url.URL {
	b.t.Helper()
	f := formFields(page)
	require.NotEmpty(b.t, f["csrf"], "consent page: %s", page)
	resp, body := b.post(s.URL+"/oauth/consent", url.Values{"csrf": {f["csrf"]}, "request": {f["request"]}, "decision": {"approve"}})
	require.Equal(b.t, http.StatusSeeOther, resp.StatusCode, body)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(b.t, err)
	return loc
}

// authorize walks a browser through login and consent as far as they are asked for, and
// returns the redirect back to the client.
func (b *userAgent) authorize(s *server, authURL, email string) *url.URL {
	b.t.Helper()
	resp, page := b.get(authURL)
	if resp.StatusCode == http.StatusSeeOther || resp.StatusCode == http.StatusFound {
		loc, err := url.Parse(resp.Header.Get("Location"))
		require.NoError(b.t, err)
		return loc
	}
	require.Equal(b.t, http.StatusOK, resp.StatusCode, page)
	if strings.Contains(page, `action="/oauth/login"`) {
		resp, page = b.signIn(s, page, email, userPassword)
		if resp.StatusCode == http.StatusSeeOther {
			loc, err := url.Parse(resp.Header.Get("Location"))
			require.NoError(b.t, err)
			return loc
		}
		require.Equal(b.t, http.StatusOK, resp.StatusCode, page)
	}
	require.Contains(b.t, page, `action="/oauth/consent"`)
	return b.approve(s, page)
}

// pkceClient drives the protocol by hand with golang.org/x/oauth2, for the negative cases.
type pkceClient struct {
	s        *server
	id       string
	secret   string
	redirect string
}

func (c pkceClient) config() *oauth2.Config {
	style := oauth2.AuthStyleInParams
	if c.secret != "" {
		style = oauth2.AuthStyleInHeader
	}
	return &oauth2.Config{ClientID: c.id, ClientSecret: c.secret, RedirectURL: c.redirect,
		Endpoint: oauth2.Endpoint{AuthURL: c.s.URL + "/oauth/authorize", TokenURL: c.s.URL + "/oauth/token", AuthStyle: style},
		Scopes:   []string{"actions:read", "actions:write", "jobs"}}
}

func (c pkceClient) authURL(verifier string, extra ...oauth2.AuthCodeOption) string {
	return c.config().AuthCodeURL("st-1", append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier)}, extra...)...)
}

// tokenRequest posts to the token endpoint and returns the status and the JSON answer.
func (c pkceClient) tokenRequest(t *testing.T, form url.Values) (int, map[string]any) {
	t.Helper()
	if c.secret == "" {
		form.Set("client_id", c.id)
	}
	req, err := http.NewRequest(http.MethodPost, c.s.URL+"/oauth/token", strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if c.secret != "" {
		req.SetBasicAuth(url.QueryEscape(c.id), url.QueryEscape(c.secret))
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return resp.StatusCode, out
}

func (c pkceClient) exchange(t *testing.T, code, verifier string, extra url.Values) (int, map[string]any) {
	t.Helper()
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {c.redirect}, "code_verifier": {verifier}}
	for k, v := range extra {
		form[k] = v
	}
	return c.tokenRequest(t, form)
}

func (c pkceClient) refresh(t *testing.T, refreshToken string) (int, map[string]any) {
	t.Helper()
	return c.tokenRequest(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}})
}

// register makes a client by dynamic registration.
func register(t *testing.T, s *server, meta map[string]any) (int, map[string]any) {
	t.Helper()
	body, _ := json.Marshal(meta)
	resp, err := http.Post(s.URL+"/oauth/register", "application/json", strings.NewReader(string(body)))
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return resp.StatusCode, out
}

func registerClient(t *testing.T, s *server, redirect, method string) pkceClient {
	t.Helper()
	status, out := register(t, s, map[string]any{"client_name": "Test app", "redirect_uris": []string{redirect}, "token_endpoint_auth_method": method})
	require.Equal(t, http.StatusCreated, status, "%v", out)
	secret, _ := out["client_secret"].(string)
	return pkceClient{s: s, id: out["client_id"].(string), secret: secret, redirect: redirect}
}

// codeFor runs an authorization to its code.
func codeFor(t *testing.T, b *userAgent, c pkceClient, email, verifier string, extra ...oauth2.AuthCodeOption) string {
	t.Helper()
	loc := b.authorize(c.s, c.authURL(verifier, extra...), email)
	require.Empty(t, loc.Query().Get("error"), "%s", loc)
	require.Equal(t, c.s.URL, loc.Query().Get("iss"), "RFC 9207 iss")
	require.Equal(t, "st-1", loc.Query().Get("state"))
	return loc.Query().Get("code")
}

// statusWith is the status of an API call with an access token.
func statusWith(t *testing.T, s *server, token string) int {
	t.Helper()
	resp, _, _ := sendWith(t, s, http.MethodGet, jobsPath, bearer(token), "")
	return resp.StatusCode
}

// mcpStatus is the status of a tools/list on /mcp with an access token.
func mcpStatus(t *testing.T, s *server, token string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+"/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// recorder notes the paths a client fetched.
type recorder struct {
	mu    sync.Mutex
	paths []string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.paths = append(r.paths, req.Method+" "+req.URL.Path)
	r.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

func (r *recorder) seen() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.paths...)
}

// The MCP Go SDK's OAuth client connects to /mcp with nothing but the server's URL: it
// discovers the authorization server from the 401, fetches both metadata documents, registers
// itself, has the user sign in and consent, exchanges the code, and calls tools as that user.
func TestOAuthServerMCPClient(t *testing.T) {
	t.Parallel()
	s := asServer(t, nil)
	createUser(t, s, "acme", "alice@example.com")
	b := newUserAgent(t)
	rec := &recorder{}
	handler, err := auth.NewAuthorizationCodeHandler(&auth.AuthorizationCodeHandlerConfig{
		DynamicClientRegistrationConfig: &auth.DynamicClientRegistrationConfig{Metadata: &oauthex.ClientRegistrationMetadata{
			ClientName: "SDK client", RedirectURIs: []string{"http://127.0.0.1:8976/callback"}, TokenEndpointAuthMethod: "none",
			GrantTypes: []string{"authorization_code", "refresh_token"}, ResponseTypes: []string{"code"}}},
		AuthorizationCodeFetcher: func(ctx context.Context, args *auth.AuthorizationArgs) (*auth.AuthorizationResult, error) {
			loc := b.authorize(s, args.URL, "alice@example.com")
			q := loc.Query()
			if q.Get("error") != "" {
				return nil, fmt.Errorf("authorization failed: %s", q.Get("error"))
			}
			return &auth.AuthorizationResult{Code: q.Get("code"), State: q.Get("state"), Iss: q.Get("iss")}, nil
		},
		Client: &http.Client{Transport: rec, Timeout: 30 * time.Second},
	})
	require.NoError(t, err)
	c := mcp.NewClient(&mcp.Implementation{Name: "oauth-test", Version: "1"}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	session, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: s.URL + "/mcp", OAuthHandler: handler,
		HTTPClient: &http.Client{Timeout: 30 * time.Second}}, nil)
	require.NoError(t, err)
	defer session.Close()

	assert.Subset(t, rec.seen(), []string{"GET /.well-known/oauth-protected-resource/mcp", "GET /.well-known/oauth-authorization-server",
		"POST /oauth/register", "POST /oauth/token"})
	assert.Contains(t, toolNames(t, session), "runValidation")
	res := callTool(t, session, "runValidation", map[string]any{"validationType": "config"})
	assert.False(t, res.IsError, text(res))

	ts, err := handler.TokenSource(ctx)
	require.NoError(t, err)
	tok, err := ts.Token()
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, statusWith(t, s, tok.AccessToken), "a token for /mcp is refused by the API (another audience)")

	// The tool call ran as alice of tenant acme: the request log names her.
	assert.Contains(t, s.Logs.String(), `"user":"alice@example.com"`)
	assert.Contains(t, s.Logs.String(), `"tenant":"acme"`)

	// Refresh rotates the refresh token; the new access token works; after revocation the
	// tokens are refused.
	grants := listGrants(t, s, "alice@example.com")
	require.Len(t, grants, 1)
	clientID := grants[0].ClientID
	pc := pkceClient{s: s, id: clientID, redirect: "http://127.0.0.1:8976/callback"}
	status, fresh := pc.refresh(t, tok.RefreshToken)
	require.Equal(t, http.StatusOK, status, "%v", fresh)
	assert.NotEqual(t, tok.RefreshToken, fresh["refresh_token"])
	access := fresh["access_token"].(string)
	assert.Equal(t, http.StatusOK, mcpStatus(t, s, access))

	resp, err := http.PostForm(s.URL+"/oauth/revoke", url.Values{"client_id": {clientID}, "token": {fresh["refresh_token"].(string)}})
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, http.StatusUnauthorized, mcpStatus(t, s, access), "refused after revocation")
	status, out := pc.refresh(t, fresh["refresh_token"].(string))
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "invalid_grant", out["error"])
}

func listGrants(t *testing.T, s *server, email string) []oauthserver.Grant {
	t.Helper()
	st := oauthserver.NewStore(openDB(t, s), nil)
	u, err := st.GetUserByEmail(context.Background(), email)
	require.NoError(t, err)
	g, err := st.ListGrants(context.Background(), "", u.ID)
	require.NoError(t, err)
	return g
}

func TestOAuthServerMetadata(t *testing.T) {
	t.Parallel()
	s := asServer(t, nil)
	var as map[string]any
	resp, err := http.Get(s.URL + "/.well-known/oauth-authorization-server")
	require.NoError(t, err)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&as))
	resp.Body.Close()
	assert.Equal(t, s.URL, as["issuer"])
	assert.Equal(t, s.URL+"/oauth/authorize", as["authorization_endpoint"])
	assert.Equal(t, s.URL+"/oauth/token", as["token_endpoint"])
	assert.Equal(t, s.URL+"/oauth/register", as["registration_endpoint"])
	assert.Equal(t, s.URL+"/oauth/revoke", as["revocation_endpoint"])
	assert.Equal(t, []any{"S256"}, as["code_challenge_methods_supported"])
	assert.ElementsMatch(t, []any{"authorization_code", "refresh_token"}, as["grant_types_supported"])
	assert.ElementsMatch(t, []any{"none", "client_secret_basic", "client_secret_post"}, as["token_endpoint_auth_methods_supported"])
	assert.Equal(t, true, as["authorization_response_iss_parameter_supported"])
	assert.Equal(t, true, as["client_id_metadata_document_supported"])

	resp, err = http.Get(as["jwks_uri"].(string))
	require.NoError(t, err)
	var jwks struct {
		Keys []map[string]any `json:"keys"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&jwks))
	resp.Body.Close()
	require.Len(t, jwks.Keys, 1)
	assert.Equal(t, "ES256", jwks.Keys[0]["alg"])
	assert.NotContains(t, jwks.Keys[0], "d", "the JWKS holds no private key")

	for path, resource := range map[string]string{"/.well-known/oauth-protected-resource": s.URL, "/.well-known/oauth-protected-resource/mcp": s.URL + "/mcp"} {
		resp, err := http.Get(s.URL + path)
		require.NoError(t, err)
		var prm map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&prm))
		resp.Body.Close()
		assert.Equal(t, resource, prm["resource"])
		assert.Equal(t, []any{s.URL}, prm["authorization_servers"])
	}
	resp, _, _ = sendWith(t, s, http.MethodGet, jobsPath, nil, "")
	assert.Equal(t, `Bearer realm="jarvis", resource_metadata="`+s.URL+`/.well-known/oauth-protected-resource"`, resp.Header.Get("WWW-Authenticate"))
}

// Each way a request can be wrong answers the error the RFCs name for it.
func TestOAuthServerRefusals(t *testing.T) {
	t.Parallel()
	s := asServer(t, nil)
	createUser(t, s, "acme", "bob@example.com")
	b := newUserAgent(t)
	app := registerClient(t, s, "https://app.example.com/cb", "client_secret_basic")
	other := registerClient(t, s, "https://other.example.com/cb", "none")

	t.Run("redirect_uri variants are shown as an error, never redirected to", func(t *testing.T) {
		for name, redirect := range map[string]string{
			"prefix": "https://app.example.com/c", "extra path": "https://app.example.com/cb/more", "other host": "https://evil.example.com/cb",
			"fragment": "https://app.example.com/cb#x", "other scheme": "http://app.example.com/cb",
		} {
			c := app
			c.redirect = redirect
			resp, body := b.get(c.authURL(oauth2.GenerateVerifier()))
			assert.Equal(t, http.StatusBadRequest, resp.StatusCode, name)
			assert.Empty(t, resp.Header.Get("Location"), name)
			assert.Contains(t, body, "invalid_request", name)
		}
	})

	t.Run("a loopback redirect may use any port", func(t *testing.T) {
		loop := registerClient(t, s, "http://127.0.0.1/callback", "none")
		loop.redirect = "http://127.0.0.1:49152/callback"
		resp, body := b.get(loop.authURL(oauth2.GenerateVerifier()))
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Contains(t, body, `action="/oauth/login"`)
	})

	redirectError := func(t *testing.T, authURL string) url.Values {
		t.Helper()
		resp, body := b.get(authURL)
		require.Equal(t, http.StatusFound, resp.StatusCode, body)
		loc, err := url.Parse(resp.Header.Get("Location"))
		require.NoError(t, err)
		assert.Equal(t, "app.example.com", loc.Host)
		assert.Equal(t, s.URL, loc.Query().Get("iss"))
		return loc.Query()
	}
	t.Run("PKCE missing or plain", func(t *testing.T) {
		q := redirectError(t, app.config().AuthCodeURL("st-1"))
		assert.Equal(t, "invalid_request", q.Get("error"))
		assert.Equal(t, "st-1", q.Get("state"))
		v := oauth2.GenerateVerifier()
		q = redirectError(t, app.config().AuthCodeURL("st-1", oauth2.SetAuthURLParam("code_challenge", v), oauth2.SetAuthURLParam("code_challenge_method", "plain")))
		assert.Equal(t, "invalid_request", q.Get("error"))
		assert.Contains(t, q.Get("error_description"), "S256")
	})
	t.Run("an unknown resource", func(t *testing.T) {
		q := redirectError(t, app.authURL(oauth2.GenerateVerifier(), oauth2.SetAuthURLParam("resource", "https://other.example.com/api")))
		assert.Equal(t, "invalid_target", q.Get("error"))
	})
	t.Run("an unknown scope", func(t *testing.T) {
		c := app.config()
		c.Scopes = []string{"everything"}
		q := redirectError(t, c.AuthCodeURL("st-1", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
		assert.Equal(t, "invalid_scope", q.Get("error"))
	})

	t.Run("CSRF token missing on login and consent", func(t *testing.T) {
		nb := newUserAgent(t)
		_, page := nb.get(app.authURL(oauth2.GenerateVerifier()))
		f := formFields(page)
		resp, _ := nb.post(s.URL+"/oauth/login", url.Values{"request": {f["request"]}, "email": {"bob@example.com"}, "password": {userPassword}})
		assert.Equal(t, http.StatusForbidden, resp.StatusCode)
		resp, page = nb.signIn(s, page, "bob@example.com", userPassword)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		f = formFields(page)
		resp, _ = nb.post(s.URL+"/oauth/consent", url.Values{"request": {f["request"]}, "decision": {"approve"}})
		assert.Equal(t, http.StatusForbidden, resp.StatusCode)
		assert.Empty(t, resp.Header.Get("Location"))
		resp, _ = nb.post(s.URL+"/oauth/consent", url.Values{"request": {f["request"]}, "decision": {"approve"}, "csrf": {"forged"}})
		assert.Equal(t, http.StatusForbidden, resp.StatusCode)

		t.Run("consent forged by a GET", func(t *testing.T) {
			resp, _ := nb.get(s.URL + "/oauth/consent?decision=approve&request=" + url.QueryEscape(f["request"]) + "&csrf=" + url.QueryEscape(f["csrf"]))
			assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
			assert.Empty(t, resp.Header.Get("Location"))
			// The real consent still works: nothing was decided by the GET.
			loc := nb.approve(s, page)
			assert.NotEmpty(t, loc.Query().Get("code"))
		})
	})

	t.Run("the login page redirects nowhere it is told to", func(t *testing.T) {
		resp, _ := b.get(s.URL + "/oauth/login?next=https://evil.example.com/&redirect_uri=https://evil.example.com/")
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
		assert.Empty(t, resp.Header.Get("Location"))
		nb := newUserAgent(t)
		_, page := nb.get(app.authURL(oauth2.GenerateVerifier()))
		f := formFields(page)
		resp, body := nb.post(s.URL+"/oauth/login", url.Values{"csrf": {f["csrf"]}, "request": {f["request"]}, "email": {"bob@example.com"},
			"password": {userPassword}, "next": {"https://evil.example.com/"}, "redirect_uri": {"https://evil.example.com/"}, "return_to": {"https://evil.example.com/"}})
		// bob approved this client already: the login goes straight back to the client's own
		// registered redirect URI, whatever the form says.
		require.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
		loc, err := url.Parse(resp.Header.Get("Location"))
		require.NoError(t, err)
		assert.Equal(t, "app.example.com", loc.Host)
		assert.NotContains(t, body, "evil.example.com")
	})

	t.Run("pages cannot be framed", func(t *testing.T) {
		resp, _ := newUserAgent(t).get(app.authURL(oauth2.GenerateVerifier()))
		assert.Contains(t, resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'")
		assert.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"))
	})

	t.Run("code exchange", func(t *testing.T) {
		verifier := oauth2.GenerateVerifier()
		code := codeFor(t, b, app, "bob@example.com", verifier)

		status, out := app.exchange(t, code, oauth2.GenerateVerifier(), nil)
		assert.Equal(t, http.StatusBadRequest, status, "wrong verifier")
		assert.Equal(t, "invalid_grant", out["error"])

		code = codeFor(t, b, app, "bob@example.com", verifier)
		status, out = app.exchange(t, code, "", nil)
		assert.Equal(t, "invalid_grant", out["error"], "verifier missing: %d", status)

		code = codeFor(t, b, app, "bob@example.com", verifier)
		status, out = other.exchange(t, code, verifier, url.Values{"redirect_uri": {app.redirect}})
		assert.Equal(t, http.StatusBadRequest, status, "code for another client")
		assert.Equal(t, "invalid_grant", out["error"])

		code = codeFor(t, b, app, "bob@example.com", verifier)
		status, out = app.exchange(t, code, verifier, url.Values{"resource": {s.URL + "/mcp"}})
		assert.Equal(t, http.StatusBadRequest, status, "resource mismatch")
		assert.Equal(t, "invalid_target", out["error"])

		wrongSecret := app
		wrongSecret.secret = "not-the-secret"
		code = codeFor(t, b, app, "bob@example.com", verifier)
		status, out = wrongSecret.exchange(t, code, verifier, nil)
		assert.Equal(t, http.StatusUnauthorized, status)
		assert.Equal(t, "invalid_client", out["error"])

		code = codeFor(t, b, app, "bob@example.com", verifier)
		status, first := app.exchange(t, code, verifier, nil)
		require.Equal(t, http.StatusOK, status, "%v", first)
		access := first["access_token"].(string)
		assert.Equal(t, http.StatusOK, statusWith(t, s, access))
		assert.Equal(t, http.StatusUnauthorized, mcpStatus(t, s, access), "a token for the API is refused at /mcp (another audience)")

		status, out = app.exchange(t, code, verifier, nil)
		assert.Equal(t, http.StatusBadRequest, status, "code reused")
		assert.Equal(t, "invalid_grant", out["error"])
		assert.Equal(t, http.StatusUnauthorized, statusWith(t, s, access), "the tokens issued from a reused code are revoked")
		status, out = app.refresh(t, first["refresh_token"].(string))
		assert.Equal(t, "invalid_grant", out["error"], "%d", status)
	})

	t.Run("refresh replay revokes the grant", func(t *testing.T) {
		verifier := oauth2.GenerateVerifier()
		code := codeFor(t, b, app, "bob@example.com", verifier, oauth2.SetAuthURLParam("resource", s.URL+"/mcp"))
		status, first := app.exchange(t, code, verifier, url.Values{"resource": {s.URL + "/mcp"}})
		require.Equal(t, http.StatusOK, status, "%v", first)
		assert.Equal(t, http.StatusOK, mcpStatus(t, s, first["access_token"].(string)))
		status, second := app.refresh(t, first["refresh_token"].(string))
		require.Equal(t, http.StatusOK, status, "%v", second)
		status, out := app.refresh(t, first["refresh_token"].(string))
		assert.Equal(t, http.StatusBadRequest, status)
		assert.Equal(t, "invalid_grant", out["error"])
		status, out = app.refresh(t, second["refresh_token"].(string))
		assert.Equal(t, "invalid_grant", out["error"], "the rotated token dies with the grant: %d", status)
		assert.Equal(t, http.StatusUnauthorized, mcpStatus(t, s, second["access_token"].(string)))
	})

	t.Run("unsupported grant type", func(t *testing.T) {
		status, out := app.tokenRequest(t, url.Values{"grant_type": {"password"}, "username": {"bob@example.com"}, "password": {userPassword}})
		assert.Equal(t, http.StatusBadRequest, status)
		assert.Equal(t, "unsupported_grant_type", out["error"])
	})

	t.Run("registration refuses unsafe redirect URIs", func(t *testing.T) {
		for _, r := range []string{"http://app.example.com/cb", "https://app.example.com/cb#f", "javascript:alert(1)", "relative/path"} {
			status, out := register(t, s, map[string]any{"redirect_uris": []string{r}})
			assert.Equal(t, http.StatusBadRequest, status, r)
			assert.Equal(t, "invalid_redirect_uri", out["error"], r)
		}
	})

	t.Run("consent is remembered for the client and scopes", func(t *testing.T) {
		resp, _ := b.get(app.authURL(oauth2.GenerateVerifier()))
		assert.Equal(t, http.StatusSeeOther, resp.StatusCode, "no consent page the second time")
		loc, _ := url.Parse(resp.Header.Get("Location"))
		assert.NotEmpty(t, loc.Query().Get("code"))
		c := app.config()
		c.Scopes = []string{"actions:read"}
		resp, body := b.get(c.AuthCodeURL("st-1", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
		assert.Equal(t, http.StatusOK, resp.StatusCode, "another scope set asks again")
		assert.Contains(t, body, "Allow Test app?")
		assert.Contains(t, body, "app.example.com")
		assert.Contains(t, body, s.URL)
	})
}

// Sign-ins are limited per address and email; dynamic registration per address.
func TestOAuthServerLimits(t *testing.T) {
	t.Parallel()
	s := asServer(t, env{"JARVIS_AUTH_FAILURE_LIMIT": "3/10m", "JARVIS_OAUTH_REGISTRATION_LIMIT": "2/1h"})
	createUser(t, s, "acme", "carol@example.com")
	app := registerClient(t, s, "https://app.example.com/cb", "none")
	b := newUserAgent(t)
	_, page := b.get(app.authURL(oauth2.GenerateVerifier()))
	statuses := []int{}
	for i := 0; i < 3; i++ {
		resp, body := b.signIn(s, page, "carol@example.com", fmt.Sprintf("wrong password %d", i))
		statuses = append(statuses, resp.StatusCode)
		page = body
	}
	assert.Equal(t, []int{http.StatusUnauthorized, http.StatusUnauthorized, http.StatusTooManyRequests}, statuses)
	resp, body := b.signIn(s, page, "carol@example.com", userPassword)
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "the right password is refused too while locked out")
	assert.NotEmpty(t, resp.Header.Get("Retry-After"))
	assert.Contains(t, body, "Too many failed sign-ins")

	status, _ := register(t, s, map[string]any{"redirect_uris": []string{"https://x.example.com/cb"}})
	assert.Equal(t, http.StatusCreated, status, "second registration")
	status, out := register(t, s, map[string]any{"redirect_uris": []string{"https://x.example.com/cb"}})
	assert.Equal(t, http.StatusTooManyRequests, status)
	assert.Equal(t, "slow_down", out["error"])
}

// cimdHost serves Client ID Metadata Documents on loopback.
type cimdHost struct {
	srv     *httptest.Server
	fetches atomic.Int64
	docs    sync.Map // path -> body
}

func newCIMDHost(t *testing.T) *cimdHost {
	h := &cimdHost{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.fetches.Add(1)
		body, ok := h.docs.Load(r.URL.Path)
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "max-age=300")
		io.WriteString(w, body.(string))
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *cimdHost) publish(path string, doc map[string]any) string {
	b, _ := json.Marshal(doc)
	h.docs.Store(path, string(b))
	return h.srv.URL + path
}

// A client named by a metadata document needs no registration; the document must name itself,
// stay small and be on an address Jarvis may fetch.
func TestOAuthServerClientMetadataDocuments(t *testing.T) {
	t.Parallel()
	host := newCIMDHost(t)
	s := asServer(t, env{"JARVIS_OAUTH_CIMD_HOSTS": "127.0.0.1", "JARVIS_SSRF_ALLOW": "127.0.0.1/32", "JARVIS_OAUTH_CIMD_MAX_BYTES": "2K"})
	createUser(t, s, "studio", "dana@example.com")
	b := newUserAgent(t)

	id := host.srv.URL + "/client.json"
	host.publish("/client.json", map[string]any{"client_id": id, "client_name": "Metadata app", "redirect_uris": []string{"https://md.example.com/cb"},
		"token_endpoint_auth_method": "none", "grant_types": []string{"authorization_code", "refresh_token"}})
	c := pkceClient{s: s, id: id, redirect: "https://md.example.com/cb"}
	verifier := oauth2.GenerateVerifier()
	code := codeFor(t, b, c, "dana@example.com", verifier)
	status, tok := c.exchange(t, code, verifier, nil)
	require.Equal(t, http.StatusOK, status, "%v", tok)
	resp, _, _ := sendWith(t, s, http.MethodGet, jobsPath, bearer(tok["access_token"].(string)), "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	line := logLine(t, s, resp.Header.Get("X-Request-ID"))
	assert.Equal(t, "dana@example.com", line["user"])
	assert.Equal(t, "studio", line["tenant"])
	assert.Equal(t, int64(1), host.fetches.Load(), "the document is cached per its max-age")

	refused := map[string]map[string]any{
		"/differs.json": {"client_id": host.srv.URL + "/other.json", "redirect_uris": []string{"https://md.example.com/cb"}},
		"/big.json":     {"client_id": host.srv.URL + "/big.json", "redirect_uris": []string{"https://md.example.com/cb"}, "client_name": strings.Repeat("x", 3000)},
		"/secret.json":  {"client_id": host.srv.URL + "/secret.json", "redirect_uris": []string{"https://md.example.com/cb"}, "token_endpoint_auth_method": "client_secret_basic"},
	}
	for path, doc := range refused {
		u := host.publish(path, doc)
		cc := pkceClient{s: s, id: u, redirect: "https://md.example.com/cb"}
		resp, body := b.get(cc.authURL(oauth2.GenerateVerifier()))
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, path)
		assert.Empty(t, resp.Header.Get("Location"), path)
		assert.Contains(t, body, "invalid_client", path)
	}
	notListed := pkceClient{s: s, id: "https://client.example.net/cimd.json", redirect: "https://md.example.com/cb"}
	_, body := b.get(notListed.authURL(oauth2.GenerateVerifier()))
	assert.Contains(t, body, "JARVIS_OAUTH_CIMD_HOSTS")

	t.Run("on a private address", func(t *testing.T) {
		guarded := asServer(t, env{"JARVIS_OAUTH_CIMD_HOSTS": "*", "JARVIS_OAUTH_REGISTRATION": "off"})
		before := host.fetches.Load()
		cc := pkceClient{s: guarded, id: id, redirect: "https://md.example.com/cb"}
		resp, body := newUserAgent(t).get(cc.authURL(oauth2.GenerateVerifier()))
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
		assert.Contains(t, body, "may not be fetched")
		assert.Equal(t, before, host.fetches.Load(), "nothing reached the private address")

		status, out := register(t, guarded, map[string]any{"redirect_uris": []string{"https://x.example.com/cb"}})
		assert.Equal(t, http.StatusForbidden, status, "registration is off")
		assert.Equal(t, "access_denied", out["error"])
	})
}

// Users see and revoke the apps they signed in to; admins see and revoke anyone's.
func TestOAuthServerGrantsEndpoint(t *testing.T) {
	t.Parallel()
	s := asServer(t, nil)
	createUser(t, s, "acme", "erin@example.com")
	createUser(t, s, "acme", "frank@example.com")
	app := registerClient(t, s, "https://app.example.com/cb", "none")
	tokenOf := func(email string) string {
		verifier := oauth2.GenerateVerifier()
		code := codeFor(t, newUserAgent(t), app, email, verifier)
		status, tok := app.exchange(t, code, verifier, nil)
		require.Equal(t, http.StatusOK, status, "%v", tok)
		return tok["access_token"].(string)
	}
	erin, frank := tokenOf("erin@example.com"), tokenOf("frank@example.com")
	ctx := context.Background()

	list, err := s.Client.ListGrantsWithResponse(ctx, nil, as(erin))
	require.NoError(t, err)
	require.NotNil(t, list.JSON200, "%d %s", list.StatusCode(), list.Body)
	require.Len(t, list.JSON200.Grants, 1)
	g := list.JSON200.Grants[0]
	assert.Equal(t, "erin@example.com", g.User)
	assert.Equal(t, "Test app", g.ClientName)
	assert.Equal(t, s.URL, g.Resource)

	all := true
	denied, err := s.Client.ListGrantsWithResponse(ctx, &client.ListGrantsParams{All: &all}, as(frank))
	require.NoError(t, err)
	assert.Equal(t, http.StatusForbidden, denied.StatusCode())
	everyone, err := s.Client.ListGrantsWithResponse(ctx, &client.ListGrantsParams{All: &all}, as(bootstrapToken))
	require.NoError(t, err)
	require.NotNil(t, everyone.JSON200)
	assert.Len(t, everyone.JSON200.Grants, 2)

	notYours, err := s.Client.RevokeGrantWithResponse(ctx, g.Id, as(frank))
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, notYours.StatusCode())
	assert.Equal(t, http.StatusOK, statusWith(t, s, erin))
	revoked, err := s.Client.RevokeGrantWithResponse(ctx, g.Id, as(erin))
	require.NoError(t, err)
	assert.Equal(t, http.StatusNoContent, revoked.StatusCode())
	assert.Equal(t, http.StatusUnauthorized, statusWith(t, s, erin), "revoked through the endpoint")
	assert.Equal(t, http.StatusOK, statusWith(t, s, frank), "frank's grant stands")
}
