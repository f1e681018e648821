package health

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/probe"
	"github.com/mcpconn/terraform-provider-mcp/internal/mcptest"
)

// BenchmarkSchedulerThroughput compares, in one run, the rate of MCP health
// checks through the Scheduler — claiming from PostgreSQL, decrypting,
// probing, recording — with the rate of the same handshakes made by a bare
// loop at the same concurrency against the same local Go-SDK MCP server.
// The ratio is what the scheduler's bookkeeping costs; the target is ≥ 0.7.
//
//	go test -run '^$' -bench BenchmarkScheduler -benchtime 1x ./apiserver/health/
func BenchmarkSchedulerThroughput(b *testing.B) {
	const (
		conns       = 1000
		concurrency = DefaultConcurrency
	)
	e := newEnv(b)
	const token = "bench-token-5f0c2a"
	srv := mcptest.StartHTTP(b, mcptest.Config{Name: "bench", Instructions: "benchmark server", Tools: true, BearerToken: token})
	p := newProber(10 * time.Second)
	target := probe.Target{Transport: contract.TransportHTTP, URL: srv.URL, BearerToken: token}
	// Warm up (heap, server, code) before timing either path.
	probeLoop(b, p, target, 200, concurrency)

	var rawTime, schedTime time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		for j := range conns {
			e.create(b, benchName(i, j), srv.URL, token, e.keyring)
		}
		b.StartTimer()

		// The bare loop runs before and after the scheduler, so that a
		// change in the machine's load during the run (other processes,
		// the database's own background work) weighs on both alike.
		before := probeLoop(b, p, target, conns, concurrency)
		schedTime += schedulerRun(b, e, p, conns, concurrency)
		after := probeLoop(b, p, target, conns, concurrency)
		rawTime += (before + after) / 2
	}
	b.StopTimer()

	for _, c := range e.all(b) {
		if c.Status != "active" {
			b.Fatalf("%s: status %s, lastError %v", c.Name, c.Status, deref(c.LastError))
		}
	}
	raw := float64(conns*b.N) / rawTime.Seconds()
	sched := float64(conns*b.N) / schedTime.Seconds()
	b.ReportMetric(raw, "raw_probes/s")
	b.ReportMetric(sched, "sched_probes/s")
	b.ReportMetric(sched/raw, "ratio")
	b.ReportMetric(0, "ns/op") // one op is two different things; the metrics above are the result
}

// probeLoop makes n probes of target, concurrency at a time, and returns
// how long they took.
func probeLoop(b *testing.B, p *probe.Prober, target probe.Target, n, concurrency int) time.Duration {
	var next atomic.Int64
	var failed atomic.Pointer[string]
	var wg sync.WaitGroup
	start := time.Now()
	for range concurrency {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				if res := p.Probe(context.Background(), target); !res.OK {
					failed.Store(&res.Err)
				}
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	if msg := failed.Load(); msg != nil {
		b.Fatalf("a raw probe failed: %s", *msg)
	}
	return took
}

// schedulerRun runs a Scheduler until n checks are done and stored, and
// returns how long that took.
func schedulerRun(b *testing.B, e *env, p *probe.Prober, n, concurrency int) time.Duration {
	src := &completions{Source: e.checker(b, e.store, p, time.Hour), want: int64(n), done: make(chan struct{})}
	s := newScheduler(b, SchedulerConfig{Sources: []Source{src}, Concurrency: concurrency})
	start := time.Now()
	stop := runScheduler(b, s)
	<-src.done
	// Stopping waits for the last results to be stored; nothing else is
	// due, so that is all it waits for.
	if err := stop(); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

// completions closes done when want of its source's jobs have finished.
type completions struct {
	Source
	want     int64
	finished atomic.Int64
	done     chan struct{}
}

func (c *completions) Claim(ctx context.Context, n int) ([]Job, error) {
	jobs, err := c.Source.Claim(ctx, n)
	for i, job := range jobs {
		jobs[i] = func(ctx context.Context) {
			job(ctx)
			if c.finished.Add(1) == c.want {
				close(c.done)
			}
		}
	}
	return jobs, err
}

func benchName(i, j int) string { return connName(i*100000 + j) }
