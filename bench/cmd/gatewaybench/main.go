// Command gatewaybench measures the gateway: tools/call through
// /mcp/servers/{id} (and /mcp/agents/{id}) against the same upstream called
// directly, in alternating runs, with the Go SDK's client; the API's CPU
// time per proxied call; and the API's RSS with many sessions open.
//
//	gatewaybench -direct URL -gateway URL [-agent URL -agent-tool NAME] -pid API_PID \
//	    [-hold-url URL -hold 1000]
//
// The API key comes from GATEWAYBENCH_API_KEY and the agent token from
// GATEWAYBENCH_AGENT_TOKEN, never from argv. It prints a Markdown report on
// stdout (progress on stderr) and exits 1 when a target is missed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Targets of the Speed section.
const (
	minThroughputRatio = 0.75
	maxP99Ratio        = 1.5
	maxHoldRSSMB       = 200
)

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's CPU times; it is
// 100 on every Linux architecture Go runs on.
const clockTicks = 100

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gatewaybench:", err)
		os.Exit(1)
	}
}

// config is the command line.
type config struct {
	direct, gateway, agent, agentTool, tool, version string
	clients, rounds, hold                            int
	duration, warmup                                 time.Duration
	pid                                              int
	holdURL                                          string
	apiKey, agentToken                               string
}

func run() error {
	var c config
	flag.StringVar(&c.direct, "direct", "", "the upstream's own MCP endpoint")
	flag.StringVar(&c.gateway, "gateway", "", "the upstream's /mcp/servers/{id} endpoint")
	flag.StringVar(&c.agent, "agent", "", "an /mcp/agents/{id} endpoint the upstream is assigned to (optional)")
	flag.StringVar(&c.agentTool, "agent-tool", "", "the tool's name at the agent endpoint (<prefix>__<tool>)")
	flag.StringVar(&c.tool, "tool", "test_simple_text", "the tool called")
	flag.StringVar(&c.version, "version", "2026-07-28", "the protocol version of the measured sessions")
	flag.IntVar(&c.clients, "c", 16, "concurrent sessions")
	flag.IntVar(&c.rounds, "rounds", 6, "rounds of direct, gateway (and agent) runs")
	flag.DurationVar(&c.duration, "d", 4*time.Second, "measured duration of each run")
	flag.DurationVar(&c.warmup, "warmup", time.Second, "unmeasured calls before each run")
	flag.IntVar(&c.pid, "pid", 0, "the API's process id, for its CPU time and RSS")
	flag.StringVar(&c.holdURL, "hold-url", "", "a stateful server's /mcp/servers/{id}, for the RSS with -hold sessions open")
	flag.IntVar(&c.hold, "hold", 1000, "sessions opened and held at -hold-url (2025-06-18)")
	flag.Parse()
	c.apiKey = os.Getenv("GATEWAYBENCH_API_KEY")
	c.agentToken = os.Getenv("GATEWAYBENCH_AGENT_TOKEN")
	if c.direct == "" || c.gateway == "" || c.pid == 0 || c.apiKey == "" {
		return errors.New("-direct, -gateway and -pid are required, and the API key in GATEWAYBENCH_API_KEY")
	}
	if c.agent != "" && (c.agentTool == "" || c.agentToken == "") {
		return errors.New("-agent needs -agent-tool and the agent token in GATEWAYBENCH_AGENT_TOKEN")
	}

	targets := []*target{
		{name: "direct", url: c.direct, tool: c.tool},
		{name: "gateway /mcp/servers/{id}", url: c.gateway, tool: c.tool, bearer: c.apiKey, measureCPU: true},
	}
	agentNote := ""
	if c.agent != "" {
		agent := &target{name: "gateway /mcp/agents/{id}", url: c.agent, tool: c.agentTool, bearer: c.agentToken, measureCPU: true}
		if err := available(c, agent); err != nil {
			agentNote = "agent endpoint not available: " + err.Error()
			fmt.Fprintln(os.Stderr, agentNote)
		} else {
			targets = append(targets, agent)
		}
	}
	for r := 1; r <= c.rounds; r++ {
		// Every other round runs the targets in reverse order, so a
		// machine that speeds up or slows down over the run favours none.
		order := slices.Clone(targets)
		if r%2 == 0 {
			slices.Reverse(order)
		}
		for _, t := range order {
			fmt.Fprintf(os.Stderr, "round %d/%d: %s, %d sessions, %s\n", r, c.rounds, t.name, c.clients, c.duration)
			if err := t.measure(c); err != nil {
				return fmt.Errorf("%s: %w", t.name, err)
			}
		}
	}

	var holdRSS held
	var holdErr error
	if c.holdURL != "" {
		fmt.Fprintf(os.Stderr, "holding %d sessions at 2025-06-18\n", c.hold)
		holdRSS, holdErr = holdSessions(c)
		if holdErr != nil {
			fmt.Fprintln(os.Stderr, "hold:", holdErr)
		}
	}
	return report(c, targets, agentNote, holdRSS, holdErr)
}

