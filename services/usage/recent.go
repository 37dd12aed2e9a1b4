package usage

import (
	"math"
	"slices"
	"sync"
	"time"
)

// Recent keeps each operation's calls, failures, refusals and latency over the last hour (per
// minute) and the last day (per hour), in memory, for the operator console's overview. It
// forgets everything at restart; the daily totals per caller are the Meter's.
type Recent struct {
	now func() time.Time
	mu  sync.Mutex
	ops map[string]*recentOp
}

// latencyBounds are the upper bounds of the latency buckets: 25% apart from 0.1 ms to about
// 100 s, so that a percentile read from them is within 25% of the true one.
var latencyBounds = func() []time.Duration {
	var b []time.Duration
	for d := 100 * time.Microsecond; d < 100*time.Second; d = time.Duration(float64(d) * 1.25) {
		b = append(b, d)
	}
	return b
}()

type recentSlot struct {
	epoch                                int64 // minute or hour since 1970 this slot holds
	calls, clientErr, serverErr, limited int64
	buckets                              []int64 // by latencyBounds, one more for slower
}

func (s *recentSlot) reset(epoch int64) {
	s.epoch = epoch
	s.calls, s.clientErr, s.serverErr, s.limited = 0, 0, 0, 0
	if s.buckets == nil {
		s.buckets = make([]int64, len(latencyBounds)+1)
	} else {
		clear(s.buckets)
	}
}

type recentOp struct {
	minutes [60]recentSlot
	hours   [24]recentSlot
}

// NewRecent returns an empty recorder.
func NewRecent() *Recent { return &Recent{now: time.Now, ops: map[string]*recentOp{}} }

// Record counts one answer of operation with status that took d.
func (r *Recent) Record(operation string, status int, d time.Duration) {
	t := r.now()
	minute, hour := t.Unix()/60, t.Unix()/3600
	b, _ := slices.BinarySearch(latencyBounds, d)
	r.mu.Lock()
	defer r.mu.Unlock()
	op := r.ops[operation]
	if op == nil {
		op = &recentOp{}
		r.ops[operation] = op
	}
	op.minutes[minute%60].add(minute, status, b)
	op.hours[hour%24].add(hour, status, b)
}

func (s *recentSlot) add(epoch int64, status, bucket int) {
	if s.epoch != epoch || s.buckets == nil {
		s.reset(epoch)
	}
	s.calls++
	switch {
	case status == 429:
		s.limited++
	case status >= 500:
		s.serverErr++
	case status >= 400:
		s.clientErr++
	}
	s.buckets[bucket]++
}

// OperationStats are one operation's figures over a window.
type OperationStats struct {
	Operation    string
	Calls        int64
	ClientErrors int64 // 4xx other than 429
	ServerErrors int64 // 5xx
	Limited      int64 // 429: a rate limit or quota refused the call
	// P95 is the upper bound of the latency bucket holding the 95th percentile (within 25% of
	// it); 0 without calls.
	P95 time.Duration
}

// Window is which of the two windows Stats reads.
type Window int

// The windows Stats reads.
const (
	LastHour Window = iota // the current minute and the 59 before it
	LastDay                // the current hour and the 23 before it
)

// Stats is every operation's figures over the window, by operation name.
func (r *Recent) Stats(w Window) []OperationStats {
	t := r.now().Unix()
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]OperationStats, 0, len(r.ops))
	for name, op := range r.ops {
		slots, oldest := op.minutes[:], t/60-59
		if w == LastDay {
			slots, oldest = op.hours[:], t/3600-23
		}
		st := OperationStats{Operation: name}
		buckets := make([]int64, len(latencyBounds)+1)
		for i := range slots {
			s := &slots[i]
			if s.buckets == nil || s.epoch < oldest {
				continue
			}
			st.Calls += s.calls
			st.ClientErrors += s.clientErr
			st.ServerErrors += s.serverErr
			st.Limited += s.limited
			for j, n := range s.buckets {
				buckets[j] += n
			}
		}
		if st.Calls == 0 {
			continue
		}
		st.P95 = percentileBound(buckets, st.Calls, 0.95)
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b OperationStats) int {
		if a.Calls != b.Calls {
			return int(b.Calls - a.Calls)
		}
		if a.Operation < b.Operation {
			return -1
		}
		return 1
	})
	return out
}

// percentileBound is the upper bound of the bucket where the cumulative count reaches the
// nearest rank of p (of total).
func percentileBound(buckets []int64, total int64, p float64) time.Duration {
	rank := int64(math.Ceil(p * float64(total)))
	var seen int64
	for i, n := range buckets {
		seen += n
		if seen >= rank {
			if i < len(latencyBounds) {
				return latencyBounds[i]
			}
			break
		}
	}
	return latencyBounds[len(latencyBounds)-1]
}
