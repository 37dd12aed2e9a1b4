// Command load measures the whole Jarvis chain against a bare net/http handler in one run, on
// loopback: it builds and starts the real server with the embedded default, starts a bare
// handler answering a fixed JSON (this program again, in a process of its own), and drives each
// at the highest rate it sustains (with wrk when it is installed, else vegeta), taking turns over
// a few rounds and counting each one's median round, then both at half the chain's rate (with
// vegeta, which paces). Where node and npm are installed it also starts
// the replaced Express stack (tools/express-baseline) and measures its highest rate the same way,
// so that the chain is compared with it on this machine. It prints requests per second, p50 and
// p99 of each, and the ratios. Every phase is bounded in time, and vegeta's in requests too; the
// servers it started are stopped before it exits.
//
// Run it with make bench-load. The server's settings besides its address (a key of one's own,
// other limits) are taken from the environment, and -header adds request headers.
package main

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// expressBaseline is the replaced Express stack's rate as recorded in issue 8 (2,400 to 3,000
// requests per second with wrk, on another machine of this kind; they vary by up to 2x). It is
// the comparison only when the stack cannot be measured in the run.
const expressBaseline = 3000.0

type options struct {
	duration    time.Duration
	rounds      int
	maxRequests uint64
	connections int
	path        string
	body        string
	headers     headerFlags
	expect      string
	jarvisBin   string
	profile     string
	generator   string
	halfRate    int
	operation   string
	express     string
}

type headerFlags []string

func (h *headerFlags) String() string     { return strings.Join(*h, ", ") }
func (h *headerFlags) Set(v string) error { *h = append(*h, v); return nil }

