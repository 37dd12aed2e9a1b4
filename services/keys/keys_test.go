package keys_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/keys"
	"github.com/aidawg/jarvis/services/storage"
	"github.com/aidawg/jarvis/services/storage/storagetest"
)

func TestStore(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s := keys.NewStore(db)

		k, token, err := s.Create(ctx, keys.NewKey{Name: "GPT prod", Tenant: "acme", User: "gpt",
			Scopes: []string{"jobs", "actions:read", "jobs"}, DailyQuota: 7,
			Limits: map[string]services.Rate{"music.generate": {Limit: 20, Period: time.Hour}, "*": {Limit: 5, Period: time.Minute}}})
		require.NoError(t, err)
		id, secret, ok := keys.Parse(token)
		require.True(t, ok, token)
		assert.Equal(t, k.ID, id)
		assert.Equal(t, []string{"actions:read", "jobs"}, k.Scopes)

		got, err := s.Get(ctx, id)
		require.NoError(t, err)
		assert.True(t, got.Verify(secret))
		assert.False(t, got.Verify(strings.ToUpper(rotate(secret))))
		assert.False(t, got.Verify(""))
		assert.Equal(t, "GPT prod", got.Name)
		assert.Equal(t, int64(7), got.DailyQuota)
		assert.Equal(t, k.Limits, got.Limits)
		assert.False(t, got.Revoked())

		p := got.Principal()
		assert.Equal(t, services.Principal{Tenant: "acme", User: "gpt", KeyID: id, Method: services.MethodAPIKey,
			Scopes: []string{"actions:read", "jobs"}, Limits: k.Limits, DailyQuota: 7}, p)
		assert.Equal(t, "key:"+id, p.Subject())

		// The secret itself is stored nowhere.
		var stored string
		require.NoError(t, db.QueryRowContext(ctx, `SELECT secret_hash FROM api_keys WHERE id = $1`, id).Scan(&stored))
		assert.NotContains(t, stored, secret)
		assert.Len(t, stored, 64)

		_, _, err = s.Create(ctx, keys.NewKey{Tenant: "acme", User: "other", Scopes: []string{"admin"}})
		require.NoError(t, err)
		list, err := s.List(ctx, false)
		require.NoError(t, err)
		assert.Len(t, list, 2)

		revoked, err := s.Revoke(ctx, id)
		require.NoError(t, err)
		assert.True(t, revoked.Revoked())
		list, err = s.List(ctx, false)
		require.NoError(t, err)
		assert.Len(t, list, 1)
		list, err = s.List(ctx, true)
		require.NoError(t, err)
		assert.Len(t, list, 2)

		_, err = s.Get(ctx, "aaaaaaaaaaaa")
		se, ok := services.AsError(err)
		require.True(t, ok, "%v", err)
		assert.Equal(t, services.CodeNotFound, se.Code)
		_, err = s.Revoke(ctx, "aaaaaaaaaaaa")
		se, ok = services.AsError(err)
		require.True(t, ok, "%v", err)
		assert.Equal(t, services.CodeNotFound, se.Code)
	})
}

func rotate(s string) string { return s[1:] + s[:1] }

func TestCreateRejectsBadKeys(t *testing.T) {
	db := storagetest.Open(t, storagetest.SQLiteURL(t))
	s := keys.NewStore(db)
	cases := map[string]keys.NewKey{
		"no user":        {Tenant: "t", Scopes: []string{"jobs"}},
		"slash in user":  {Tenant: "t", User: "a/b", Scopes: []string{"jobs"}},
		"no scopes":      {Tenant: "t", User: "u"},
		"unknown scope":  {Tenant: "t", User: "u", Scopes: []string{"root"}},
		"negative quota": {Tenant: "t", User: "u", Scopes: []string{"jobs"}, DailyQuota: -1},
	}
	for name, n := range cases {
		t.Run(name, func(t *testing.T) {
			_, _, err := s.Create(context.Background(), n)
			se, ok := services.AsError(err)
			require.True(t, ok, "%v", err)
			assert.Equal(t, services.CodeValidation, se.Code)
		})
	}
}

func TestParse(t *testing.T) {
	good := "jv_abcdefgh2345_ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	id, secret, ok := keys.Parse(good)
	require.True(t, ok)
	assert.Equal(t, "abcdefgh2345", id)
	assert.Equal(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZ", secret)
	for _, bad := range []string{
		"", "jv_", "abcdefgh2345_ABCDEFGHIJKLMNOPQRSTUVWXYZ", "jv_abcdefgh2345ABCDEFGHIJKLMNOPQRSTUVWXYZ_",
		"jv_ABCDEFGH2345_ABCDEFGHIJKLMNOPQRSTUVWXYZ", "jv_abcdefgh2345_abcdefghijklmnopqrstuvwxyz",
		"jv_abcdefgh2345_ABCDEFGHIJKLMNOPQRSTUVWXY", "jv_abcdefgh2345_ABCDEFGHIJKLMNOPQRSTUVWXYZ1",
		"jv_abcdefgh0345_ABCDEFGHIJKLMNOPQRSTUVWXYZ",
	} {
		_, _, ok := keys.Parse(bad)
		assert.False(t, ok, bad)
	}
}
