package probe

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/internal/mcptest"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// testTimeout keeps failing checks short; no assertion depends on its value
// other than the message repeating it.
const testTimeout = 1500 * time.Millisecond

func newProber(allowPrivate bool) *Prober {
	return New(Options{Timeout: testTimeout, AllowPrivate: allowPrivate, StdioTerminateDelay: 100 * time.Millisecond})
}

// probe runs one check and fails the test if it does not come back at all;
// the generous guard only keeps a broken Probe from hanging the suite.
func probe(t *testing.T, p *Prober, target Target) Result {
	t.Helper()
	done := make(chan Result, 1)
	go func() { done <- p.Probe(context.Background(), target) }()
	select {
	case res := <-done:
		return res
	case <-time.After(30 * time.Second):
		t.Fatalf("Probe(%+v) did not return", target)
		return Result{}
	}
}

func httpTarget(url string) Target {
	return Target{Transport: contract.TransportHTTP, URL: url}
}

func wantOK(t *testing.T, res Result) {
	t.Helper()
	if !res.OK || res.Err != "" {
		t.Fatalf("result not OK: %+v", res)
	}
	t.Logf("OK: protocol %s, server %q %q", res.ProtocolVersion, res.ServerName, res.ServerVersion)
}

func wantErr(t *testing.T, res Result, parts ...string) {
	t.Helper()
	if res.OK {
		t.Fatalf("result OK, want a failure containing %q: %+v", parts, res)
	}
	t.Logf("Err: %s", res.Err)
	for _, part := range parts {
		if !strings.Contains(res.Err, part) {
			t.Errorf("Err = %q, want it to contain %q", res.Err, part)
		}
	}
}

// noLeaks records the goroutine count and, at cleanup, waits for it to
// settle back, failing with every stack if it does not.
func noLeaks(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		var after int
		for range 250 {
			if after = runtime.NumGoroutine(); after <= before {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		t.Errorf("goroutines leaked: %d before the probe, %d after\n%s", before, after, buf)
	})
}

func TestProbeProtocolGenerations(t *testing.T) {
	tests := []struct {
		name        string
		start       func(testing.TB) *mcptest.Server
		wantVersion string
		wantServer  [2]string
		wantPing    bool
	}{
		{"modern stateless", mcptest.StartModern, mcptest.ModernVersion, [2]string{"mcptest-modern", "2.0.0"}, false},
		{"legacy stateful", mcptest.StartLegacy, mcptest.LegacyVersion, [2]string{"mcptest-legacy", "1.5.0"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := tc.start(t)
			noLeaks(t)
			res := probe(t, newProber(true), httpTarget(srv.URL))
			wantOK(t, res)
			if res.ProtocolVersion != tc.wantVersion {
				t.Errorf("ProtocolVersion = %q, want %q", res.ProtocolVersion, tc.wantVersion)
			}
			if res.ServerName != tc.wantServer[0] || res.ServerVersion != tc.wantServer[1] {
				t.Errorf("server = %q %q, want %q %q", res.ServerName, res.ServerVersion, tc.wantServer[0], tc.wantServer[1])
			}
			if res.Instructions != nil {
				t.Errorf("Instructions = %q, want nil", *res.Instructions)
			}
			if res.Capabilities != (contract.Capabilities{}) {
				t.Errorf("Capabilities = %+v, want none", res.Capabilities)
			}
			if res.Duration <= 0 {
				t.Errorf("Duration = %v, want > 0", res.Duration)
			}
			methods := srv.Methods()
			if got := slices.Contains(methods, "ping"); got != tc.wantPing {
				t.Errorf("server saw ping: %v, want %v (methods %q)", got, tc.wantPing, methods)
			}
		})
	}
}

