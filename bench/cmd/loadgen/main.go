// Command loadgen measures an HTTP endpoint under a fixed number of
// concurrent clients: each client sends GETs back to back on a kept-alive
// connection for a fixed time, and every request's latency is recorded.
// It prints one JSON object: requests, errors, throughput and latency
// percentiles. bench/run.sh uses it to measure the API beside pgbench.
//
//	loadgen -url http://127.0.0.1:8080/api/mcp-connections/ID -key KEY -c 32 -d 15s
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"slices"
	"sync"
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
}

func main() {
	url := flag.String("url", "", "`URL` to GET (required)")
	key := flag.String("key", os.Getenv("LOADGEN_API_KEY"), "API key sent as a bearer token (default $LOADGEN_API_KEY)")
	clients := flag.Int("c", 32, "concurrent clients")
	duration := flag.Duration("d", 15*time.Second, "how long to measure")
	warmup := flag.Duration("warmup", 2*time.Second, "how long to send unmeasured requests first")
	flag.Parse()
	if *url == "" || *clients < 1 || *duration <= 0 || *warmup < 0 {
		fmt.Fprintln(os.Stderr, "loadgen: -url is required; -c must be at least 1 and -d positive")
		flag.Usage()
		os.Exit(2)
	}
	res, err := run(*url, *key, *clients, *warmup, *duration)
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

func run(url, key string, clients int, warmup, duration time.Duration) (result, error) {
	transport := &http.Transport{
		// one kept-alive connection per client, as a pool of API clients has
		MaxIdleConns:        clients,
		MaxIdleConnsPerHost: clients,
		MaxConnsPerHost:     clients,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
	}
	defer transport.CloseIdleConnections()
	hc := &http.Client{Transport: transport, Timeout: 30 * time.Second}
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return result{}, err
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	// one request up front, so a wrong URL or key fails fast and clearly
	if err := get(hc, req.Clone(context.Background())); err != nil {
		return result{}, err
	}

	type worker struct {
		latencies []time.Duration
		errors    int
		firstErr  error
	}
	workers := make([]worker, clients)
	start := time.Now()
	measureFrom := start.Add(warmup)
	end := measureFrom.Add(duration)
	var wg sync.WaitGroup
	for i := range workers {
		w := &workers[i]
		// sized for a fast endpoint, so appends rarely allocate mid-run
		w.latencies = make([]time.Duration, 0, 1<<15)
		wg.Go(func() {
			r := req.Clone(context.Background())
			for {
				t0 := time.Now()
				if !t0.Before(end) {
					return
				}
				err := get(hc, r)
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
	res := result{URL: url, Clients: clients, DurationSec: elapsed.Seconds()}
	for _, w := range workers {
		all = append(all, w.latencies...)
		res.Errors += w.errors
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

// get sends req and reads the whole body; anything but a 200 is an error.
func get(hc *http.Client, req *http.Request) error {
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("status %d: %s", resp.StatusCode, body)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}

// percentile is the nearest-rank percentile of sorted latencies.
func percentile(sorted []time.Duration, p float64) time.Duration {
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

func ms(d time.Duration) float64 { return round(float64(d) / float64(time.Millisecond)) }

func round(v float64) float64 { return math.Round(v*1000) / 1000 }
