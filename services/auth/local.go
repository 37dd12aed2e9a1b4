package auth

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/aidawg/jarvis/services"
)

// LocalConfig is Jarvis's own authorization server, whose access tokens are accepted for the
// resource a request is made to.
type LocalConfig struct {
	Issuer string
	Keys   interface {
		PublicKey(kid string) (crypto.PublicKey, bool)
	}
	// Grants says whether the grant a token belongs to still stands: a revoked grant's
	// tokens are refused before they expire.
	Grants interface {
		GrantActive(ctx context.Context, id string) (bool, error)
	}
	Now func() time.Time // nil for the wall clock
}

type localClaims struct {
	jwt.RegisteredClaims
	Scope   string `json:"scope"`
	Tenant  string `json:"tenant"`
	Email   string `json:"email"`
	GrantID string `json:"gid"`
}

type localVerifier struct {
	cfg    LocalConfig
	parser *jwt.Parser
}

func newLocalVerifier(cfg LocalConfig) *localVerifier {
	opts := []jwt.ParserOption{jwt.WithValidMethods([]string{"ES256"}), jwt.WithIssuer(cfg.Issuer), jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(), jwt.WithLeeway(5 * time.Second)}
	if cfg.Now != nil {
		opts = append(opts, jwt.WithTimeFunc(cfg.Now))
	}
	return &localVerifier{cfg: cfg, parser: jwt.NewParser(opts...)}
}

// issuedBy reads a token's iss without verifying it, to choose the verifier; the verifier
// then checks it.
func issuedBy(token string) string {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return ""
	}
	payload, err := jwt.NewParser().DecodeSegment(parts[1])
	if err != nil {
		return ""
	}
	var c struct {
		Iss string `json:"iss"`
	}
	if json.Unmarshal(payload, &c) != nil {
		return ""
	}
	return c.Iss
}

func (v *localVerifier) verify(ctx context.Context, token, resource string) (services.Principal, error) {
	var claims localClaims
	_, err := v.parser.ParseWithClaims(token, &claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		k, ok := v.cfg.Keys.PublicKey(kid)
		if !ok {
			return nil, errors.New("unknown key id")
		}
		return k, nil
	})
	if err != nil {
		return services.Principal{}, &services.Error{Code: services.CodeUnauthorized, Err: err, Detail: tokenDetail(err)}
	}
	if resource == "" || !slices.Contains(claims.Audience, resource) {
		return services.Principal{}, unauthorized("The access token is meant for another resource than " + resource + " (its audience differs). Get a token with resource=" + resource + ".")
	}
	if !usableClaim(claims.Subject) || !usableClaim(claims.Tenant) || !usableClaim(claims.Email) || claims.GrantID == "" {
		return services.Principal{}, unauthorized("The access token lacks the subject, tenant or grant this server puts in its tokens. Sign in again.")
	}
	active, err := v.cfg.Grants.GrantActive(ctx, claims.GrantID)
	if err != nil {
		return services.Principal{}, unavailable("access tokens", err)
	}
	if !active {
		return services.Principal{}, unauthorized("The access token's authorization has been revoked. Sign in again.")
	}
	return services.Principal{Tenant: claims.Tenant, User: claims.Email, Method: services.MethodOAuth2,
		Scopes: tokenClaims{Scope: claims.Scope}.scopes()}, nil
}