// target is one endpoint measured, with every run's figures pooled.
type target struct {
	name, url, tool, bearer string
	measureCPU              bool

	calls, errs int64
	elapsed     time.Duration
	// perRound is each round's calls per second.
	perRound  []float64
	latencies []time.Duration
	cpuTicks  int64
}

// session opens one client session to url at version.
func session(ctx context.Context, url, bearer, version string) (*mcp.ClientSession, error) {
	hc := &http.Client{Transport: http.DefaultTransport}
	if bearer != "" {
		hc.Transport = &authTransport{bearer: bearer, base: http.DefaultTransport}
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "gatewaybench", Version: "1"}, nil)
	return client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url, HTTPClient: hc, MaxRetries: -1},
		&mcp.ClientSessionOptions{ProtocolVersion: version})
}

// authTransport adds the bearer token to every request.
type authTransport struct {
	bearer string
	base   http.RoundTripper
}

func (a *authTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+a.bearer)
	return a.base.RoundTrip(r)
}

// available opens one session to t and calls its tool once.
func available(c config, t *target) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cs, err := session(ctx, t.url, t.bearer, c.version)
	if err != nil {
		return err
	}
	defer func() { _ = cs.Close() }()
	return call(ctx, cs, t.tool)
}

// call calls tool and fails unless it answers with content and no error.
func call(ctx context.Context, cs *mcp.ClientSession, tool string) error {
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: tool})
	if err != nil {
		return err
	}
	if res.IsError || len(res.Content) == 0 {
		return fmt.Errorf("tool %s answered an error or nothing", tool)
	}
	return nil
}

// measure runs c.clients sessions calling t's tool back to back: c.warmup
// unmeasured, then c.duration measured, and adds the figures to t's.
func (t *target) measure(c config) error {
	ctx := context.Background()
	sessions := make([]*mcp.ClientSession, c.clients)
	for i := range sessions {
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		cs, err := session(cctx, t.url, t.bearer, c.version)
		cancel()
		if err != nil {
			return fmt.Errorf("opening session %d: %w", i, err)
		}
		if got := cs.InitializeResult().ProtocolVersion; got != c.version {
			return fmt.Errorf("session negotiated %s, want %s", got, c.version)
		}
		sessions[i] = cs
		defer func() { _ = cs.Close() }()
	}
	var measuring atomic.Bool
	var wg sync.WaitGroup
	lat := make([][]time.Duration, c.clients)
	var calls, errs atomic.Int64
	stop := make(chan struct{})
	for i, cs := range sessions {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				start := time.Now()
				err := call(cctx, cs, t.tool)
				d := time.Since(start)
				cancel()
				if !measuring.Load() {
					continue
				}
				if err != nil {
					errs.Add(1)
					continue
				}
				calls.Add(1)
				lat[i] = append(lat[i], d)
			}
		})
	}
	time.Sleep(c.warmup)
	ticks0, err := cpuTicks(c.pid)
	if err != nil {
		return err
	}
	start := time.Now()
	measuring.Store(true)
	time.Sleep(c.duration)
	measuring.Store(false)
	elapsed := time.Since(start)
	ticks1, err := cpuTicks(c.pid)
	if err != nil {
		return err
	}
	close(stop)
	wg.Wait()
	t.calls += calls.Load()
	t.errs += errs.Load()
	t.elapsed += elapsed
	t.perRound = append(t.perRound, float64(calls.Load())/elapsed.Seconds())
	t.cpuTicks += ticks1 - ticks0
	for _, l := range lat {
		t.latencies = append(t.latencies, l...)
	}
	if calls.Load() == 0 {
		return errors.New("no call succeeded")
	}
	return nil
}