func main() {
	if len(os.Args) == 3 && os.Args[1] == "-serve-bare" {
		serveBare(os.Args[2])
		return
	}
	var o options
	flag.DurationVar(&o.duration, "duration", 5*time.Second, "how long each measured phase lasts")
	flag.IntVar(&o.rounds, "rounds", 3, "rounds of highest-rate phases, each server once a round in turn; the median round counts")
	flag.Uint64Var(&o.maxRequests, "max-requests", 1_000_000, "most requests a vegeta phase sends")
	flag.IntVar(&o.connections, "connections", 32, "concurrent connections, each with at most one request in flight")
	flag.StringVar(&o.path, "path", "/integrations/chatgpt/actions/testing/validate", "operation to call")
	flag.StringVar(&o.operation, "operation", "runValidation", "operationId of -path, whose latency histogram the chain reports")
	flag.StringVar(&o.body, "body", `{"validationType":"config"}`, "JSON body to send")
	flag.Var(&o.headers, "header", "request header as Name: value (repeatable)")
	flag.StringVar(&o.expect, "expect", "200", "statuses the chain may answer")
	flag.StringVar(&o.jarvisBin, "jarvis", "", "a built jarvis binary to run instead of building one")
	flag.StringVar(&o.generator, "generator", "auto", "load generator of the highest-rate phases: vegeta, wrk (from Debian's wrk package), or auto: wrk when it is installed")
	flag.StringVar(&o.express, "express", "auto", "measure the replaced Express stack ("+expressDir+") in the same run: on, off, or auto: when node and npm are on PATH")
	flag.IntVar(&o.halfRate, "paced-rate", 0, "rate of the paced phases instead of half the chain's highest rate, such as one the generator can hold")
	flag.StringVar(&o.profile, "cpuprofile", "", "serve the chain inside this process instead, and write a CPU profile of its highest-rate phase to this file; the server's samples carry the label side=server")
	flag.Parse()

	// The generator shares the cores with the servers it measures; collecting its garbage less
	// often leaves them more.
	debug.SetGCPercent(400)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

// serveBare answers every request with a fixed JSON after reading its body, as a handler does.
func serveBare(addr string) {
	answer := []byte(`{"validation":{"valid":true,"validationType":"config","checksRun":0,"issues":[]}}`)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(answer)
	})
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 5 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		_ = srv.Shutdown(context.Background())
	}()
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, "bare:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	if o.express != "auto" && o.express != "on" && o.express != "off" {
		return fmt.Errorf("-express %q: want on, off or auto", o.express)
	}
	dir, err := os.MkdirTemp("", "jarvis-load-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	bin := o.jarvisBin
	if bin == "" && o.profile == "" {
		bin = filepath.Join(dir, "jarvis")
		fmt.Println("building jarvis ...")
		build := exec.CommandContext(ctx, goTool(), "build", "-o", bin, "./cmd/jarvis")
		build.Stdout, build.Stderr = os.Stdout, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("build jarvis: %w", err)
		}
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}

	bareAddr, err := freeLoopbackAddr()
	if err != nil {
		return err
	}
	bare, err := start(ctx, "bare", exec.Command(self, "-serve-bare", bareAddr), bareAddr)
	if err != nil {
		return err
	}
	defer bare.stop()

	chainAddr, err := freeLoopbackAddr()
	if err != nil {
		return err
	}
	var stopChain func()
	if o.profile == "" {
		cmd := exec.Command(bin, "serve")
		cmd.Env = append(os.Environ(), "JARVIS_ADDR="+chainAddr, "JARVIS_PUBLIC_URL=http://"+chainAddr)
		// The whole chain as in production: credentials checked, every call counted against a
		// rate limit (set far above the measured rate), and remembered in a database of its own.
		for k, v := range chainSettings(dir) {
			if _, set := os.LookupEnv(k); !set {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
		}
		chain, err := start(ctx, "jarvis", cmd, chainAddr)
		if err != nil {
			return err
		}
		stopChain = chain.stop
	} else if stopChain, err = serveInProcess(chainAddr, dir); err != nil {
		return err
	}
	defer stopChain()

	token, tokenFromEnv := os.LookupEnv("JARVIS_AUTH_TOKEN")
	if !tokenFromEnv {
		token = loadToken
	}
	var expressAddr string
	if o.express != "off" {
		if expressAddr, err = freeLoopbackAddr(); err != nil {
			return err
		}
		express, err := startExpress(ctx, expressAddr, token)
		switch {
		case err == nil:
			defer express.stop()
		case o.express == "auto" && ctx.Err() == nil:
			fmt.Printf("Express stack not measured: %v\n", err)
			expressAddr = ""
		default:
			return fmt.Errorf("express stack: %w", err)
		}
	}

	header := http.Header{"Content-Type": {"application/json"}}
	if !tokenFromEnv {
		header.Set("Authorization", "Bearer "+loadToken)
	}
	for _, h := range o.headers {
		name, value, ok := strings.Cut(h, ":")
		if !ok {
			return fmt.Errorf("header %q is not Name: value", h)
		}
		header.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	target := func(addr string) vegeta.Target {
		return vegeta.Target{Method: http.MethodPost, URL: "http://" + addr + o.path, Body: []byte(o.body), Header: header}
	}
	expectChain := map[string]bool{}
	for _, s := range strings.Split(o.expect, ",") {
		expectChain[strings.TrimSpace(s)] = true
	}
	expectBare := map[string]bool{"200": true}
	// The Express stack validates against the same contract but answers every accepted request
	// with a 200.
	expectExpress := maps.Clone(expectChain)
	expectExpress["200"] = true

	fmt.Printf("GOMAXPROCS %d, %d connections, %s per phase, at most %d requests each; POST %s %s\n",
		runtime.GOMAXPROCS(0), o.connections, o.duration, o.maxRequests, o.path, o.body)

	// A short warm-up each, so that connections, caches, the heap and the JIT are in place.
	type server struct {
		name, addr string
		expect     map[string]bool
	}
	servers := []server{{"bare handler", bareAddr, expectBare}, {"chain", chainAddr, expectChain}}
	if expressAddr != "" {
		servers = append(servers, server{"express stack", expressAddr, expectExpress})
	}
	for _, t := range servers {
		if _, err := attack(ctx, target(t.addr), 0, o.connections, time.Second, o.maxRequests, t.expect); err != nil {
			return fmt.Errorf("warm-up of the %s: %w", t.name, err)
		}
	}

	highest := func(addr string, expect map[string]bool) (result, error) {
		return attack(ctx, target(addr), 0, o.connections, o.duration, o.maxRequests, expect)
	}
	switch o.generator {
	case "auto":
		if _, err := exec.LookPath("wrk"); err == nil {
			o.generator = "wrk"
		} else {
			o.generator = "vegeta"
		}
	case "vegeta", "wrk":
	default:
		return fmt.Errorf("-generator %q: want vegeta, wrk or auto", o.generator)
	}
	if o.generator == "wrk" {
		highest = func(addr string, expect map[string]bool) (result, error) {
			return wrkAttack(ctx, dir, target(addr), o.connections, o.duration, expect)
		}
	}
	fmt.Printf("highest rates driven by %s, half rates by vegeta\n", o.generator)

	// The servers take turns, round after round, so that a slow spell of the shared machine
	// falls on all of them rather than on one; each one's median round is its figure.
	rounds := make([][]result, len(servers))
	for r := range max(o.rounds, 1) {
		for i, srv := range servers {
			var stopProfile func() error
			if o.profile != "" && r == 0 && srv.addr == chainAddr {
				if stopProfile, err = startProfile(o.profile); err != nil {
					return err
				}
			}
			res, err := highest(srv.addr, srv.expect)
			if stopProfile != nil {
				if perr := stopProfile(); perr != nil {
					return perr
				}
			}
			if err != nil {
				return fmt.Errorf("%s: %w", srv.name, err)
			}
			rounds[i] = append(rounds[i], res)
		}
	}
	bareMax, chainMax := median(rounds[0]), median(rounds[1])
	var expressMax result
	if expressAddr != "" {
		expressMax = median(rounds[2])
	}
	half := int(chainMax.rate / 2)
	if o.halfRate > 0 {
		half = o.halfRate
	}
	before, err := readHistograms(chainAddr, o.operation)
	if err != nil {
		return fmt.Errorf("read the chain's metrics: %w", err)
	}
	chainHalf, err := attack(ctx, target(chainAddr), half, o.connections, o.duration, o.maxRequests, expectChain)
	if err != nil {
		return fmt.Errorf("chain at half rate: %w", err)
	}
	after, err := readHistograms(chainAddr, o.operation)
	if err != nil {
		return fmt.Errorf("read the chain's metrics: %w", err)
	}
	bareHalf, err := attack(ctx, target(bareAddr), half, o.connections, o.duration, o.maxRequests, expectBare)
	if err != nil {
		return fmt.Errorf("bare handler at the chain's half rate: %w", err)
	}

	fmt.Println()
	fmt.Printf("%-34s %10s %10s %10s %9s  %s\n", "phase", "req/s", "p50", "p99", "requests", "statuses")
	type row struct {
		name string
		res  result
	}
	rows := []row{{"bare, highest rate", bareMax}, {"chain, highest rate", chainMax}}
	if expressAddr != "" {
		rows = append(rows, row{"express, highest rate", expressMax})
	}
	rows = append(rows,
		row{fmt.Sprintf("chain paced at %d req/s", half), chainHalf},
		row{fmt.Sprintf("bare at %d req/s", half), bareHalf})
	for _, r := range rows {
		fmt.Printf("%-34s %10.0f %10s %10s %9d  %s\n", r.name, r.res.rate, ms(r.res.p50), ms(r.res.p99), r.res.requests, r.res.statuses)
	}
	fmt.Println()
	fmt.Printf("highest rates are each server's median of %d rounds; every round, req/s:\n", len(rounds[0]))
	for i, srv := range servers {
		rates := make([]string, len(rounds[i]))
		for j, res := range rounds[i] {
			rates[j] = strconv.FormatFloat(res.rate, 'f', 0, 64)
		}
		fmt.Printf("  %-14s %s\n", srv.name, strings.Join(rates, "  "))
	}
	fmt.Println()
	fmt.Printf("chain / bare requests per second: %.2f (target 0.5 or more)\n", chainMax.rate/bareMax.rate)
	if expressAddr != "" {
		fmt.Printf("chain / Express stack measured in this run: %.1fx (target 10x or more)\n", chainMax.rate/expressMax.rate)
	} else {
		fmt.Printf("chain / replaced Express stack, its recorded figure (%.0f req/s, from another machine): %.1fx (target 10x or more)\n",
			expressBaseline, chainMax.rate/expressBaseline)
	}
	fmt.Printf("chain p99 paced at %d req/s, %.2f of its highest rate: %s (target 2ms or less at 0.5; the bare handler's at that rate: %s)\n",
		half, float64(half)/chainMax.rate, ms(chainHalf.p99), ms(bareHalf.p99))
	fmt.Printf("  inside the chain (its own histogram, from request read to answer written): p50 at most %gms, p99 at most %gms\n",
		1000*bucketQuantile(before.latency, after.latency, 0.50), 1000*bucketQuantile(before.latency, after.latency, 0.99))
	// What a request waits for outside its own code: a core for its goroutine, and the
	// collector's stop-the-world pauses. Go's histograms have coarse buckets (about 0.08, 0.9 and
	// 10ms), so these are bounds and shares beyond a bound.
	const ms1 = 0.001
	wait, waitOver := bucketQuantile(before.scheduling, after.scheduling, 0.99), shareOver(before.scheduling, after.scheduling, ms1)
	pause, pauses := bucketQuantile(before.gcPauses, after.gcPauses, 0.99), countOver(before.gcPauses, after.gcPauses, 0)
	fmt.Printf("  and over that phase: goroutines made runnable waited for a core p99 at most %.3gms (%.2f%% of waits over %.2gms); %d GC stop-the-world pauses, p99 at most %.3gms (%d over %.2gms)\n",
		1000*wait, 100*waitOver, 1000*bucketBelow(after.scheduling, ms1), int(pauses), 1000*pause,
		int(countOver(before.gcPauses, after.gcPauses, ms1)), 1000*bucketBelow(after.gcPauses, ms1))
	if o.profile != "" {
		fmt.Printf("CPU profile of the chain's first highest-rate phase (served in process): %s\n", o.profile)
	}
	return nil
}

// median is the result of the median rate.
func median(rs []result) result {
	sorted := slices.Clone(rs)
	slices.SortFunc(sorted, func(a, b result) int { return cmp.Compare(a.rate, b.rate) })
	return sorted[len(sorted)/2]
}

type result struct {
	rate     float64
	p50, p99 time.Duration
	requests uint64
	statuses string
}

// attack sends target at rate requests per second (0: as fast as the connections go) for
// duration or maxRequests, whichever ends first, and fails on a transport error or a status not
// in expect.
func attack(ctx context.Context, target vegeta.Target, rate, connections int, duration time.Duration, maxRequests uint64, expect map[string]bool) (result, error) {
	opts := []func(*vegeta.Attacker){
		vegeta.KeepAlive(true), vegeta.HTTP2(false), vegeta.Timeout(10 * time.Second),
		vegeta.MaxBody(0), // the status is checked; reading bodies would only load the generator
		vegeta.Connections(connections), vegeta.MaxConnections(connections),
		vegeta.Workers(uint64(connections)),
	}
	// At most one request in flight per connection, paced or not: a paced phase the servers cannot
	// keep up with shows as a rate below the one asked, rather than as a pile of waiting workers
	// that loads the generator itself.
	opts = append(opts, vegeta.MaxWorkers(uint64(connections)))
	attacker := vegeta.NewAttacker(opts...)
	pacer := vegeta.Rate{Freq: rate, Per: time.Second}
	// Latencies are kept whole and sorted at the end: exact percentiles, and cheaper per result
	// than an estimator on cores the servers share.
	latencies := make([]time.Duration, 0, 1<<16)
	codes := map[uint16]int{}
	errs := map[string]int{}
	started := time.Now()
	results := attacker.Attack(vegeta.NewStaticTargeter(target), pacer, duration, "load")
	for res := range results {
		latencies = append(latencies, res.Latency)
		codes[res.Code]++
		if res.Error != "" {
			errs[res.Error]++
		}
		if uint64(len(latencies)) >= maxRequests || ctx.Err() != nil {
			attacker.Stop()
		}
	}
	elapsed := time.Since(started)
	if ctx.Err() != nil {
		return result{}, ctx.Err()
	}
	var statuses []string
	var unexpected bool
	for code, n := range codes {
		statuses = append(statuses, fmt.Sprintf("%d×%d", code, n))
		unexpected = unexpected || !expect[strconv.Itoa(int(code))]
	}
	sort.Strings(statuses)
	if unexpected || len(latencies) == 0 {
		return result{}, fmt.Errorf("answered %s; errors: %v", strings.Join(statuses, " "), errs)
	}
	slices.Sort(latencies)
	return result{
		rate:     float64(len(latencies)) / elapsed.Seconds(),
		p50:      percentile(latencies, 0.50),
		p99:      percentile(latencies, 0.99),
		requests: uint64(len(latencies)),
		statuses: strings.Join(statuses, " "),
	}, nil
}

// percentile of sorted latencies, by the nearest rank.
func percentile(sorted []time.Duration, p float64) time.Duration {
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func ms(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 3, 64) + "ms" }

type process struct {
	name string
	cmd  *exec.Cmd
	done chan error
	logs *bytes.Buffer
}

// start runs cmd and waits until it answers on addr.
func start(ctx context.Context, name string, cmd *exec.Cmd, addr string) (*process, error) {
	logs := &bytes.Buffer{}
	cmd.Stdout = nil // /dev/null takes the access log, one line a request, at the cost of its write alone
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, done: make(chan error, 1), logs: logs}
	go func() { p.done <- cmd.Wait() }()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if err := ctx.Err(); err != nil {
			p.stop()
			return nil, err
		}
		resp, err := http.Get("http://" + addr + "/health")
		if err == nil {
			resp.Body.Close()
			return p, nil
		}
		select {
		case err := <-p.done:
			return nil, fmt.Errorf("%s exited before answering: %v\n%s", name, err, logs)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.stop()
			return nil, fmt.Errorf("%s did not answer on %s within 15s: %s", name, addr, logs)
		}
	}
}

// stop asks the process to end and waits for it, killing it after a few seconds.
func (p *process) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func goTool() string {
	if g := os.Getenv("GO"); g != "" {
		return g
	}
	return "go"
}

// loadToken is the bootstrap token the measured server accepts.
const loadToken = "load-harness-bootstrap-token-0123456789abcdef"

func chainSettings(dir string) map[string]string {
	return map[string]string{
		"JARVIS_ENV":         "production",
		"JARVIS_AUTH_TOKEN":  loadToken,
		"JARVIS_RATE_LIMITS": "*=1000000000",
		"JARVIS_DATA_DIR":    filepath.Join(dir, "data"),
		"JARVIS_LOG_LEVEL":   "info",
	}
}
