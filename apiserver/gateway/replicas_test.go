package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/apitest"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/client"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/gateway"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/health"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/httpapi"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/probe"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/secrets"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
	"github.com/mcpconn/terraform-provider-mcp/internal/mcptest"
)

// replicaOpts configure the gateway of a test replica.
type replicaOpts struct {
	idle     time.Duration
	stdioMax int
	// stdioBin, when set, is the one program stdio servers may run.
	stdioBin string
}

// startReplica is an API server with the gateway mounted, sharing its
// sessions through the database; with of, another replica on of's database.
func startReplica(t *testing.T, of *apitest.Server, o replicaOpts) *apitest.Server {
	t.Helper()
	opts := []apitest.Option{apitest.WithProbes(), apitest.WithConfig(func(s *apitest.Server, cfg *httpapi.Config) {
		var targets gateway.Targets = s.ServerChecker
		if o.stdioBin != "" {
			sc, err := health.NewServerChecker(health.CheckerConfig{Store: s.Store, Keyring: s.Keyring,
				Prober:        probe.New(probe.Options{Timeout: 10 * time.Second, StdioTerminateDelay: 200 * time.Millisecond}),
				StdioCommands: []string{filepath.Base(o.stdioBin)}, StdioPath: filepath.Dir(o.stdioBin)})
			if err != nil {
				t.Fatal(err)
			}
			targets = sc
		}
		g, err := gateway.New(gateway.Config{
			Servers:           s.Store,
			Targets:           targets,
			Dialer:            probe.New(probe.Options{Timeout: 10 * time.Second, AllowPrivate: true, StdioTerminateDelay: 200 * time.Millisecond}),
			Timeout:           gatewayTimeout,
			SessionIdle:       o.idle,
			Sessions:          s.Store,
			StdioMaxProcesses: o.stdioMax,
		})
		if err != nil {
			t.Fatal(err)
		}
		cfg.Gateway = g
	})}
	if of != nil {
		opts = append(opts, apitest.ReplicaOf(of))
	}
	return apitest.Start(t, opts...)
}

// roundRobin is a load balancer without stickiness: each request goes to
// the next replica, whatever session it belongs to.
type roundRobin struct {
	backends []*httputil.ReverseProxy
	next     atomic.Int64
	// served counts the POSTs of existing sessions each replica got.
	served []atomic.Int64
}

func newRoundRobin(t *testing.T, replicas ...*apitest.Server) (*roundRobin, string) {
	rr := &roundRobin{served: make([]atomic.Int64, len(replicas))}
	for _, r := range replicas {
		u, err := url.Parse(r.URL)
		if err != nil {
			t.Fatal(err)
		}
		rr.backends = append(rr.backends, &httputil.ReverseProxy{
			Rewrite:       func(pr *httputil.ProxyRequest) { pr.SetURL(u) },
			FlushInterval: -1,
		})
	}
	srv := httptest.NewServer(rr)
	t.Cleanup(srv.Close)
	return rr, srv.URL
}

func (rr *roundRobin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	i := int(rr.next.Add(1)-1) % len(rr.backends)
	if r.Method == http.MethodPost && r.Header.Get("Mcp-Session-Id") != "" {
		rr.served[i].Add(1)
	}
	rr.backends[i].ServeHTTP(w, r)
}