func TestProbeReadsInstructionsAndCapabilities(t *testing.T) {
	for _, cfg := range []mcptest.Config{
		{Name: "full-modern"},
		{Name: "full-legacy", ProtocolVersions: []string{mcptest.LegacyVersion}, Stateful: true},
	} {
		t.Run(cfg.Name, func(t *testing.T) {
			cfg.Version = "3.1.4"
			cfg.Instructions = "Use the echo tool.\nNever call it twice."
			cfg.Tools, cfg.Resources, cfg.Prompts = true, true, true
			srv := mcptest.StartHTTP(t, cfg)
			res := probe(t, newProber(true), httpTarget(srv.URL))
			wantOK(t, res)
			if res.Instructions == nil || *res.Instructions != cfg.Instructions {
				t.Errorf("Instructions = %v, want %q", res.Instructions, cfg.Instructions)
			}
			if want := (contract.Capabilities{Tools: true, Resources: true, Prompts: true}); res.Capabilities != want {
				t.Errorf("Capabilities = %+v, want %+v", res.Capabilities, want)
			}
			if res.ServerName != cfg.Name || res.ServerVersion != "3.1.4" {
				t.Errorf("server = %q %q, want %q 3.1.4", res.ServerName, res.ServerVersion, cfg.Name)
			}
		})
	}

	srv := mcptest.StartHTTP(t, mcptest.Config{Tools: true})
	res := probe(t, newProber(true), httpTarget(srv.URL))
	wantOK(t, res)
	if want := (contract.Capabilities{Tools: true}); res.Capabilities != want {
		t.Errorf("tools-only Capabilities = %+v, want %+v", res.Capabilities, want)
	}
}

func TestProbeBearerToken(t *testing.T) {
	const token = "s3cret-token-value"
	for _, cfg := range []mcptest.Config{
		{Name: "modern", BearerToken: token},
		{Name: "legacy", BearerToken: token, ProtocolVersions: []string{mcptest.LegacyVersion}, Stateful: true},
	} {
		t.Run(cfg.Name, func(t *testing.T) {
			srv := mcptest.StartHTTP(t, cfg)
			p := newProber(true)

			target := httpTarget(srv.URL)
			target.BearerToken = token
			wantOK(t, probe(t, p, target))
			for _, r := range srv.Requests() {
				if r.Authorization != "Bearer "+token {
					t.Errorf("%s %s reached the server with Authorization %q", r.Method, r.Path, r.Authorization)
				}
			}

			res := probe(t, p, httpTarget(srv.URL))
			wantErr(t, res, "the MCP server answered HTTP 401 Unauthorized", "set a bearer token")

			target.BearerToken = "wrong-" + token
			res = probe(t, p, target)
			wantErr(t, res, "the MCP server answered HTTP 401 Unauthorized: check the bearer token")
			if strings.Contains(res.Err, token) {
				t.Errorf("Err %q contains the token", res.Err)
			}
		})
	}
}

func TestProbeNeverRepeatsTheToken(t *testing.T) {
	const token = "tok-that-must-not-leak"
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, "bad request; you sent Authorization: %s", r.Header.Get("Authorization"))
	}))
	t.Cleanup(echo.Close)
	target := httpTarget(echo.URL + "/mcp")
	target.BearerToken = token
	res := probe(t, newProber(true), target)
	wantErr(t, res, "HTTP 400 Bad Request", "[redacted]")
	if strings.Contains(res.Err, token) {
		t.Errorf("Err %q contains the token", res.Err)
	}
}

func TestProbeSSE(t *testing.T) {
	srv := mcptest.StartSSE(t, mcptest.Config{Name: "mcptest-sse", Instructions: "legacy transport", Tools: true})
	noLeaks(t)
	res := probe(t, newProber(true), Target{Transport: contract.TransportSSE, URL: srv.URL})
	wantOK(t, res)
	if res.ProtocolVersion != "2025-11-25" {
		t.Errorf("ProtocolVersion = %q, want 2025-11-25", res.ProtocolVersion)
	}
	if res.ServerName != "mcptest-sse" || res.Instructions == nil || *res.Instructions != "legacy transport" || !res.Capabilities.Tools {
		t.Errorf("result = %+v, want serverInfo, instructions and tools from the SSE server", res)
	}
	if !slices.Contains(srv.Methods(), "ping") {
		t.Errorf("SSE server saw methods %q, want a ping", srv.Methods())
	}

	const token = "sse-token"
	authed := mcptest.StartSSE(t, mcptest.Config{BearerToken: token})
	res = probe(t, newProber(true), Target{Transport: contract.TransportSSE, URL: authed.URL, BearerToken: token})
	wantOK(t, res)
	res = probe(t, newProber(true), Target{Transport: contract.TransportSSE, URL: authed.URL})
	wantErr(t, res, "HTTP 401 Unauthorized")

	// The transports are not interchangeable, and the message says so.
	modern := mcptest.StartModern(t)
	res = probe(t, newProber(true), Target{Transport: contract.TransportSSE, URL: modern.URL})
	wantErr(t, res, "HTTP 405", "use transport http")
}

