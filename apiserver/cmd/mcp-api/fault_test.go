package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/secrets"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
	"github.com/mcpconn/terraform-provider-mcp/internal/pgtest"
)

// createResult is what one create of a load loop got back.
type createResult struct {
	name    string
	status  int    // 0 when the request failed without an HTTP answer
	body    string // of an answer
	retry   string // Retry-After of an answer
	id      string // of a 201
	err     error
	errTime time.Time // when err was seen
}

// createLoop runs workers that create connections with unique names, one
// after another, until stop is called or a request gets no HTTP answer, and
// keeps every result. pause spaces one worker's requests.
type createLoop struct {
	url, key string
	client   *http.Client
	next     atomic.Int64
	wg       sync.WaitGroup
	done     chan struct{}
	halt     sync.Once

	mu      sync.Mutex
	results []createResult
}

func startCreateLoop(t *testing.T, url, key string, workers int, pause time.Duration) *createLoop {
	t.Helper()
	l := &createLoop{url: url, key: key, done: make(chan struct{}), client: &http.Client{
		Transport: &http.Transport{MaxIdleConnsPerHost: workers},
		Timeout:   time.Minute,
	}}
	t.Cleanup(l.client.CloseIdleConnections)
	for range workers {
		l.wg.Go(func() {
			for {
				select {
				case <-l.done:
					return
				default:
				}
				r := l.create()
				l.mu.Lock()
				l.results = append(l.results, r)
				l.mu.Unlock()
				if r.status == 0 {
					return // no server to talk to any more
				}
				time.Sleep(pause)
			}
		})
	}
	return l
}

func (l *createLoop) create() createResult {
	r := createResult{name: fmt.Sprintf("loop %d", l.next.Add(1))}
	body := fmt.Sprintf(`{"name":%q,"serverUrl":"https://a.example/mcp"}`, r.name)
	req, err := http.NewRequest("POST", l.url+"/api/mcp-connections", strings.NewReader(body))
	if err != nil {
		r.err = err
		return r
	}
	req.Header.Set("Authorization", "Bearer "+l.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := l.client.Do(req)
	if err != nil {
		r.err, r.errTime = err, time.Now()
		return r
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		r.err, r.errTime = err, time.Now()
		return r
	}
	r.status, r.body, r.retry = resp.StatusCode, string(raw), resp.Header.Get("Retry-After")
	if r.status == http.StatusCreated {
		var c contract.Connection
		if err := json.Unmarshal(raw, &c); err != nil || c.Name != r.name {
			r.err = fmt.Errorf("201 with body %s", raw)
		}
		r.id = c.ID
	}
	return r
}

// count returns how many results so far have the status.
func (l *createLoop) count(status int) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, r := range l.results {
		if r.status == status {
			n++
		}
	}
	return n
}

// stop ends the loop, if it is not over yet, and returns its results; it
// may be called more than once.
func (l *createLoop) stop() []createResult {
	l.halt.Do(func() { close(l.done) })
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.results
}

// TestCreateLoopAcrossDatabaseRestart stops PostgreSQL under a running serve
// that is taking creates, and starts it again. While the database is down
// every answer is a 503 with Retry-After, never a 500; afterwards the same
// process serves again, and every create that was answered 201 is there.
// Not parallel: it stops the cluster the package's tests share.
func TestCreateLoopAcrossDatabaseRestart(t *testing.T) {
	env := serveEnv(t)
	key := env["MCP_API_BOOTSTRAP_KEY"]
	s := startServe(t, env, "--no-scheduler")
	cluster := pgtest.SharedCluster(t)

	loop := startCreateLoop(t, s.url, key, 4, 5*time.Millisecond)
	stopped := false
	defer func() {
		loop.stop()
		if stopped {
			if err := cluster.StartServer(); err != nil {
				t.Errorf("restart PostgreSQL: %v", err)
			}
		}
	}()

	s.waitFor(t, func() bool { return loop.count(http.StatusCreated) >= 20 })
	if err := cluster.StopServer(); err != nil {
		t.Fatal(err)
	}
	stopped = true
	s.waitFor(t, func() bool { return loop.count(http.StatusServiceUnavailable) >= 20 })
	if err := cluster.StartServer(); err != nil {
		t.Fatal(err)
	}
	stopped = false
	createdBefore := loop.count(http.StatusCreated)
	s.waitFor(t, func() bool { return loop.count(http.StatusCreated) >= createdBefore+20 })
	results := loop.stop()

	var created []createResult
	unavailable := 0
	for _, r := range results {
		switch {
		case r.err != nil:
			t.Errorf("%s: %v", r.name, r.err)
		case r.status == http.StatusCreated:
			created = append(created, r)
		case r.status == http.StatusServiceUnavailable:
			unavailable++
			if r.body != `{"error":"database unavailable, retry later"}` || r.retry == "" {
				t.Errorf("%s: 503 with body %s, Retry-After %q", r.name, r.body, r.retry)
			}
		default:
			t.Errorf("%s: status %d, body %s; want 201 or, while the database is down, 503", r.name, r.status, r.body)
		}
	}
	t.Logf("%d creates: %d answered 201, %d answered 503", len(results), len(created), unavailable)

	// the same serve process, never restarted, answers for every 201
	for _, r := range created {
		body := get(t, s.url+"/api/mcp-connections/"+r.id, key, http.StatusOK)
		if !strings.Contains(body, fmt.Sprintf(`"name":%q`, r.name)) {
			t.Errorf("%s reads back as %s", r.name, body)
		}
	}
	get(t, s.url+"/readyz", "", http.StatusOK)
	s.stop()
	if code := s.wait(t); code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, s.stderr)
	}
	if strings.Contains(s.stderr.String(), `"status":500`) {
		t.Errorf("a 500 was logged:\n%s", s.stderr)
	}
}

