package health

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/probe"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/secrets"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
	"github.com/mcpconn/terraform-provider-mcp/internal/mcptest"
	"github.com/mcpconn/terraform-provider-mcp/internal/pgtest"
	"github.com/mcpconn/terraform-provider-mcp/internal/poll"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// env is a migrated database with one tenant, and the keyring and prober a
// checkers on it use.
type env struct {
	url     string
	store   *store.Store
	keyring *secrets.Keyring
	tenant  uuid.UUID
}

func newEnv(tb testing.TB) *env {
	tb.Helper()
	url := pgtest.NewDatabase(tb)
	st := openStore(tb, url)
	if err := st.Migrate(context.Background()); err != nil {
		tb.Fatalf("Migrate: %v", err)
	}
	tenant, err := st.CreateTenant(context.Background(), "acme")
	if err != nil {
		tb.Fatalf("CreateTenant: %v", err)
	}
	return &env{url: url, store: st, keyring: newKeyring(tb), tenant: tenant.ID}
}

func openStore(tb testing.TB, url string) *store.Store {
	tb.Helper()
	st, err := store.Open(url)
	if err != nil {
		tb.Fatalf("store.Open: %v", err)
	}
	tb.Cleanup(func() { _ = st.Close() })
	return st
}

func newKeyring(tb testing.TB) *secrets.Keyring {
	tb.Helper()
	key := make([]byte, secrets.KeySize)
	_, _ = rand.Read(key)
	kr, err := secrets.NewKeyring(key)
	if err != nil {
		tb.Fatal(err)
	}
	return kr
}

// newProber reaches the loopback test servers.
func newProber(timeout time.Duration) *probe.Prober {
	return probe.New(probe.Options{Timeout: timeout, AllowPrivate: true})
}

// checker is a ConnectionChecker on e's store with the given prober and interval.
func (e *env) checker(tb testing.TB, st *store.Store, p *probe.Prober, interval time.Duration) *ConnectionChecker {
	tb.Helper()
	c, err := NewConnectionChecker(CheckerConfig{Store: st, Keyring: e.keyring, Prober: p, Interval: interval})
	if err != nil {
		tb.Fatalf("NewConnectionChecker: %v", err)
	}
	return c
}

// create stores a connection to serverURL of e's tenant, with token sealed
// by kr when it is not empty.
func (e *env) create(tb testing.TB, name, serverURL, token string, kr *secrets.Keyring) store.Connection {
	tb.Helper()
	c := store.Connection{Key: store.Key[uuid.UUID]{ID: uuid.New(), TenantID: e.tenant}, Name: name, ServerURL: serverURL, AuthType: "none"}
	if token != "" {
		ct, keyID, err := kr.Seal([]byte(token), store.ConnectionTokenAAD(c.ID))
		if err != nil {
			tb.Fatal(err)
		}
		c.AuthType, c.TokenCiphertext, c.TokenKeyID = "bearer", ct, &keyID
	}
	if err := e.store.CreateConnection(context.Background(), &c); err != nil {
		tb.Fatalf("CreateConnection(%s): %v", name, err)
	}
	return c
}

func (e *env) get(tb testing.TB, id uuid.UUID) store.Connection {
	tb.Helper()
	c, err := e.store.GetConnection(context.Background(), e.tenant, id)
	if err != nil {
		tb.Fatalf("GetConnection(%s): %v", id, err)
	}
	return c
}

// all lists every connection of e's tenant.
// allChecked reports, for waitFor, whether every connection of the tenant
// but those of except has been checked.
func (e *env) allChecked(tb testing.TB, except ...uuid.UUID) func() bool {
	return func() bool {
		for _, conn := range e.all(tb) {
			if !slices.Contains(except, conn.ID) && conn.LastHealthCheckAt == nil {
				return false
			}
		}
		return true
	}
}

