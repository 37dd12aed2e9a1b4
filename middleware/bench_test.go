package middleware_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"

	"github.com/aidawg/jarvis/middleware"
	"github.com/aidawg/jarvis/openapi"
	"github.com/aidawg/jarvis/services/auth"
	"github.com/aidawg/jarvis/services/keys"
	"github.com/aidawg/jarvis/services/ratelimit"
	"github.com/aidawg/jarvis/services/storage"
)

// BenchmarkAuthAndRateLimit measures what authentication, the scope check and the rate limit
// add to a call, against the same bare handler without them, in one process without a
// network between client and server. Run:
//
//	JARVIS_TEST_REDIS_URL=redis://127.0.0.1:6379/0 go test -run '^$' -bench AuthAndRateLimit -benchmem ./middleware/
func BenchmarkAuthAndRateLimit(b *testing.B) {
	spec, err := openapi.Load()
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	db, err := storage.Open(ctx, "sqlite:"+b.TempDir()+"/jarvis.db", b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	_, apiKey, err := keys.NewStore(db).Create(ctx, keys.NewKey{Tenant: "acme", User: "bench", Scopes: []string{"actions:read"}})
	if err != nil {
		b.Fatal(err)
	}
	issuerURL, token := benchIssuer(b)
	authn := auth.New(auth.Config{KeyCacheTTL: time.Minute, OAuth: &auth.OAuthConfig{
		Issuer: issuerURL, Audience: "jarvis", Algorithms: []string{"RS256"}}}, keys.NewStore(db))
	unlimited, err := ratelimit.ParseRates("*=1000000000")
	if err != nil {
		b.Fatal(err)
	}
	cfg := ratelimit.Config{Rates: ratelimit.ResolveRates(unlimited)}

	run := func(b *testing.B, e *echo.Echo, h http.Header) {
		b.ReportAllocs()
		for b.Loop() {
			req := httptest.NewRequest(http.MethodGet, openapi.BasePath+"/", nil)
			for k, v := range h {
				req.Header[k] = v
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		}
	}

	b.Run("bare", func(b *testing.B) { run(b, benchEcho(nil), nil) })

	limiters := map[string]*ratelimit.Limiter{"memory": ratelimit.NewMemory(cfg, zerolog.Nop())}
	if url := strings.TrimSpace(os.Getenv("JARVIS_TEST_REDIS_URL")); url != "" {
		l, err := ratelimit.NewRedis(cfg, zerolog.Nop(), url, "jarvis-bench-"+strings.ToLower(rand.Text()[:8]))
		if err != nil {
			b.Fatal(err)
		}
		defer l.Close()
		limiters["redis"] = l
	}
	for _, store := range []string{"memory", "redis"} {
		lim, ok := limiters[store]
		if !ok {
			b.Run(store, func(b *testing.B) { b.Skip("JARVIS_TEST_REDIS_URL is not set") })
			continue
		}
		e := benchEcho([]echo.MiddlewareFunc{
			middleware.Authenticate(middleware.AuthConfig{Auth: authn, Limiter: lim, Log: zerolog.Nop()}),
			middleware.Authorize(spec),
			middleware.RateLimit(spec, lim),
		})
		b.Run(store+"/apiKey", func(b *testing.B) { run(b, e, http.Header{"X-Api-Key": {apiKey}}) })
		b.Run(store+"/oauth2", func(b *testing.B) { run(b, e, http.Header{"Authorization": {"Bearer " + token}}) })
	}
}

// benchEcho routes getIntegrationInfo's path to a handler that answers a small JSON body.
func benchEcho(mw []echo.MiddlewareFunc) *echo.Echo {
	e := echo.New()
	e.HTTPErrorHandler = middleware.ErrorHandler(zerolog.Nop())
	e.Group(openapi.BasePath, mw...).GET("/", func(c echo.Context) error {
		return c.JSONBlob(http.StatusOK, []byte(`{"ok":true}`))
	})
	return e
}

// benchIssuer serves a JWKS on loopback and returns its issuer URL and a token it signed.
func benchIssuer(b *testing.B) (string, string) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	var url string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			json.NewEncoder(w).Encode(map[string]string{"issuer": url, "jwks_uri": url + "/keys"})
		default:
			json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k", Algorithm: "RS256", Use: "sig"}}})
		}
	}))
	b.Cleanup(srv.Close)
	url = srv.URL
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"iss": url, "aud": "jarvis", "sub": "user",
		"scope": "actions:read", "exp": time.Now().Add(time.Hour).Unix()})
	tok.Header["kid"] = "k"
	signed, err := tok.SignedString(key)
	if err != nil {
		b.Fatal(err)
	}
	return url, signed
}
