// Command loadgen measures an HTTP endpoint under a fixed number of
// concurrent clients: each client sends GETs back to back on its own
// kept-alive connection for a fixed time, and every request's latency is
// recorded. It prints one JSON object: requests, errors, throughput, latency
// percentiles and the CPU time loadgen itself used. bench/run.sh uses it to
// measure the API beside pgbench.
//
//	loadgen -url http://127.0.0.1:8080/api/mcp-connections/ID -key KEY -c 32 -d 15s
//
// Each client writes its request on a TCP connection and parses the answer
// with net/http's own response reader (http.ReadResponse), reading every
// body to its end. It does not use http.Client: its transport hands every
// request and response between three goroutines, which cost the client more
// CPU per request than the reading itself, and the client shares the
// machine with the server it measures.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	neturl "net/url"
	"os"
	"runtime/pprof"
	"slices"
	"sync"
	"syscall"
	"time"
)

// result is what loadgen prints. Latencies are in milliseconds.
type result struct {
	URL         string  `json:"url"`
	Clients     int     `json:"clients"`
	DurationSec float64 `json:"durationSec"`
	Requests    int     `json:"requests"`
	Errors      int     `json:"errors"`
	FirstError  string  `json:"firstError,omitempty"`
	RPS         float64 `json:"rps"`
	P50ms       float64 `json:"p50ms"`
	P90ms       float64 `json:"p90ms"`
	P99ms       float64 `json:"p99ms"`
	MaxMs       float64 `json:"maxMs"`
	// CPUSec is the user and system CPU time loadgen used, warm-up included.
	CPUSec float64 `json:"cpuSec"`
	// Sent counts every request, warm-up included, for CPU per request.
	Sent int `json:"sent"`
}

func main() {
	url := flag.String("url", "", "`URL` to GET (required)")
	key := flag.String("key", os.Getenv("LOADGEN_API_KEY"), "API key sent as a bearer token (default $LOADGEN_API_KEY)")
	clients := flag.Int("c", 32, "concurrent clients")
	duration := flag.Duration("d", 15*time.Second, "how long to measure")
	warmup := flag.Duration("warmup", 2*time.Second, "how long to send unmeasured requests first")
	cpuProfile := flag.String("cpuprofile", "", "write loadgen's own CPU profile to `FILE`")
	flag.Parse()
	if *url == "" || *clients < 1 || *duration <= 0 || *warmup < 0 {
		fmt.Fprintln(os.Stderr, "loadgen: -url is required; -c must be at least 1 and -d positive")
		flag.Usage()
		os.Exit(2)
	}
	stopProfile := func() {}
	if *cpuProfile != "" {
		var err error
		if stopProfile, err = startProfile(*cpuProfile); err != nil {
			fmt.Fprintln(os.Stderr, "loadgen:", err)
			os.Exit(1)
		}
	}
	res, err := run(*url, *key, *clients, *warmup, *duration)
	stopProfile()
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
	out, _ := json.Marshal(res)
	fmt.Println(string(out))
	if res.Errors > 0 {
		fmt.Fprintf(os.Stderr, "loadgen: %d of %d requests failed; first: %s\n", res.Errors, res.Requests, res.FirstError)
		os.Exit(1)
	}
}