// TestSIGTERMUnderLoad sends SIGTERM while serve is busy: creates arriving
// from a load loop, and 16 creates whose handlers are running (each is
// reading its body, which the test holds back until shutdown has begun).
// The 16 must complete with 201, serve must exit cleanly only after them,
// and no request the server acted on may lose its answer: a loop create that
// got no answer must not have been stored.
// Not parallel: the signal goes to the whole test process.
func TestSIGTERMUnderLoad(t *testing.T) {
	env := serveEnv(t)
	key := env["MCP_API_BOOTSTRAP_KEY"]
	s := startServe(t, env, "--no-scheduler")

	loop := startCreateLoop(t, s.url, key, 8, 0)
	defer loop.stop()

	const inFlight = 16
	type answer struct {
		name   string
		status int
		err    error
	}
	answers := make(chan answer, inFlight)
	var writers []*io.PipeWriter
	var inHandler sync.WaitGroup
	slow := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: time.Minute}}
	t.Cleanup(slow.CloseIdleConnections)
	for i := range inFlight {
		name := fmt.Sprintf("in flight %d", i)
		body, w := io.Pipe()
		writers = append(writers, w)
		req, _ := http.NewRequest("POST", s.url+"/api/mcp-connections", body)
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Expect", "100-continue")
		// the server sends 100 Continue once the handler reads the body
		inHandler.Add(1)
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
			Got100Continue: inHandler.Done,
		}))
		go func() {
			resp, err := slow.Do(req)
			if err != nil {
				answers <- answer{name: name, err: err}
				return
			}
			resp.Body.Close()
			answers <- answer{name: name, status: resp.StatusCode}
		}()
	}
	allIn := make(chan struct{})
	go func() { inHandler.Wait(); close(allIn) }()
	select {
	case <-allIn:
	case a := <-answers:
		t.Fatalf("%s answered before its body was sent: status %d, error %v", a.name, a.status, a.err)
	case <-time.After(90 * time.Second):
		t.Fatal("the in-flight requests did not all reach their handlers")
	}
	s.waitFor(t, func() bool { return loop.count(http.StatusCreated) >= 50 })

	signalled := time.Now()
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	s.waitFor(t, func() bool { return strings.Contains(s.stderr.String(), "shutting down") })
	// the loop keeps going until the closed listener turns it away
	s.waitFor(t, func() bool {
		loop.mu.Lock()
		defer loop.mu.Unlock()
		for _, r := range loop.results {
			if r.status == 0 && r.err != nil {
				return true
			}
		}
		return false
	})
	select {
	case code := <-s.exit:
		t.Fatalf("serve exited (%d) with %d requests still in its handlers", code, inFlight)
	default:
	}
	for i, w := range writers {
		if _, err := fmt.Fprintf(w, `{"name":"in flight %d","serverUrl":"https://a.example/mcp"}`, i); err != nil {
			t.Fatal(err)
		}
		w.Close()
	}
	for range inFlight {
		if a := <-answers; a.err != nil || a.status != http.StatusCreated {
			t.Errorf("%s: status %d, error %v; want 201", a.name, a.status, a.err)
		}
	}
	if code := s.wait(t); code != 0 {
		t.Fatalf("exit %d after SIGTERM; stderr:\n%s", code, s.stderr)
	}
	results := loop.stop()

	ctx := context.Background()
	st, err := store.Open(env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tenant, err := st.TenantForKey(ctx, secrets.HashAPIKey(key))
	if err != nil {
		t.Fatal(err)
	}
	stored := storedNames(t, st, tenant)
	for i := range inFlight {
		if !stored[fmt.Sprintf("in flight %d", i)] {
			t.Errorf("in-flight create %d answered 201 but is not stored", i)
		}
	}
	created, refused := 0, 0
	for _, r := range results {
		switch {
		case r.status == http.StatusCreated && r.err == nil:
			created++
			if !stored[r.name] {
				t.Errorf("%s answered 201 but is not stored", r.name)
			}
		case r.status == 0 && r.err != nil:
			refused++
			if r.errTime.Before(signalled) {
				t.Errorf("%s failed before SIGTERM: %v", r.name, r.err)
			}
			if stored[r.name] {
				t.Errorf("%s was stored, but its answer was lost: %v", r.name, r.err)
			}
		default:
			t.Errorf("%s: status %d, body %s, error %v; want 201", r.name, r.status, r.body, r.err)
		}
	}
	t.Logf("load loop: %d created, %d turned away after SIGTERM", created, refused)
}

// storedNames lists the names of the tenant's connections, read from the
// database directly.
func storedNames(t *testing.T, st *store.Store, tenant uuid.UUID) map[string]bool {
	t.Helper()
	ctx := context.Background()
	names := map[string]bool{}
	var after *store.Cursor
	for {
		rows, next, err := st.ListConnections(ctx, store.ListConnectionsParams{TenantID: tenant, Limit: contract.MaxPageLimit, After: after})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			names[r.Name] = true
		}
		if next == nil {
			return names
		}
		after = next
	}
}