func TestProbeHungServer(t *testing.T) {
	for _, transport := range []contract.TransportType{contract.TransportHTTP, contract.TransportSSE} {
		t.Run(string(transport), func(t *testing.T) {
			srv := mcptest.StartHung(t)
			noLeaks(t)
			res := probe(t, newProber(true), Target{Transport: transport, URL: srv.URL})
			wantErr(t, res, "no answer within "+testTimeout.String())
		})
	}
}

func TestProbeNotAnMCPServer(t *testing.T) {
	modern := mcptest.StartModern(t)
	tests := []struct {
		name  string
		url   string
		parts []string
	}{
		{"html page", mcptest.StartHTML(t).URL, []string{"not an MCP server", "an HTML page"}},
		{"json api", mcptest.StartStatic(t, 200, "application/json", `{"status":"ok"}`).URL, []string{"not an MCP server"}},
		{"plain text", mcptest.StartStatic(t, 200, "text/plain", "hello").URL, []string{"not an MCP server", "text/plain"}},
		{"wrong path", strings.TrimSuffix(modern.URL, mcptest.Path) + "/wrong", []string{"HTTP 404 Not Found: check the URL path"}},
		{"server error", mcptest.StartStatic(t, 500, "text/plain", "database is down\nstack...").URL, []string{"HTTP 500 Internal Server Error", "check its logs", "database is down"}},
		{"forbidden", mcptest.StartStatic(t, 403, "text/plain", "no").URL, []string{"HTTP 403 Forbidden", "set a bearer token"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := probe(t, newProber(true), httpTarget(tc.url))
			wantErr(t, res, tc.parts...)
		})
	}
}

func TestProbeUnreachable(t *testing.T) {
	addr := mcptest.ClosedAddr(t)

	res := probe(t, newProber(true), httpTarget("http://"+addr+"/mcp"))
	wantErr(t, res, "connection refused: nothing is listening at "+addr)

	res = probe(t, newProber(true), httpTarget("http://no-such-host.invalid/mcp"))
	wantErr(t, res, `host "no-such-host.invalid" not found`)
}

func TestProbeTLSErrors(t *testing.T) {
	tlsSrv := mcptest.StartHTTP(t, mcptest.Config{TLS: true})
	res := probe(t, newProber(true), httpTarget(tlsSrv.URL))
	wantErr(t, res, "TLS error", "not signed by a trusted authority")

	plain := mcptest.StartModern(t)
	res = probe(t, newProber(true), httpTarget(strings.Replace(plain.URL, "http://", "https://", 1)))
	wantErr(t, res, "TLS error", "does not speak TLS")
}

func TestProbeBlockedAddresses(t *testing.T) {
	srv := mcptest.StartModern(t)
	_, port, _ := net.SplitHostPort(srv.HTTP.Listener.Addr().String())

	res := probe(t, newProber(false), httpTarget(srv.URL))
	wantErr(t, res, "address 127.0.0.1 is blocked", "MCP_API_ALLOW_PRIVATE_TARGETS=true")

	// A name is judged on the address it resolves to, at dial time.
	res = probe(t, newProber(false), httpTarget(fmt.Sprintf("http://localhost:%s%s", port, mcptest.Path)))
	wantErr(t, res, "is blocked", "MCP_API_ALLOW_PRIVATE_TARGETS=true")
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("the server saw %d requests, want none", n)
	}

	for _, u := range []string{
		"http://169.254.169.254/latest/meta-data/",
		"http://[::ffff:169.254.169.254]/mcp",
		"http://[fe80::1]:8080/mcp",
		"http://0.0.0.0:8080/mcp",
	} {
		res := probe(t, newProber(true), httpTarget(u))
		wantErr(t, res, "is blocked", "never probed")
	}
}

