package health

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpconn/terraform-provider-mcp/internal/mcptest"
)

func newScheduler(tb testing.TB, cfg SchedulerConfig) *Scheduler {
	tb.Helper()
	s, err := NewScheduler(cfg)
	if err != nil {
		tb.Fatalf("NewScheduler: %v", err)
	}
	return s
}

func TestSchedulerChecksDueRows(t *testing.T) {
	e := newEnv(t)
	good := mcptest.StartHTTP(t, mcptest.Config{Instructions: "hello"})
	legacy := mcptest.StartLegacy(t)
	html := mcptest.StartHTML(t)
	want := map[string]string{}
	for i := range 6 {
		url, status := good.URL, "active"
		switch i % 3 {
		case 1:
			url = legacy.URL
		case 2:
			url, status = html.URL, "error"
		}
		want[e.create(t, connName(i), url, "", nil).Name] = status
	}
	c := e.checker(t, e.store, newProber(10*time.Second), time.Hour)
	stop := runScheduler(t, newScheduler(t, SchedulerConfig{Sources: []Source{c}, Concurrency: 2, PollInterval: 10 * time.Millisecond}))

	waitFor(t, "every due connection to be checked", e.allChecked(t))
	if err := stop(); err != nil {
		t.Fatalf("Run = %v, want nil after its context ends", err)
	}
	checkNoLeaks(t)
	for _, conn := range e.all(t) {
		if conn.Status != want[conn.Name] {
			t.Errorf("%s: status %s (lastError %v), want %s", conn.Name, conn.Status, deref(conn.LastError), want[conn.Name])
		}
		if !conn.UpdatedAt.Equal(*conn.LastHealthCheckAt) || !conn.NextCheckAt.Equal(conn.LastHealthCheckAt.Add(time.Hour)) {
			t.Errorf("%s: updatedAt %v, lastHealthCheckAt %v, next %v", conn.Name, conn.UpdatedAt, conn.LastHealthCheckAt, conn.NextCheckAt)
		}
	}
}

