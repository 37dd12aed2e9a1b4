package scaling

import (
	"context"
	"sync"
)

// Limiter is a counting semaphore whose size can change while it is held: raising the limit
// lets waiters in at once; lowering it lets the holders above the new limit finish, and admits
// no one until in use is below it.
type Limiter struct {
	mu      sync.Mutex
	limit   int
	inUse   int
	waiting int
	wake    chan struct{} // closed and replaced whenever a slot may have come free
}

// NewLimiter is a limiter of limit slots.
func NewLimiter(limit int) *Limiter {
	return &Limiter{limit: limit, wake: make(chan struct{})}
}

// TryAcquire takes a slot if one is free.
func (l *Limiter) TryAcquire() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.inUse < l.limit {
		l.inUse++
		return true
	}
	return false
}

// Acquire waits for a slot until ctx ends.
func (l *Limiter) Acquire(ctx context.Context) error {
	l.mu.Lock()
	counted := false
	defer func() {
		if counted {
			l.mu.Lock()
			l.waiting--
			l.mu.Unlock()
		}
	}()
	for {
		if l.inUse < l.limit {
			l.inUse++
			l.mu.Unlock()
			return nil
		}
		if !counted {
			l.waiting++
			counted = true
		}
		wake := l.wake
		l.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		}
		l.mu.Lock()
	}
}

// Release gives a slot back.
func (l *Limiter) Release() {
	l.mu.Lock()
	l.inUse--
	l.broadcast()
	l.mu.Unlock()
}

// SetLimit changes the number of slots.
func (l *Limiter) SetLimit(n int) {
	l.mu.Lock()
	l.limit = n
	l.broadcast()
	l.mu.Unlock()
}

func (l *Limiter) broadcast() {
	close(l.wake)
	l.wake = make(chan struct{})
}

// Usage is a limiter's state at one moment.
type Usage struct {
	Limit, InUse, Waiting int
}

// Usage reads the limit, the slots in use and the callers waiting.
func (l *Limiter) Usage() Usage {
	l.mu.Lock()
	defer l.mu.Unlock()
	return Usage{Limit: l.limit, InUse: l.inUse, Waiting: l.waiting}
}