// cpuTicks is the process's user and system CPU time in clock ticks.
func cpuTicks(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("reading the API's CPU time: %w (is -pid the API's process?)", err)
	}
	// The command name (field 2) is in parentheses and may hold spaces;
	// utime and stime are fields 14 and 15, the 12th and 13th after it.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat has %d fields after the name, want at least 13", pid, len(f))
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: utime %q, stime %q are not numbers", pid, f[11], f[12])
	}
	return u + st, nil
}

// rssMB is the process's resident set size (VmRSS) in MB.
func rssMB(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			if err != nil {
				return 0, fmt.Errorf("VmRSS %q: %w", v, err)
			}
			return kb / 1024, nil
		}
	}
	return 0, fmt.Errorf("/proc/%d/status has no VmRSS", pid)
}

// held is the API's RSS (MB) with the held sessions open: after their
// handshakes only, and after one call each.
type held struct{ idle, used float64 }

// holdSessions opens c.hold stateful sessions at 2025-06-18 (each with its
// upstream session behind the gateway), reads the API's RSS while all are
// open, checks that the last one still answers, and closes them.
func holdSessions(c config) (held, error) {
	ctx := context.Background()
	sessions := make([]*mcp.ClientSession, c.hold)
	defer func() {
		var wg sync.WaitGroup
		for _, cs := range sessions {
			if cs != nil {
				wg.Go(func() { _ = cs.Close() })
			}
		}
		wg.Wait()
	}()
	err := onEach(ctx, c.hold, func(ctx context.Context, i int) error {
		cs, err := session(ctx, c.holdURL, c.apiKey, "2025-06-18")
		if err != nil {
			return fmt.Errorf("opening session %d: %w", i, err)
		}
		sessions[i] = cs
		return nil
	})
	if err != nil {
		return held{}, err
	}
	time.Sleep(2 * time.Second) // let the standalone streams settle
	var rss held
	if rss.idle, err = rssMB(c.pid); err != nil {
		return rss, err
	}
	// Then every session makes one call, which opens its upstream session.
	err = onEach(ctx, c.hold, func(ctx context.Context, i int) error {
		if err := call(ctx, sessions[i], c.tool); err != nil {
			return fmt.Errorf("calling in held session %d: %w", i, err)
		}
		return nil
	})
	if err != nil {
		return rss, err
	}
	time.Sleep(2 * time.Second)
	if rss.used, err = rssMB(c.pid); err != nil {
		return rss, err
	}
	return rss, nil
}

