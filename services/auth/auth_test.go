package auth

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/keys"
	"github.com/aidawg/jarvis/services/storage/storagetest"
)

// countingStore counts reads and can fail them.
type countingStore struct {
	*keys.Store
	reads atomic.Int64
	fail  atomic.Bool
}

func (s *countingStore) Get(ctx context.Context, id string) (keys.Key, error) {
	s.reads.Add(1)
	if s.fail.Load() {
		return keys.Key{}, errors.New("database is down")
	}
	return s.Store.Get(ctx, id)
}

func code(t *testing.T, err error) services.Code {
	t.Helper()
	se, ok := services.AsError(err)
	require.True(t, ok, "%v", err)
	return se.Code
}

func TestAPIKeysAreCachedForTheTTL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := &countingStore{Store: keys.NewStore(storagetest.Open(t, storagetest.SQLiteURL(t)))}
	k, token, err := store.Create(ctx, keys.NewKey{Tenant: "t", User: "u", Scopes: []string{"jobs"}})
	require.NoError(t, err)

	a := New(Config{KeyCacheTTL: time.Hour}, store)
	for i := 0; i < 3; i++ {
		p, err := a.Authenticate(ctx, Credentials{APIKey: token})
		require.NoError(t, err)
		assert.Equal(t, k.ID, p.KeyID)
	}
	assert.Equal(t, int64(1), store.reads.Load())
	// A cached key still needs its secret.
	wrong := token[:len(token)-1] + "A"
	if wrong == token {
		wrong = token[:len(token)-1] + "B"
	}
	_, err = a.Authenticate(ctx, Credentials{APIKey: wrong})
	assert.Equal(t, services.CodeUnauthorized, code(t, err))

	// Without a cache, a revocation applies to the next call, and an unreadable store is an
	// outage rather than a wrong key.
	b := New(Config{}, store)
	_, err = store.Revoke(ctx, k.ID)
	require.NoError(t, err)
	_, err = b.Authenticate(ctx, Credentials{Authorization: "Bearer " + token})
	assert.Equal(t, services.CodeUnauthorized, code(t, err))
	store.fail.Store(true)
	_, err = b.Authenticate(ctx, Credentials{Authorization: "Bearer " + token})
	assert.Equal(t, services.CodeUnavailable, code(t, err))
}

func TestMethodsAndDevelopment(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := keys.NewStore(storagetest.Open(t, storagetest.SQLiteURL(t)))
	assert.Equal(t, []string{"bearer", "apiKey"}, New(Config{}, store).Methods())
	dev := New(Config{Development: true, AppKey: "a", OAuth: &OAuthConfig{Issuer: "https://id.example.com", Audience: "x"}}, store)
	assert.Equal(t, []string{"bearer", "apiKey", "appKey", "oauth2", "development"}, dev.Methods())
	for _, addr := range []string{"127.0.0.1", "::1", "::ffff:127.0.0.1"} {
		p, err := dev.Authenticate(ctx, Credentials{ClientAddr: addr})
		require.NoError(t, err, addr)
		assert.Equal(t, services.DevelopmentPrincipal, p)
	}
	for _, addr := range []string{"203.0.113.50", "", "localhost"} {
		_, err := dev.Authenticate(ctx, Credentials{ClientAddr: addr})
		assert.Equal(t, services.CodeUnauthorized, code(t, err), "a client at %q", addr)
	}
	_, err := New(Config{}, store).Authenticate(ctx, Credentials{ClientAddr: "127.0.0.1"})
	assert.Equal(t, services.CodeUnauthorized, code(t, err))
}
