package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// wrkScript sets the request and prints, at the end, a line of figures to parse.
const wrkScript = `wrk.method = %q
wrk.body = %q
%s
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("jarvis-load %%d %%d %%d %%d %%d %%d\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), e.status, e.connect + e.read + e.write + e.timeout))
end
`

// wrkAttack drives target with wrk (two threads, as the figures were measured) for
// duration. wrk counts statuses outside 2xx and 3xx without telling them apart, so the answer
// passes when none is, or, where expect allows a status of error, when all are.
func wrkAttack(ctx context.Context, dir string, target vegeta.Target, connections int, duration time.Duration, expect map[string]bool) (result, error) {
	var headers strings.Builder
	for name, values := range target.Header {
		for _, v := range values {
			fmt.Fprintf(&headers, "wrk.headers[%q] = %q\n", name, v)
		}
	}
	script := filepath.Join(dir, "request.lua")
	if err := os.WriteFile(script, fmt.Appendf(nil, wrkScript, target.Method, string(target.Body), headers.String()), 0o600); err != nil {
		return result{}, err
	}
	secs := max(int(duration.Round(time.Second)/time.Second), 1)
	cmd := exec.CommandContext(ctx, "wrk", "-t2", "-c"+strconv.Itoa(connections), "-d"+strconv.Itoa(secs)+"s",
		"--timeout", "10s", "-s", script, target.URL)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return result{}, fmt.Errorf("wrk: %w: %s", err, errOut.String())
	}
	var requests, micros, p50, p99, badStatus, socketErrors int64
	found := false
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		if _, err := fmt.Sscanf(sc.Text(), "jarvis-load %d %d %d %d %d %d", &requests, &micros, &p50, &p99, &badStatus, &socketErrors); err == nil {
			found = true
		}
	}
	if !found || requests == 0 || micros == 0 {
		return result{}, fmt.Errorf("wrk printed no figures:\n%s%s", out.String(), errOut.String())
	}
	errorAllowed := false
	for code := range expect {
		if n, _ := strconv.Atoi(code); n >= 400 {
			errorAllowed = true
		}
	}
	statuses := "2xx/3xx×" + strconv.FormatInt(requests, 10)
	if badStatus > 0 {
		statuses = "other×" + strconv.FormatInt(badStatus, 10)
		if badStatus != requests || !errorAllowed {
			return result{}, fmt.Errorf("wrk: %d of %d answers were not 2xx or 3xx", badStatus, requests)
		}
	}
	if socketErrors > 0 {
		return result{}, fmt.Errorf("wrk: %d socket errors", socketErrors)
	}
	return result{
		rate:     float64(requests) / (float64(micros) / 1e6),
		p50:      time.Duration(p50) * time.Microsecond,
		p99:      time.Duration(p99) * time.Microsecond,
		requests: uint64(requests),
		statuses: statuses,
	}, nil
}
