package usercontext

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/rs/zerolog"

	"github.com/aidawg/jarvis/services"
)

// Recorder writes entries off the request path, in the order they were recorded, by one writer
// goroutine. Close writes everything still queued before it returns.
type Recorder struct {
	store   *Store
	log     zerolog.Logger
	queue   chan item
	closed  atomic.Bool
	closeMu sync.RWMutex
	done    chan struct{}
	seq     atomic.Int64
}

type item struct {
	owner services.Owner
	entry Entry
	erase chan error // set for an erase, which waits for its turn in the queue
}

// NewRecorder starts the writer.
func NewRecorder(store *Store, log zerolog.Logger, queueSize int) *Recorder {
	r := &Recorder{store: store, log: log, queue: make(chan item, queueSize), done: make(chan struct{})}
	r.seq.Store(time.Now().UnixNano())
	go r.run()
	return r
}

// ErrClosed is returned once the recorder has been closed.
var ErrClosed = errors.New("recorder closed")

// Record queues an entry for owner. It blocks only when the queue is full, rather than lose it.
func (r *Recorder) Record(owner services.Owner, e Entry) error {
	r.closeMu.RLock()
	defer r.closeMu.RUnlock()
	if r.closed.Load() {
		return ErrClosed
	}
	// Sequence numbers order the history even for entries in the same millisecond.
	e.Seq = r.seq.Add(1)
	r.queue <- item{owner: owner, entry: e}
	return nil
}

// Erase deletes everything remembered of owner, after the entries already queued for them, so
// that nothing recorded before the erase survives it.
func (r *Recorder) Erase(ctx context.Context, owner services.Owner) error {
	done := make(chan error, 1)
	r.closeMu.RLock()
	if r.closed.Load() {
		r.closeMu.RUnlock()
		return ErrClosed
	}
	r.queue <- item{owner: owner, erase: done}
	r.closeMu.RUnlock()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops taking entries and waits until every queued one is written.
func (r *Recorder) Close() error {
	r.closeMu.Lock()
	if !r.closed.Swap(true) {
		close(r.queue)
	}
	r.closeMu.Unlock()
	<-r.done
	return nil
}

// gatherFor is how long the writer waits for more entries before writing what it has: under
// load, larger batches cost far less per entry; when idle, an entry waits this long at most.
const gatherFor = 20 * time.Millisecond

func (r *Recorder) run() {
	defer close(r.done)
	ctx := context.Background()
	var pending []item
	for {
		it, ok := <-r.queue
		if !ok {
			return
		}
		pending = append(pending[:0], it)
		timer := time.NewTimer(gatherFor)
	gather:
		for len(pending) < 1000 {
			select {
			case n, ok := <-r.queue:
				if !ok {
					break gather
				}
				pending = append(pending, n)
			case <-timer.C:
				break gather
			}
		}
		timer.Stop()
		r.flush(ctx, pending)
	}
}

// flush writes gathered items in order: consecutive entries of one user go in one transaction,
// and an erase happens exactly where it was queued.
func (r *Recorder) flush(ctx context.Context, items []item) {
	for i := 0; i < len(items); {
		it := items[i]
		if it.erase != nil {
			it.erase <- r.store.erase(ctx, it.owner)
			i++
			continue
		}
		j := i
		batch := make([]Entry, 0, 16)
		for j < len(items) && items[j].erase == nil && items[j].owner == it.owner && len(batch) < 500 {
			batch = append(batch, items[j].entry)
			j++
		}
		r.write(ctx, it.owner, batch)
		i = j
	}
}

func (r *Recorder) write(ctx context.Context, owner services.Owner, batch []Entry) {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if err = r.store.record(ctx, owner, batch); err == nil {
			return
		}
		time.Sleep(time.Duration(attempt+1) * 50 * time.Millisecond)
	}
	r.log.Error().Err(err).Str("tenant", owner.Tenant).Str("user", owner.User).Int("entries", len(batch)).
		Msg("record user context")
}

// Summarize keeps what a history entry should say of a request body: no secrets, only the
// scheme and host of links (their paths, queries and user info often carry tokens, such as a
// webhook's), no free text beyond 200 characters, and lists reduced to their length.
func Summarize(body map[string]any) map[string]any {
	out := make(map[string]any, len(body))
	for k, v := range body {
		if secretName(k) {
			continue
		}
		out[k] = summarizeValue(v, 0)
	}
	return out
}

// secretNames are parts of a field name that mark its value as a secret, in lower case.
var secretNames = []string{"secret", "token", "password", "apikey", "api_key", "authorization", "credential"}

func secretName(k string) bool {
	for _, s := range secretNames {
		if containsFold(k, s) {
			return true
		}
	}
	return false
}

// containsFold reports whether s contains the lower-case ASCII sub, in any case, without making a
// lower-case copy of s.
func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		j := 0
		for j < len(sub) {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != sub[j] {
				break
			}
			j++
		}
		if j == len(sub) {
			return true
		}
	}
	return false
}

// isLink reports whether s starts like an http or https URL, before parsing it as one.
func isLink(s string) bool {
	return hasPrefixFold(s, "http://") || hasPrefixFold(s, "https://")
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func summarizeValue(v any, depth int) any {
	switch x := v.(type) {
	case string:
		if isLink(x) {
			if u, err := url.Parse(x); err == nil && u.Host != "" {
				return strings.ToLower(u.Scheme) + "://" + u.Host
			}
		}
		if utf8.RuneCountInString(x) > 200 {
			return string([]rune(x)[:200]) + "…"
		}
		return x
	case []any:
		if len(x) <= 3 && depth == 0 && allScalars(x) {
			out := make([]any, len(x))
			for i, e := range x {
				out[i] = summarizeValue(e, depth+1)
			}
			return out
		}
		return map[string]any{"items": len(x)}
	case map[string]any:
		if depth >= 1 {
			return map[string]any{"fields": len(x)}
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			if !secretName(k) {
				out[k] = summarizeValue(e, depth+1)
			}
		}
		return out
	}
	return v
}

func allScalars(list []any) bool {
	for _, e := range list {
		switch e.(type) {
		case map[string]any, []any:
			return false
		}
	}
	return true
}
