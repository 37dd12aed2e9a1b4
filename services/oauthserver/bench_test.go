package oauthserver_test

import (
	"context"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/aidawg/jarvis/services/auth"
	"github.com/aidawg/jarvis/services/oauthserver"
	"github.com/aidawg/jarvis/services/storage/storagetest"
)

// What a sign-in's password check costs, beside what checking an access token on every call
// costs (signature, claims and the cached state of its grant).
func BenchmarkPasswordAndToken(b *testing.B) {
	hash, err := oauthserver.HashPassword("a long enough password")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("argon2id-verify", func(b *testing.B) {
		for b.Loop() {
			if ok, _ := oauthserver.VerifyPassword(hash, "a long enough password"); !ok {
				b.Fatal("no match")
			}
		}
	})
	db := storagetest.Open(b, storagetest.SQLiteURL(b))
	keys, err := oauthserver.LoadKeys(b.TempDir(), "", "")
	if err != nil {
		b.Fatal(err)
	}
	srv := oauthserver.New(oauthserver.Config{Issuer: issuer, GrantCacheTTL: time.Minute}, db, keys)
	ctx := context.Background()
	g, err := srv.Store().CreateGrant(ctx, oauthserver.Grant{Tenant: "acme", UserID: "usr_1", ClientID: "cl_1", ClientName: "app", Resource: issuer})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	token, err := srv.Sign(oauthserver.AccessClaims{RegisteredClaims: jwt.RegisteredClaims{Issuer: issuer, Subject: "usr_1",
		Audience: jwt.ClaimStrings{issuer}, ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)), IssuedAt: jwt.NewNumericDate(now)},
		Scope: "actions:read", Tenant: "acme", Email: "a@example.com", GrantID: g.ID})
	if err != nil {
		b.Fatal(err)
	}
	a := auth.New(auth.Config{Local: &auth.LocalConfig{Issuer: issuer, Keys: srv.Keys(), Grants: srv}}, nil)
	creds := auth.Credentials{Authorization: "Bearer " + token, Resource: issuer}
	b.Run("access-token-verify", func(b *testing.B) {
		for b.Loop() {
			if _, err := a.Authenticate(ctx, creds); err != nil {
				b.Fatal(err)
			}
		}
	})
}
