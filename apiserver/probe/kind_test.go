package probe

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/internal/mcptest"
)

// Every kind, each against a real server or condition.
func TestErrorKinds(t *testing.T) {
	refused := mcptest.ClosedAddr(t)

	// A TCP server that accepts and hangs up without a word.
	mute := mcptest.StartTCP(t, func(c net.Conn) { c.Close() })

	modern := mcptest.StartModern(t)
	authed := mcptest.StartHTTP(t, mcptest.Config{BearerToken: "right"})
	bin := mcptest.BuildStdioServer(t)
	notExec := filepath.Join(t.TempDir(), "server.sh")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		prober *Prober
		target Target
		kind   contract.ErrorKind
	}{
		{"refused port", newProber(true), httpTarget("http://" + refused + "/mcp"), contract.ErrorUnreachable},
		{"unresolvable host", newProber(true), httpTarget("http://no-such-host.invalid/mcp"), contract.ErrorUnreachable},
		{"closed without an answer", newProber(true), httpTarget("http://" + mute + "/mcp"), contract.ErrorUnreachable},
		{"bad URL", newProber(true), httpTarget("ftp://example.com/mcp"), contract.ErrorUnreachable},
		{"unknown transport", newProber(true), Target{Transport: "carrier-pigeon"}, contract.ErrorUnreachable},
		{"stdio: command not found", newProber(false), stdioTarget("/nonexistent/mcp-server"), contract.ErrorUnreachable},
		{"stdio: not in PATH", newProber(false), stdioTarget("no-such-mcp-server"), contract.ErrorUnreachable},
		{"stdio: not executable", newProber(false), stdioTarget(notExec), contract.ErrorUnreachable},
		{"stdio: exits early", newProber(false), stdioTarget(bin, "-exit", "3"), contract.ErrorUnreachable},

		{"hung http server", newProber(true), httpTarget(mcptest.StartHung(t).URL), contract.ErrorTimeout},
		{"hung sse server", newProber(true), Target{Transport: contract.TransportSSE, URL: mcptest.StartHung(t).URL}, contract.ErrorTimeout},
		{"stdio: hangs", newProber(false), stdioTarget(bin, "-hang"), contract.ErrorTimeout},

		{"unknown CA", newProber(true), httpTarget(mcptest.StartHTTP(t, mcptest.Config{TLS: true}).URL), contract.ErrorTLS},
		{"sse: unknown CA", newProber(true), Target{Transport: contract.TransportSSE, URL: mcptest.StartSSE(t, mcptest.Config{TLS: true}).URL}, contract.ErrorTLS},
		{"https to a plain server", newProber(true), httpTarget(strings.Replace(modern.URL, "http://", "https://", 1)), contract.ErrorTLS},

		{"401 without a token", newProber(true), httpTarget(authed.URL), contract.ErrorAuth},
		{"401 with a wrong token", newProber(true), Target{Transport: contract.TransportHTTP, URL: authed.URL, BearerToken: "wrong"}, contract.ErrorAuth},
		{"sse: 401", newProber(true), Target{Transport: contract.TransportSSE, URL: mcptest.StartSSE(t, mcptest.Config{BearerToken: "x"}).URL}, contract.ErrorAuth},
		{"403", newProber(true), httpTarget(mcptest.StartStatic(t, 403, "text/plain", "no").URL), contract.ErrorAuth},

		{"loopback not allowed", newProber(false), httpTarget(modern.URL), contract.ErrorBlocked},
		{"loopback by name", newProber(false), httpTarget(strings.Replace(modern.URL, "127.0.0.1", "localhost", 1)), contract.ErrorBlocked},
		{"metadata address", newProber(true), httpTarget("http://169.254.169.254/latest/meta-data/"), contract.ErrorBlocked},
		{"redirect to metadata", newProber(true), httpTarget(mcptest.StartRedirect(t, "http://169.254.169.254/", http.StatusTemporaryRedirect).URL), contract.ErrorBlocked},

		{"html page", newProber(true), httpTarget(mcptest.StartHTML(t).URL), contract.ErrorProtocol},
		{"json api", newProber(true), httpTarget(mcptest.StartStatic(t, 200, "application/json", `{"status":"ok"}`).URL), contract.ErrorProtocol},
		{"404", newProber(true), httpTarget(strings.TrimSuffix(modern.URL, mcptest.Path) + "/wrong"), contract.ErrorProtocol},
		{"sse endpoint is streamable", newProber(true), Target{Transport: contract.TransportSSE, URL: modern.URL}, contract.ErrorProtocol},
		{"redirect loop", newProber(true), httpTarget(mcptest.StartRedirect(t, mcptest.Path, http.StatusTemporaryRedirect).URL), contract.ErrorProtocol},
		// It stays up after its answer: a child that exits is contract.ErrorUnreachable, whatever it printed.
		{"stdio: not MCP", newProber(false), stdioTarget("/bin/sh", "-c", "echo '<html>hello</html>'; exec sleep 10"), contract.ErrorProtocol},

		{"500", newProber(true), httpTarget(mcptest.StartStatic(t, 500, "text/plain", "database is down").URL), contract.ErrorServer},
		{"502", newProber(true), httpTarget(mcptest.StartStatic(t, 502, "text/html", "<h1>Bad Gateway</h1>").URL), contract.ErrorServer},
		{"503", newProber(true), httpTarget(mcptest.StartStatic(t, 503, "text/plain", "maintenance").URL), contract.ErrorServer},
		{"sse: 503", newProber(true), Target{Transport: contract.TransportSSE, URL: mcptest.StartStatic(t, 503, "text/plain", "maintenance").URL}, contract.ErrorServer},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := probe(t, tc.prober, tc.target)
			if res.OK {
				t.Fatalf("result OK, want a %s failure", tc.kind)
			}
			t.Logf("Err: %s", res.Err)
			wantKind(t, res, tc.kind)
		})
	}
}

// A passing check has no kind, and every failing one has one of the listed kinds.
func TestErrorKindOnlyOnFailure(t *testing.T) {
	res := probe(t, newProber(true), httpTarget(mcptest.StartModern(t).URL))
	wantOK(t, res)
	wantKind(t, res, "")

	res = probe(t, newProber(true), Target{Transport: contract.TransportStdio})
	if !slices.Contains(contract.ErrorKinds, res.ErrorKind) {
		t.Errorf("ErrorKind = %q, not one of %q", res.ErrorKind, contract.ErrorKinds)
	}
	if got := fmt.Sprint(contract.ErrorKinds); got != "[unreachable timeout tls auth blocked protocol server_error]" {
		t.Errorf("ErrorKinds = %s, want the SPEC §8 values", got)
	}
}