// post sends a JSON-RPC tools/list of session id to endpoint with key and
// returns the status.
func post(t *testing.T, endpoint, key, id, version string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(`{"jsonrpc":"2.0","id":7,"method":"tools/list","params":{}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Mcp-Session-Id", id)
	req.Header.Set("Mcp-Protocol-Version", version)
	resp, err := httpClient(key).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}

// eventually polls cond every 50ms until it holds or 30 s have passed.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 30s: %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestReplicasShareSessions(t *testing.T) {
	a := startReplica(t, nil, replicaOpts{idle: 5 * time.Second})
	b := startReplica(t, a, replicaOpts{idle: 5 * time.Second})
	e := &env{api: a}
	c, err := newAPIClient(a)
	if err != nil {
		t.Fatal(err)
	}
	e.client = c
	p, err := c.CreateProject(context.Background(), contract.CreateProjectRequest{Name: "replicas"})
	if err != nil {
		t.Fatal(err)
	}
	e.project = p.ID
	up := mcptest.NewInteractive("upstream")
	upstream := mcptest.ServeStreamable(t, up.Server, mcptest.Config{Stateful: true})
	id := e.register(t, "shared", upstream.URL, contract.ConnectionProxy)
	rr, lb := newRoundRobin(t, a, b)

	// Another API key of the same tenant: another caller.
	plain, hash, err := secrets.NewAPIKey()
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Store.CreateAPIKey(context.Background(), a.TenantID, hash); err != nil {
		t.Fatal(err)
	}

	for _, v := range []string{"2025-06-18", "2025-11-25"} {
		t.Run(v, func(t *testing.T) {
			ctx := context.Background()
			before := []int64{rr.served[0].Load(), rr.served[1].Load()}
			d := connect(t, lb+"/mcp/servers/"+id, a.APIKey, v, "rr")
			for i := range 6 {
				tools, err := d.ListTools(ctx, nil)
				if err != nil {
					t.Fatalf("tools/list %d: %v", i, err)
				}
				if len(tools.Tools) != 4 {
					t.Fatalf("tools/list %d: %d tools", i, len(tools.Tools))
				}
				want := fmt.Sprintf("call %d at %s", i, v)
				res, err := d.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": want}})
				if err != nil {
					t.Fatalf("tools/call %d: %v", i, err)
				}
				if got := text(t, res); got != want {
					t.Fatalf("echo answered %q, want %q", got, want)
				}
			}
			for i, n := range []int64{rr.served[0].Load() - before[0], rr.served[1].Load() - before[1]} {
				if n < 3 {
					t.Errorf("replica %d served %d requests of the session, want several", i, n)
				}
			}

			// Another caller naming the session is answered as for an
			// unknown session, by the replicas holding it and by any other.
			sid := d.ID()
			for _, r := range []*apitest.Server{a, b} {
				if got := post(t, r.URL+"/mcp/servers/"+id, plain, sid, v); got != http.StatusNotFound {
					t.Errorf("another caller's request of the session: %d, want 404", got)
				}
				if got := post(t, r.URL+"/mcp/servers/"+id, a.APIKey, "no-such-session", v); got != http.StatusNotFound {
					t.Errorf("an unknown session: %d, want 404", got)
				}
				if got := post(t, r.URL+"/mcp/servers/"+id, a.APIKey, sid, v); got != http.StatusOK {
					t.Errorf("the owner's request of the session: %d, want 200", got)
				}
			}

			// DELETE through one replica ends the session on every one.
			if err := d.Close(); err != nil {
				t.Logf("close: %v", err)
			}
			if _, err := a.Store.TouchGatewaySession(ctx, sid, time.Hour); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("the shared session after DELETE: %v, want it gone", err)
			}
			for i, r := range []*apitest.Server{a, b} {
				eventually(t, fmt.Sprintf("replica %d still serves the deleted session", i), func() bool {
					return post(t, r.URL+"/mcp/servers/"+id, a.APIKey, sid, v) == http.StatusNotFound
				})
			}
		})
	}
}

// newAPIClient is a client of the API of s.
func newAPIClient(s *apitest.Server) (*client.Client, error) {
	return client.New(s.URL, s.APIKey, client.WithRetryMax(0))
}

// gone reports whether process pid has exited (a zombie counts as gone).
func gone(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// "pid (comm) S ...": the state follows the last ')'.
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] == 'Z'
	}
	return false
}

// stdioServer registers a proxied stdio server running bin with args.
func stdioServer(t *testing.T, api *apitest.Server, project, name, bin string, args ...string) string {
	t.Helper()
	cmd := filepath.Base(bin)
	row := store.Server{Key: store.Key[string]{ID: store.NewServerID(), TenantID: api.TenantID}, ProjectID: project, Name: name,
		TransportType: "stdio", ConnectionType: "proxy", Command: &cmd, Args: append([]string{}, args...)}
	if err := api.Store.CreateServer(context.Background(), &row); err != nil {
		t.Fatal(err)
	}
	return row.ID
}

func TestIdleSessionReleasesUpstream(t *testing.T) {
	bin := mcptest.BuildStdioServer(t)
	a := startReplica(t, nil, replicaOpts{idle: time.Second, stdioBin: bin})
	c, err := newAPIClient(a)
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.CreateProject(context.Background(), contract.CreateProjectRequest{Name: "idle"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	// A stdio upstream: its process and the helper it leaves running are
	// killed when the session idles out.
	pidfile := filepath.Join(t.TempDir(), "pids")
	sid := stdioServer(t, a, p.ID, "stdio", bin, "-linger", "-pidfile", pidfile)
	d := connect(t, a.URL+"/mcp/servers/"+sid, a.APIKey, "2025-06-18", "idle")
	res, err := d.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "hi"}})
	if err != nil || text(t, res) != "hi" {
		t.Fatalf("stdio call: %v %v", res, err)
	}
	b, err := os.ReadFile(pidfile)
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for f := range strings.FieldsSeq(string(b)) {
		if n, err := strconv.Atoi(f); err == nil {
			pids = append(pids, n)
		}
	}
	if len(pids) != 2 || gone(pids[0]) || gone(pids[1]) {
		t.Fatalf("pids %v (from %q): want the child and its helper running", pids, b)
	}
	for _, pid := range pids {
		eventually(t, fmt.Sprintf("process %d outlived the idle session", pid), func() bool { return gone(pid) })
	}

	// An http upstream's session is closed too.
	up := mcptest.NewInteractive("upstream")
	upstream := mcptest.ServeStreamable(t, up.Server, mcptest.Config{Stateful: true})
	url := upstream.URL
	srv, err := c.CreateServer(ctx, contract.CreateServerRequest{ProjectID: p.ID, Name: "http", URL: &url,
		TransportType: contract.TransportHTTP, ConnectionType: contract.ConnectionProxy})
	if err != nil {
		t.Fatal(err)
	}
	h := connect(t, a.URL+"/mcp/servers/"+srv.ID, a.APIKey, "2025-11-25", "idle")
	if _, err := h.ListTools(ctx, nil); err != nil {
		t.Fatal(err)
	}
	sessions := func() int {
		n := 0
		for range up.Server.Sessions() {
			n++
		}
		return n
	}
	if sessions() == 0 {
		t.Fatal("the upstream has no session")
	}
	eventually(t, "the upstream session outlived the idle downstream session", func() bool { return sessions() == 0 })
	// And the session is over for the client.
	if got := post(t, a.URL+"/mcp/servers/"+srv.ID, a.APIKey, h.ID(), "2025-11-25"); got != http.StatusNotFound {
		t.Errorf("a request of the idled-out session: %d, want 404", got)
	}
}

func TestStdioProcessCap(t *testing.T) {
	bin := mcptest.BuildStdioServer(t)
	a := startReplica(t, nil, replicaOpts{idle: time.Minute, stdioBin: bin, stdioMax: 2})
	c, err := newAPIClient(a)
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.CreateProject(context.Background(), contract.CreateProjectRequest{Name: "cap"})
	if err != nil {
		t.Fatal(err)
	}
	endpoint := a.URL + "/mcp/servers/" + stdioServer(t, a, p.ID, "stdio", bin)

	// A session runs its process from its first request on (its handshake
	// is answered from the endpoint's last one): open one and use it.
	open := func() (*mcp.ClientSession, error) {
		client := mcp.NewClient(&mcp.Implementation{Name: "cap", Version: "1"}, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: endpoint, HTTPClient: httpClient(a.APIKey), MaxRetries: -1},
			&mcp.ClientSessionOptions{ProtocolVersion: "2025-06-18"})
		if err != nil {
			return nil, err
		}
		if _, err := cs.ListTools(ctx, nil); err != nil {
			_ = cs.Close()
			return nil, err
		}
		return cs, nil
	}
	var held []*mcp.ClientSession
	for range 2 {
		cs, err := open()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cs.Close() })
		held = append(held, cs)
	}
	_, err = open()
	if err == nil || !strings.Contains(err.Error(), "2 stdio MCP server processes") || !strings.Contains(err.Error(), gateway.StdioMaxProcessesEnv) {
		t.Fatalf("the third stdio session: %v, want the cap and %s named", err, gateway.StdioMaxProcessesEnv)
	}
	_ = held[0].Close()
	eventually(t, "no stdio session admitted after one closed", func() bool {
		cs, err := open()
		if err != nil {
			return false
		}
		t.Cleanup(func() { _ = cs.Close() })
		return true
	})
}
