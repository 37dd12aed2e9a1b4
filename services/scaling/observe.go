package scaling

import (
	"context"
	"math"
	"runtime/debug"
	"runtime/metrics"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// requestSeconds is the server's request latency histogram, the API pool's latency.
const requestSeconds = "jarvis_http_request_duration_seconds"

// observer samples the pools over the observation window: slots in use and work queued, and
// the latency histograms, whose difference across the window gives its p95.
type observer struct {
	s      *Service
	gather prometheus.Gatherer
	mu     sync.Mutex
	usage  map[string][]usageSample
	hists  []histSample
}

type usageSample struct {
	at     time.Time
	inUse  int
	queued int
}

type histSample struct {
	at    time.Time
	pools map[string]histogram
}

// histogram is a cumulative histogram: counts[i] observations at most bounds[i].
type histogram struct {
	bounds []float64
	counts []uint64
	total  uint64
}

func newObserver(s *Service, gather prometheus.Gatherer) *observer {
	return &observer{s: s, gather: gather, usage: map[string][]usageSample{}}
}

func (o *observer) sample(ctx context.Context) {
	now := o.s.now()
	type reading struct {
		name   string
		sample usageSample
	}
	var readings []reading
	for _, name := range Pools {
		u := o.s.pools[name].usage()
		queued := 0
		if d, err := o.s.queueDepth(ctx, name, u); err == nil && d != nil {
			queued = *d
		}
		readings = append(readings, reading{name, usageSample{at: now, inUse: u.InUse, queued: queued}})
	}
	hs := histSample{at: now, pools: o.histograms()}
	cutoff := now.Add(-o.s.cfg.Window)
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, r := range readings {
		list := append(o.usage[r.name], r.sample)
		i := sort.Search(len(list), func(i int) bool { return !list[i].at.Before(cutoff) })
		o.usage[r.name] = list[i:]
	}
	o.hists = append(o.hists, hs)
	// Keep the newest sample at or before the window's start, as the baseline of the difference.
	i := sort.Search(len(o.hists), func(i int) bool { return o.hists[i].at.After(cutoff) })
	if i > 0 {
		o.hists = o.hists[i-1:]
	}
}

func (o *observer) histograms() map[string]histogram {
	out := map[string]histogram{}
	if o.gather == nil {
		return out
	}
	families, err := o.gather.Gather()
	if err != nil {
		o.s.log.Warn().Err(err).Msg("gather metrics for the pools' latency")
		return out
	}
	for _, f := range families {
		switch f.GetName() {
		case requestSeconds:
			for _, m := range f.GetMetric() {
				out[API] = add(out[API], m.GetHistogram())
			}
		case "jarvis_pool_work_seconds":
			for _, m := range f.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "pool" {
						out[l.GetValue()] = add(out[l.GetValue()], m.GetHistogram())
					}
				}
			}
		}
	}
	return out
}

// add sums a histogram into h, which has the same buckets when not empty.
func add(h histogram, m *dto.Histogram) histogram {
	buckets := m.GetBucket()
	if h.bounds == nil {
		h.bounds = make([]float64, len(buckets))
		h.counts = make([]uint64, len(buckets))
		for i, b := range buckets {
			h.bounds[i] = b.GetUpperBound()
		}
	}
	for i, b := range buckets {
		if i < len(h.counts) {
			h.counts[i] += b.GetCumulativeCount()
		}
	}
	h.total += m.GetSampleCount()
	return h
}

// p95 is the 95th percentile of a pool's latency over the window, interpolated within its
// bucket as Prometheus's histogram_quantile does; nil without observations in the window.
func (o *observer) p95(name string) *time.Duration {
	o.mu.Lock()
	defer o.mu.Unlock()
	// One sample has no baseline to tell the window's work from all since the start.
	if len(o.hists) < 2 {
		return nil
	}
	last, first := o.hists[len(o.hists)-1].pools[name], o.hists[0].pools[name]
	q, ok := quantile(0.95, diff(last, first))
	if !ok {
		return nil
	}
	d := time.Duration(q * float64(time.Second))
	return &d
}

func diff(last, first histogram) histogram {
	out := histogram{bounds: last.bounds, counts: make([]uint64, len(last.counts)), total: last.total - first.total}
	for i := range last.counts {
		out.counts[i] = last.counts[i]
		if i < len(first.counts) {
			out.counts[i] -= first.counts[i]
		}
	}
	return out
}

func quantile(q float64, h histogram) (float64, bool) {
	if h.total == 0 || len(h.bounds) == 0 {
		return 0, false
	}
	rank := q * float64(h.total)
	lower, below := 0.0, uint64(0)
	for i, upper := range h.bounds {
		if float64(h.counts[i]) >= rank {
			in := h.counts[i] - below
			if in == 0 {
				return upper, true
			}
			return lower + (upper-lower)*(rank-float64(below))/float64(in), true
		}
		lower, below = upper, h.counts[i]
	}
	// Beyond the last bound: the highest finite bound is all that can be said.
	return h.bounds[len(h.bounds)-1], true
}

// observed is a pool's figure of metric over the window: utilization is the mean of the slots
// in use over the limit; queue-depth the mean of the work in use and queued per slot; latency
// the p95 in milliseconds.
func (o *observer) observed(name, metric string, limit int) (float64, bool) {
	if metric == MetricLatency {
		p := o.p95(name)
		if p == nil {
			return 0, false
		}
		return float64(*p) / float64(time.Millisecond), true
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	list := o.usage[name]
	if len(list) == 0 || limit <= 0 {
		return 0, false
	}
	sum := 0
	for _, u := range list {
		sum += u.inUse
		if metric == MetricQueueDepth {
			sum += u.queued
		}
	}
	return float64(sum) / float64(len(list)) / float64(limit), true
}

// Memory is what the process holds, from the Go runtime's own metrics.
type Memory struct {
	HeapBytes  uint64 // live and not yet collected heap objects
	TotalBytes uint64 // all memory the runtime has mapped
	LimitBytes uint64 // GOMEMLIMIT, 0 when unset
}

func readMemory() Memory {
	samples := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/total:bytes"}}
	metrics.Read(samples)
	m := Memory{}
	if samples[0].Value.Kind() == metrics.KindUint64 {
		m.HeapBytes = samples[0].Value.Uint64()
	}
	if samples[1].Value.Kind() == metrics.KindUint64 {
		m.TotalBytes = samples[1].Value.Uint64()
	}
	if limit := debug.SetMemoryLimit(-1); limit > 0 && limit < math.MaxInt64 {
		m.LimitBytes = uint64(limit)
	}
	return m
}