// onEach calls do(ctx, i) for every i below n on 16 workers, each call
// bounded by a minute; a worker stops at its first failure, and the first
// failure is returned once all have stopped.
func onEach(ctx context.Context, n int, do func(ctx context.Context, i int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for range 16 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				cctx, cancel := context.WithTimeout(ctx, time.Minute)
				err := do(cctx, i)
				cancel()
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	return firstErr
}

// roundRatios lists t's throughput over direct's round by round, and
// their median: the spread shows how much the machine moved during the
// run, which the pooled ratio the target is judged on averages out.
func roundRatios(t, direct *target) string {
	var rs []float64
	var parts []string
	for i := range min(len(t.perRound), len(direct.perRound)) {
		r := t.perRound[i] / direct.perRound[i]
		rs = append(rs, r)
		parts = append(parts, fmt.Sprintf("%.2f", r))
	}
	if len(rs) == 0 {
		return "—"
	}
	slices.Sort(rs)
	med := rs[len(rs)/2]
	if len(rs)%2 == 0 {
		med = (rs[len(rs)/2-1] + rs[len(rs)/2]) / 2
	}
	return fmt.Sprintf("%s (median %.2f)", strings.Join(parts, ", "), med)
}

// percentile is the q-quantile of the sorted durations (nearest rank).
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*q+0.999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

// report prints the Markdown tables and fails when a target is missed.
func report(c config, targets []*target, agentNote string, holdRSS held, holdErr error) error {
	fmt.Printf("| | calls/s | p50 (ms) | p99 (ms) | errors | API CPU per call (µs) |\n|---|---:|---:|---:|---:|---:|\n")
	rps := map[string]float64{}
	p99 := map[string]time.Duration{}
	for _, t := range targets {
		slices.Sort(t.latencies)
		r := float64(t.calls) / t.elapsed.Seconds()
		rps[t.name], p99[t.name] = r, percentile(t.latencies, 0.99)
		cpu := "—"
		if t.measureCPU && t.calls > 0 {
			cpu = fmt.Sprintf("%.0f", float64(t.cpuTicks)*1e6/clockTicks/float64(t.calls))
		}
		fmt.Printf("| %s | %.0f | %.2f | %.2f | %d | %s |\n", t.name, r, ms(percentile(t.latencies, 0.5)), ms(p99[t.name]), t.errs, cpu)
	}
	if agentNote != "" {
		fmt.Printf("\n%s\n", agentNote)
	}
	fmt.Printf("\n| target | measured | |\n|---|---|---|\n")
	ok := true
	direct := targets[0]
	for _, t := range targets[1:] {
		tr := rps[t.name] / rps[direct.name]
		pr := float64(p99[t.name]) / float64(p99[direct.name])
		ok = ok && tr >= minThroughputRatio && pr <= maxP99Ratio && t.errs == 0
		fmt.Printf("| %s throughput >= %.2f x direct | %.2f x | %s |\n", t.name, minThroughputRatio, tr, verdict(tr >= minThroughputRatio))
		fmt.Printf("| %s p99 <= %.1f x direct | %.2f x | %s |\n", t.name, maxP99Ratio, pr, verdict(pr <= maxP99Ratio))
		if t.errs > 0 {
			fmt.Printf("| %s calls without error | %d failed | MISSED |\n", t.name, t.errs)
		}
		fmt.Printf("| %s throughput, each round's ratio to that round's direct run | %s | (for scale) |\n", t.name, roundRatios(t, direct))
	}
	if c.holdURL != "" {
		if holdErr != nil {
			ok = false
			fmt.Printf("| API RSS with %d sessions open < %d MB | %s | MISSED |\n", c.hold, maxHoldRSSMB, holdErr)
		} else {
			// The target is judged on sessions in use, each holding its
			// upstream session; a session that has only shaken hands holds
			// none yet.
			ok = ok && holdRSS.used < maxHoldRSSMB
			fmt.Printf("| API RSS with %d sessions open, each after one call (its upstream session open) < %d MB | %.1f MB | %s |\n",
				c.hold, maxHoldRSSMB, holdRSS.used, verdict(holdRSS.used < maxHoldRSSMB))
			fmt.Printf("| API RSS with %d sessions open after the handshake only | %.1f MB | (for scale) |\n", c.hold, holdRSS.idle)
		}
	}
	if !ok {
		return errors.New("a target was missed")
	}
	return nil
}
