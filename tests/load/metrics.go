package main

import (
	"bufio"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// Histograms of the chain's /metrics the harness reads around the paced phase.
type histograms struct {
	latency    buckets // the operation's own latency, from request read to answer written
	scheduling buckets // how long goroutines made runnable waited for a core
	gcPauses   buckets // the collector's stop-the-world pauses
}

// buckets is a histogram's cumulative count at each upper bound, in seconds.
type buckets map[float64]float64

// readHistograms reads the chain's histograms for operation from its /metrics.
func readHistograms(addr, operation string) (histograms, error) {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return histograms{}, err
	}
	defer resp.Body.Close()
	h := histograms{latency: buckets{}, scheduling: buckets{}, gcPauses: buckets{}}
	series := map[string]buckets{
		`jarvis_http_request_duration_seconds_bucket{operation="` + operation + `",le="`: h.latency,
		`go_sched_latencies_seconds_bucket{le="`:                                         h.scheduling,
		`go_sched_pauses_total_gc_seconds_bucket{le="`:                                   h.gcPauses,
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		for prefix, out := range series {
			line, ok := strings.CutPrefix(sc.Text(), prefix)
			if !ok {
				continue
			}
			le, count, ok := strings.Cut(line, `"} `)
			if !ok {
				continue
			}
			bound, err := strconv.ParseFloat(le, 64) // +Inf included
			if err != nil {
				return histograms{}, fmt.Errorf("metrics line %q: %w", sc.Text(), err)
			}
			n, err := strconv.ParseFloat(count, 64)
			if err != nil {
				return histograms{}, fmt.Errorf("metrics line %q: %w", sc.Text(), err)
			}
			out[bound] = n
		}
	}
	return h, sc.Err()
}

// bucketQuantile is the upper bound of the histogram bucket holding quantile q of what was
// counted between before and after, or 0 when nothing was.
func bucketQuantile(before, after buckets, q float64) float64 {
	bounds := make([]float64, 0, len(after))
	for b := range after {
		bounds = append(bounds, b)
	}
	sort.Float64s(bounds)
	if len(bounds) == 0 {
		return 0
	}
	total := after[bounds[len(bounds)-1]] - before[bounds[len(bounds)-1]]
	if total <= 0 {
		return 0
	}
	for _, b := range bounds {
		if after[b]-before[b] >= q*total {
			return b
		}
	}
	return bounds[len(bounds)-1]
}

// bucketBelow is the largest bucket bound of h at most limit, the bound countOver and shareOver
// count beyond.
func bucketBelow(h buckets, limit float64) float64 {
	best := 0.0
	for b := range h {
		if b <= limit && b > best {
			best = b
		}
	}
	return best
}

// countOver is how many of the values counted between before and after exceeded the largest
// bucket bound at most limit; with a limit below every bound, how many were counted.
func countOver(before, after buckets, limit float64) float64 {
	total := after[math.Inf(1)] - before[math.Inf(1)]
	if bound := bucketBelow(after, limit); bound > 0 {
		return total - (after[bound] - before[bound])
	}
	return total
}

// shareOver is countOver as a share of everything counted between before and after.
func shareOver(before, after buckets, limit float64) float64 {
	total := countOver(before, after, 0)
	if total == 0 {
		return 0
	}
	return countOver(before, after, limit) / total
}
