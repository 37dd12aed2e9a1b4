package usercontext

import (
	"context"
	"sync"
	"time"

	"github.com/aidawg/jarvis/services"
)

// Service is what the rest of Jarvis uses of user contexts.
type Service struct {
	store     *Store
	recorder  *Recorder
	available func(string) bool
	idleTTL   time.Duration

	mu    sync.Mutex
	cache map[services.Owner]cachedPrefs
}

type cachedPrefs struct {
	prefs Preferences
	at    time.Time
}

// prefsCacheFor bounds how stale another replica's preference change can look here; this
// process sees its own changes at once.
const prefsCacheFor = 5 * time.Second

// NewService builds the service. available says which operations recommendations may name;
// contexts idle longer than idleTTL are deleted by DeleteIdle.
func NewService(store *Store, recorder *Recorder, available func(string) bool, idleTTL time.Duration) *Service {
	return &Service{store: store, recorder: recorder, available: available, idleTTL: idleTTL, cache: map[services.Owner]cachedPrefs{}}
}

// Get reads the user's context and the recommendations it leads to.
func (s *Service) Get(ctx context.Context, owner services.Owner, conversationID string) (Context, []Recommendation, error) {
	c, err := s.store.Get(ctx, owner, conversationID)
	if err != nil {
		return c, nil, err
	}
	return c, Recommend(c.History, c.Stats.FavouriteModule, s.available), nil
}

// Recommendations are the next calls suggested for the user.
func (s *Service) Recommendations(ctx context.Context, owner services.Owner) ([]Recommendation, error) {
	_, recs, err := s.Get(ctx, owner, "")
	return recs, err
}

// Preferences are the user's preferences, from a short-lived cache: they are read on every
// action to apply default params.
func (s *Service) Preferences(ctx context.Context, owner services.Owner) (Preferences, error) {
	s.mu.Lock()
	c, ok := s.cache[owner]
	s.mu.Unlock()
	if ok && time.Since(c.at) < prefsCacheFor {
		return c.prefs, nil
	}
	p, err := s.store.Preferences(ctx, owner)
	if err != nil {
		return p, err
	}
	s.mu.Lock()
	if len(s.cache) > 10000 {
		clear(s.cache)
	}
	s.cache[owner] = cachedPrefs{p, time.Now()}
	s.mu.Unlock()
	return p, nil
}

// SetPreferences replaces the user's preferences.
func (s *Service) SetPreferences(ctx context.Context, owner services.Owner, p Preferences) error {
	if err := s.store.SetPreferences(ctx, owner, p); err != nil {
		return err
	}
	s.forget(owner)
	return nil
}

// Erase deletes everything remembered of the user.
func (s *Service) Erase(ctx context.Context, owner services.Owner) error {
	err := s.recorder.Erase(ctx, owner)
	s.forget(owner)
	return err
}

func (s *Service) forget(owner services.Owner) {
	s.mu.Lock()
	delete(s.cache, owner)
	s.mu.Unlock()
}

// DeleteIdle erases contexts idle longer than the configured time.
func (s *Service) DeleteIdle(ctx context.Context) error {
	_, err := s.store.DeleteIdle(ctx, time.Now().Add(-s.idleTTL))
	return err
}

// Close writes what is still queued.
func (s *Service) Close() error { return s.recorder.Close() }