func (e *env) all(tb testing.TB) []store.Connection {
	tb.Helper()
	var out []store.Connection
	p := store.ListConnectionsParams{TenantID: e.tenant, Limit: contract.MaxPageLimit}
	for {
		page, next, err := e.store.ListConnections(context.Background(), p)
		if err != nil {
			tb.Fatalf("ListConnections: %v", err)
		}
		out = append(out, page...)
		if next == nil {
			return out
		}
		p.After = next
	}
}

// waitFor polls cond until it holds. The deadline only turns a hang into a
// failure; nothing asserts how fast it goes.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	if !poll.Until(90*time.Second, 10*time.Millisecond, cond) {
		tb.Fatalf("gave up waiting for %s", what)
	}
}

// runScheduler starts s.Run and returns a function that stops it and
// returns what Run returned.
func runScheduler(tb testing.TB, s *Scheduler) (stop func() error) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	result := make(chan error, 1)
	go func() { result <- s.Run(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			err = <-result
		})
		return err
	}
	tb.Cleanup(func() { _ = stop() })
	return stop
}

// countingServer is a real MCP server (the SDK's, stateless) that counts the
// handshakes it answers per value of the "c" query parameter, so a test can
// give every connection its own URL on one server.
type countingServer struct {
	URL  string
	mu   sync.Mutex
	seen map[string]int
}

func startCounting(tb testing.TB, cfg mcptest.Config) *countingServer {
	tb.Helper()
	srv := mcptest.NewServer(cfg)
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv },
		&mcp.StreamableHTTPOptions{Stateless: true})
	cs := &countingServer{seen: map[string]int{}}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && isHandshake(r) {
			cs.mu.Lock()
			cs.seen[r.URL.Query().Get("c")]++
			cs.mu.Unlock()
		}
		h.ServeHTTP(w, r)
	}))
	tb.Cleanup(hs.Close)
	cs.URL = hs.URL + "/mcp"
	return cs
}

// isHandshake reports whether r opens an MCP session (initialize, or
// server/discover at 2026-07-28), leaving its body readable.
func isHandshake(r *http.Request) bool {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	var msg struct {
		Method string `json:"method"`
	}
	_ = json.Unmarshal(body, &msg)
	return msg.Method == "initialize" || msg.Method == "server/discover"
}

func (cs *countingServer) counts() map[string]int {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	out := make(map[string]int, len(cs.seen))
	for k, v := range cs.seen {
		out[k] = v
	}
	return out
}

// leakPatterns name goroutines that must not outlive Scheduler.Run: its
// workers, checks, and the client side of probes.
var leakPatterns = []string{
	"health.(*Scheduler)",
	"health.(*ConnectionChecker)",
	"health.(*recorder)",
	"apiserver/probe.",
	"mcp.(*ClientSession)",
	"mcp.(*streamableClientConn)",
	"net/http.(*persistConn)",
}

// checkNoLeaks fails tb if goroutines matching leakPatterns remain. Some
// exit a moment after the calls that started them return, so it waits a
// while for them before failing.
func checkNoLeaks(tb testing.TB) {
	tb.Helper()
	var leaked []string
	gone := func() bool {
		leaked = leaked[:0]
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		for _, g := range strings.Split(string(buf), "\n\n") {
			for _, p := range leakPatterns {
				if strings.Contains(g, p) {
					leaked = append(leaked, g)
					break
				}
			}
		}
		return len(leaked) == 0
	}
	if poll.Until(5*time.Second, 25*time.Millisecond, gone) {
		return
	}
	tb.Fatalf("%d goroutines outlived the scheduler:\n%s", len(leaked), strings.Join(leaked, "\n\n"))
}

// countingSource counts the jobs a Source hands out.
type countingSource struct {
	Source
	mu   sync.Mutex
	jobs int
}

func (c *countingSource) Claim(ctx context.Context, n int) ([]Job, error) {
	jobs, err := c.Source.Claim(ctx, n)
	c.mu.Lock()
	c.jobs += len(jobs)
	c.mu.Unlock()
	return jobs, err
}

func (c *countingSource) claimed() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.jobs
}

func connName(i int) string { return fmt.Sprintf("conn-%04d", i) }