func run(rawURL, key string, clients int, warmup, duration time.Duration) (result, error) {
	target, err := newTarget(rawURL, key)
	if err != nil {
		return result{}, err
	}
	// one request up front, so a wrong URL or key fails fast and clearly
	probe, err := target.dial(time.Now().Add(time.Minute))
	if err != nil {
		return result{}, err
	}
	err = probe.get()
	_ = probe.conn.Close()
	if err != nil {
		return result{}, err
	}

	type worker struct {
		latencies []time.Duration
		sent      int
		errors    int
		firstErr  error
	}
	workers := make([]worker, clients)
	start := time.Now()
	measureFrom := start.Add(warmup)
	end := measureFrom.Add(duration)
	// a deadline well past the end, so a server that stops answering
	// fails the run rather than hanging it
	deadline := end.Add(30 * time.Second)
	var wg sync.WaitGroup
	for i := range workers {
		w := &workers[i]
		// sized for a fast endpoint, so appends rarely allocate mid-run
		w.latencies = make([]time.Duration, 0, 1<<15)
		wg.Go(func() {
			var c *client
			defer func() {
				if c != nil {
					_ = c.conn.Close()
				}
			}()
			for {
				t0 := time.Now()
				if !t0.Before(end) {
					return
				}
				var err error
				if c == nil {
					c, err = target.dial(deadline)
				}
				if c != nil {
					if err = c.get(); err != nil || c.closing {
						// the connection's state is unknown after an error
						_ = c.conn.Close()
						c = nil
					}
				}
				w.sent++
				if t0.Before(measureFrom) {
					continue
				}
				if err != nil {
					w.errors++
					if w.firstErr == nil {
						w.firstErr = err
					}
					continue
				}
				w.latencies = append(w.latencies, time.Since(t0))
			}
		})
	}
	wg.Wait()
	// requests that started before end count, so the window is from
	// measureFrom to when the last of them finished
	elapsed := time.Since(measureFrom)

	var all []time.Duration
	res := result{URL: rawURL, Clients: clients, DurationSec: elapsed.Seconds(), CPUSec: cpuSeconds()}
	for _, w := range workers {
		all = append(all, w.latencies...)
		res.Errors += w.errors
		res.Sent += w.sent
		if w.firstErr != nil && res.FirstError == "" {
			res.FirstError = w.firstErr.Error()
		}
	}
	if len(all) == 0 {
		return res, errors.New("no request succeeded")
	}
	slices.Sort(all)
	res.Requests = len(all) + res.Errors
	res.RPS = round(float64(len(all)) / elapsed.Seconds())
	res.P50ms = ms(percentile(all, 50))
	res.P90ms = ms(percentile(all, 90))
	res.P99ms = ms(percentile(all, 99))
	res.MaxMs = ms(all[len(all)-1])
	return res, nil
}

// target is what every client sends: one GET, written out once.
type target struct {
	addr string
	req  *http.Request // http.ReadResponse reads the body by the request's method
	wire []byte        // req as sent
}

func newTarget(rawURL, key string) (*target, error) {
	u, err := neturl.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("-url: %w", err)
	}
	if u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("-url must be an http:// URL with a host, got %q", rawURL)
	}
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "loadgen")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	var wire bytes.Buffer
	if err := req.Write(&wire); err != nil {
		return nil, err
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	return &target{addr: addr, req: req, wire: wire.Bytes()}, nil
}

// client is one kept-alive connection.
type client struct {
	t       *target
	conn    net.Conn
	r       *bufio.Reader
	closing bool // the server said Connection: close
}

func (t *target) dial(deadline time.Time) (*client, error) {
	conn, err := net.DialTimeout("tcp", t.addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	if err := conn.SetDeadline(deadline); err != nil {
		_ = conn.Close()
		return nil, err
	}
	return &client{t: t, conn: conn, r: bufio.NewReaderSize(conn, 16<<10)}, nil
}

// get sends the request and reads the whole answer; anything but a 200 is
// an error.
func (c *client) get() error {
	if _, err := c.conn.Write(c.t.wire); err != nil {
		return err
	}
	resp, err := http.ReadResponse(c.r, c.t.req)
	if err != nil {
		return err
	}
	c.closing = resp.Close
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		_ = resp.Body.Close()
		return fmt.Errorf("status %d: %s", resp.StatusCode, body)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	if cerr := resp.Body.Close(); err == nil {
		err = cerr
	}
	return err
}

// startProfile starts a CPU profile into path; the returned func ends it.
func startProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
	}, nil
}

// cpuSeconds is the CPU time this process has used so far.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// percentile is the nearest-rank percentile of sorted latencies.
func percentile(sorted []time.Duration, p float64) time.Duration {
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

func ms(d time.Duration) float64 { return round(float64(d) / float64(time.Millisecond)) }

func round(v float64) float64 { return math.Round(v*1000) / 1000 }
