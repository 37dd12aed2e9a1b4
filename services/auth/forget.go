package auth

// Forget drops a key from this process's cache, so that a revocation made here applies to the
// next call at once (other replicas see it within the cache's TTL).
func (a *Authenticator) Forget(keyID string) {
	a.cache.mu.Lock()
	defer a.cache.mu.Unlock()
	delete(a.cache.entries, keyID)
}