// One server that never answers holds one worker until its probe times
// out; the other worker must meanwhile check everything else.
func TestSchedulerHungServerDoesNotDelayOthers(t *testing.T) {
	e := newEnv(t)
	hung := mcptest.StartHung(t)
	good := mcptest.StartHTTP(t, mcptest.Config{})
	// Created first, so it is the most overdue and claimed first.
	stuck := e.create(t, "hung", hung.URL, "", nil)
	for i := range 10 {
		e.create(t, connName(i), good.URL, "", nil)
	}
	// A timeout far longer than the test: only the others finishing first
	// can end the wait below.
	c := e.checker(t, e.store, newProber(10*time.Minute), time.Hour)
	stop := runScheduler(t, newScheduler(t, SchedulerConfig{Sources: []Source{c}, Concurrency: 2, PollInterval: 10 * time.Millisecond}))

	waitFor(t, "the hung server's probe to start", func() bool { return len(hung.Requests()) > 0 })
	waitFor(t, "the other connections to be checked", e.allChecked(t, stuck.ID))
	if got := e.get(t, stuck.ID); got.LastHealthCheckAt != nil {
		t.Fatalf("the hung server's check finished (%v) before the others: the test proves nothing", deref(got.LastError))
	}
	for _, conn := range e.all(t) {
		if conn.ID != stuck.ID && conn.Status != "active" {
			t.Errorf("%s: status %s, lastError %v", conn.Name, conn.Status, deref(conn.LastError))
		}
	}

	// Shutting down waits for the check in flight, which ends when the
	// server drops the connection, and its result is stored.
	// (The client falls back from server/discover to initialize on a new
	// connection, so new connections are refused and open ones dropped
	// until the check has ended.)
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	_ = hung.HTTP.Listener.Close()
	var err error
	for done := false; !done; {
		hung.HTTP.CloseClientConnections()
		select {
		case err = <-stopped:
			done = true
		case <-time.After(10 * time.Millisecond):
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	if got := e.get(t, stuck.ID); got.Status != "error" || got.LastHealthCheckAt == nil {
		t.Fatalf("the in-flight check was not stored before Run returned: %+v", got)
	}
	checkNoLeaks(t)
}

// Two replicas on one database, each with its own scheduler and store
// handle: every connection is checked exactly once per interval.
func TestSchedulerReplicasShareTheWork(t *testing.T) {
	e := newEnv(t)
	srv := startCounting(t, mcptest.Config{})
	const n = 200
	for i := range n {
		e.create(t, connName(i), srv.URL+"?c="+strconv.Itoa(i), "", nil)
	}
	p := newProber(10 * time.Second)
	var replicas [2]*countingSource
	for i := range replicas {
		// Its own pool, as another process would have.
		replicas[i] = &countingSource{Source: e.checker(t, openStore(t, e.url), p, time.Hour)}
	}
	var stops []func() error
	for _, r := range replicas {
		stops = append(stops, runScheduler(t, newScheduler(t, SchedulerConfig{Sources: []Source{r}, Concurrency: 4, PollInterval: 5 * time.Millisecond})))
	}

	waitFor(t, "every connection to be checked", e.allChecked(t))
	// Keep polling a while: a row claimed twice would show up now.
	time.Sleep(200 * time.Millisecond)
	for _, stop := range stops {
		if err := stop(); err != nil {
			t.Fatal(err)
		}
	}

	counts := srv.counts()
	for i := range n {
		if got := counts[strconv.Itoa(i)]; got != 1 {
			t.Errorf("connection %d was checked %d times, want exactly once", i, got)
		}
	}
	if len(counts) != n {
		t.Errorf("the server saw handshakes for %d distinct connections, want %d", len(counts), n)
	}
	a, b := replicas[0].claimed(), replicas[1].claimed()
	if a+b != n || a == 0 || b == 0 {
		t.Errorf("replicas claimed %d and %d checks; want both to take part and %d in all", a, b, n)
	}
	t.Logf("replica checks: %d and %d", a, b)
	for _, conn := range e.all(t) {
		if conn.Status != "active" {
			t.Errorf("%s: status %s, lastError %v", conn.Name, conn.Status, deref(conn.LastError))
		}
	}
}

// A replica that crashes after claiming never records its checks; once the
// lease ends another one takes the rows.
func TestSchedulerRecoversChecksLostInACrash(t *testing.T) {
	e := newEnv(t)
	srv := mcptest.StartHTTP(t, mcptest.Config{})
	for i := range 3 {
		e.create(t, connName(i), srv.URL, "", nil)
	}
	p := newProber(100 * time.Millisecond)
	crashed, err := NewConnectionChecker(CheckerConfig{Store: openStore(t, e.url), Keyring: e.keyring, Prober: p, Interval: time.Hour, Lease: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	lost, err := crashed.Claim(context.Background(), 10)
	if err != nil || len(lost) != 3 {
		t.Fatalf("claim = %d jobs, %v; want all 3", len(lost), err)
	}
	// The jobs are never run: the replica is gone.

	survivor := e.checker(t, e.store, p, time.Hour)
	stop := runScheduler(t, newScheduler(t, SchedulerConfig{Sources: []Source{survivor}, Concurrency: 2, PollInterval: 10 * time.Millisecond}))
	waitFor(t, "the lost checks to be taken over", e.allChecked(t))
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	for _, conn := range e.all(t) {
		if conn.Status != "active" || !conn.NextCheckAt.Equal(conn.LastHealthCheckAt.Add(time.Hour)) {
			t.Errorf("%s: status %s, next check %v after a check at %v", conn.Name, conn.Status, conn.NextCheckAt, conn.LastHealthCheckAt)
		}
	}
}

func TestSchedulerBoundsConcurrency(t *testing.T) {
	e := newEnv(t)
	// A real MCP server that holds every handshake until released.
	srv := mcptest.NewServer(mcptest.Config{})
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, &mcp.StreamableHTTPOptions{Stateless: true})
	var inFlight, peak atomic.Int64
	release := make(chan struct{})
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && isHandshake(r) {
			now := inFlight.Add(1)
			for p := peak.Load(); now > p && !peak.CompareAndSwap(p, now); p = peak.Load() {
			}
			select {
			case <-release:
			case <-r.Context().Done():
			}
			inFlight.Add(-1)
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	const n = 30
	for i := range n {
		e.create(t, connName(i), hs.URL+"/mcp", "", nil)
	}
	src := &countingSource{Source: e.checker(t, e.store, newProber(time.Minute), time.Hour)}
	stop := runScheduler(t, newScheduler(t, SchedulerConfig{Sources: []Source{src}, Concurrency: 3, PollInterval: 5 * time.Millisecond}))

	waitFor(t, "three checks to reach the server", func() bool { return inFlight.Load() == 3 })
	// Checks are claimed ahead of the workers, but no more than the concurrency ahead.
	waitFor(t, "claims ahead of the workers", func() bool { return src.claimed() == 6 })
	close(release)
	waitFor(t, "every connection to be checked", e.allChecked(t))
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if peak.Load() != 3 {
		t.Fatalf("at most %d checks ran at once, want exactly the concurrency 3", peak.Load())
	}
	if src.claimed() != n {
		t.Fatalf("%d checks claimed, want %d", src.claimed(), n)
	}
	checkNoLeaks(t)
}

// A source whose database is gone must not stop the others, nor may a
// panicking check stop the scheduler.
func TestSchedulerSurvivesFailingSourceAndPanics(t *testing.T) {
	e := newEnv(t)
	closed := openStore(t, e.url)
	_ = closed.Close()
	failing := &countingSource{Source: e.checker(t, closed, newProber(time.Second), time.Hour)}
	var ran atomic.Int64
	panicky := &jobSource{fn: func(context.Context) { ran.Add(1); panic("boom") }}
	panicky.left.Store(5)
	stop := runScheduler(t, newScheduler(t, SchedulerConfig{Sources: []Source{failing, panicky}, Concurrency: 2, PollInterval: 5 * time.Millisecond}))
	waitFor(t, "the panicking jobs to run", func() bool { return ran.Load() == 5 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// jobSource hands out a number of jobs that each run fn: a Source for
// behaviour no real check has, such as panicking.
type jobSource struct {
	left atomic.Int64
	fn   func(ctx context.Context)
}

func (s *jobSource) Claim(_ context.Context, n int) ([]Job, error) {
	var jobs []Job
	for range n {
		if s.left.Add(-1) < 0 {
			s.left.Add(1)
			break
		}
		jobs = append(jobs, s.fn)
	}
	return jobs, nil
}

func TestNewSchedulerValidates(t *testing.T) {
	for _, cfg := range []SchedulerConfig{
		{},
		{Sources: []Source{nil}},
		{Sources: []Source{&jobSource{}}, Concurrency: -1},
	} {
		if _, err := NewScheduler(cfg); err == nil {
			t.Errorf("NewScheduler(%+v) accepted a bad config", cfg)
		}
	}
	s := newScheduler(t, SchedulerConfig{Sources: []Source{&jobSource{}}})
	if s.concurrency != DefaultConcurrency || s.poll != DefaultPollInterval {
		t.Fatalf("defaults: concurrency %d, poll %s", s.concurrency, s.poll)
	}
}

// greedySource returns more jobs than asked for.
type greedySource struct{ ran atomic.Int64 }

func (g *greedySource) Claim(_ context.Context, n int) ([]Job, error) {
	jobs := make([]Job, 3*n)
	for i := range jobs {
		jobs[i] = func(context.Context) { g.ran.Add(1) }
	}
	return jobs, nil
}

func TestSchedulerTrimsASourceThatGivesTooMuch(t *testing.T) {
	g := &greedySource{}
	stop := runScheduler(t, newScheduler(t, SchedulerConfig{Sources: []Source{g}, Concurrency: 2, PollInterval: 5 * time.Millisecond}))
	waitFor(t, "jobs to run", func() bool { return g.ran.Load() > 20 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	checkNoLeaks(t)
}