func TestProbeRedirects(t *testing.T) {
	const token = "redirect-token"

	toMetadata := mcptest.StartRedirect(t, "http://169.254.169.254/latest/meta-data/", http.StatusTemporaryRedirect)
	res := probe(t, newProber(true), httpTarget(toMetadata.URL))
	wantErr(t, res, "redirected to http://169.254.169.254/latest/meta-data/", "refused", "never probed")

	target := mcptest.StartHTTP(t, mcptest.Config{Name: "redirect-target"})
	hop := mcptest.StartRedirect(t, target.URL, http.StatusPermanentRedirect)
	res = probe(t, newProber(true), Target{Transport: contract.TransportHTTP, URL: hop.URL, BearerToken: token})
	wantOK(t, res)
	if res.ServerName != "redirect-target" {
		t.Errorf("ServerName = %q, want redirect-target", res.ServerName)
	}
	for _, r := range hop.Requests() {
		if r.Authorization != "Bearer "+token {
			t.Errorf("the redirector (the configured origin) got Authorization %q, want the token", r.Authorization)
		}
	}
	for _, r := range target.Requests() {
		if r.Authorization != "" {
			t.Errorf("the redirect target (another origin) got Authorization %q, want none", r.Authorization)
		}
	}

	loop := mcptest.StartRedirect(t, mcptest.Path, http.StatusTemporaryRedirect)
	res = probe(t, newProber(true), httpTarget(loop.URL))
	wantErr(t, res, "more than 5 redirects")
}

func TestProbeBadTargets(t *testing.T) {
	tests := []struct {
		target Target
		part   string
	}{
		{Target{Transport: "carrier-pigeon", URL: "http://example.com"}, `unsupported transport type "carrier-pigeon"`},
		{Target{Transport: contract.TransportHTTP, URL: "ftp://example.com/mcp"}, "not an absolute http or https URL"},
		{Target{Transport: contract.TransportHTTP, URL: "/relative"}, "not an absolute http or https URL"},
		{Target{Transport: contract.TransportHTTP, URL: "http://user:pw@%zz"}, "cannot be parsed"},
		{Target{Transport: contract.TransportHTTP, URL: "http://user:pw@/mcp?token=x"}, "not an absolute http or https URL"},
		{Target{Transport: contract.TransportHTTP, URL: "http://user:pw@example.com/mcp"}, "must not carry credentials"},
		{Target{Transport: contract.TransportStdio}, "no command"},
	}
	for _, tc := range tests {
		res := probe(t, newProber(true), tc.target)
		wantErr(t, res, tc.part)
		if strings.Contains(res.Err, "pw@") {
			t.Errorf("Err %q repeats URL credentials", res.Err)
		}
	}
}

func TestProbeCancelled(t *testing.T) {
	srv := mcptest.StartHung(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan Result, 1)
	go func() { done <- New(Options{Timeout: time.Minute, AllowPrivate: true}).Probe(ctx, httpTarget(srv.URL)) }()
	// Cancel once the server has the request in hand.
	for len(srv.Requests()) == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case res := <-done:
		wantErr(t, res, "cancelled")
	case <-time.After(30 * time.Second):
		t.Fatal("Probe did not return after its context was cancelled")
	}
}

// The SDK closes a stateful session with a DELETE it allows 5s; the check's
// own deadline must cut that short, so a server that answers the handshake
// but hangs on DELETE still gets its result within the probe timeout.
func TestProbeCloseIsBoundedByTheTimeout(t *testing.T) {
	srv := mcptest.NewServer(mcptest.Config{Name: "hangs-on-delete", ProtocolVersions: []string{mcptest.LegacyVersion}})
	mcpHandler := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, nil)
	release := make(chan struct{})
	var deletes atomic.Int32
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodDelete {
			deletes.Add(1)
			select {
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		mcpHandler.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	t.Cleanup(func() { close(release) })
	// No goroutine check here: the session the DELETE never ended lives on
	// in the test server, by design.

	res := probe(t, newProber(true), httpTarget(hs.URL))
	wantOK(t, res)
	if res.ProtocolVersion != mcptest.LegacyVersion {
		t.Errorf("ProtocolVersion = %q, want %q", res.ProtocolVersion, mcptest.LegacyVersion)
	}
	if deletes.Load() != 1 {
		t.Fatalf("server saw %d DELETE requests, want 1", deletes.Load())
	}
	// Over 3x the probe timeout: the only way to exceed it is to wait out the SDK's 5s.
	if res.Duration >= 5*time.Second {
		t.Errorf("Probe took %v: closing the session waited out the SDK's DELETE timeout instead of the probe's %v", res.Duration, testTimeout)
	}
}

// One Prober serves many checks at once; a hung server holds up only its own.
func TestProbeConcurrent(t *testing.T) {
	modern, legacy, hung := mcptest.StartModern(t), mcptest.StartLegacy(t), mcptest.StartHung(t)
	p := newProber(true)
	type outcome struct {
		name string
		res  Result
	}
	targets := map[string]Target{
		"modern": httpTarget(modern.URL),
		"legacy": httpTarget(legacy.URL),
		"hung":   httpTarget(hung.URL),
	}
	results := make(chan outcome, 3*len(targets))
	for range 3 {
		for name, target := range targets {
			go func() { results <- outcome{name, p.Probe(context.Background(), target)} }()
		}
	}
	for range cap(results) {
		o := <-results
		switch o.name {
		case "modern":
			if !o.res.OK || o.res.ProtocolVersion != mcptest.ModernVersion {
				t.Errorf("modern: %+v", o.res)
			}
		case "legacy":
			if !o.res.OK || o.res.ProtocolVersion != mcptest.LegacyVersion {
				t.Errorf("legacy: %+v", o.res)
			}
		case "hung":
			if o.res.OK || !strings.Contains(o.res.Err, "no answer within") {
				t.Errorf("hung: %+v", o.res)
			}
		}
	}
}

// A caller's tighter deadline wins, and the message names it rather than the prober's timeout.
func TestProbeCallerDeadline(t *testing.T) {
	srv := mcptest.StartHung(t)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	res := New(Options{Timeout: time.Minute, AllowPrivate: true}).Probe(ctx, httpTarget(srv.URL))
	wantErr(t, res, "no answer within")
	if strings.Contains(res.Err, "1m0s") {
		t.Errorf("Err %q names the prober's timeout, not the caller's deadline", res.Err)
	}
}

// BenchmarkProbe is the cost of the listings: one check of a local Go SDK
// server that advertises nothing (handshake only) against one of a server
// with one tool, prompt and resource (handshake plus three listings), and one
// with 100 tools, for both protocol generations.
//
//	go test -run '^$' -bench BenchmarkProbe ./apiserver/probe/
func BenchmarkProbe(b *testing.B) {
	generations := []struct {
		name string
		cfg  mcptest.Config
	}{
		{"modern", mcptest.Config{}},
		{"legacy", mcptest.Config{ProtocolVersions: []string{mcptest.LegacyVersion}, Stateful: true}},
	}
	offers := []struct {
		name string
		cat  mcptest.Catalog
	}{
		{"handshake-only", mcptest.Catalog{}},
		{"listings-1-1-1", mcptest.Catalog{Tools: 1, Prompts: 1, Resources: 1}},
		{"listings-100-tools", mcptest.Catalog{Tools: 100}},
	}
	for _, g := range generations {
		for _, o := range offers {
			b.Run(g.name+"/"+o.name, func(b *testing.B) {
				srv := mcptest.ServeStreamable(b, mcptest.NewCatalogServer(g.cfg, o.cat), g.cfg)
				p := New(Options{Timeout: 10 * time.Second, AllowPrivate: true})
				target := httpTarget(srv.URL)
				b.ReportAllocs()
				for b.Loop() {
					if res := p.Probe(context.Background(), target); !res.OK || len(res.Listing.Tools) != o.cat.Tools {
						b.Fatalf("probe: %+v", res)
					}
				}
			})
		}
	}
}
