package probe

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

// These tests probe the MCP project's own reference server,
// @modelcontextprotocol/server-everything (TypeScript SDK), so the prober is
// checked against an implementation other than the one it is built on.

// everything returns the node binary and the server's dist/index.js,
// installing the pinned package with scripts/npm-everything.sh if needed.
// Without node the tests skip, loudly; with node, a failed install fails.
func everything(t *testing.T) (node, entry string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("SKIPPED: node is not on PATH, so the @modelcontextprotocol/server-everything interoperability tests did not run; install Node.js to run them")
	}
	root := repoRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(root, "scripts", "npm-everything.sh"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("scripts/npm-everything.sh failed (node is present, so this is a failure, not a skip): %v\n%s", err, stderr.String())
	}
	entry = strings.TrimSpace(stdout.String())
	if _, err := os.Stat(entry); err != nil {
		t.Fatalf("scripts/npm-everything.sh printed %q, which is not a file: %v", entry, err)
	}
	return node, entry
}

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	n, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestProbeEverythingStreamableHTTP(t *testing.T) {
	node, entry := everything(t)
	port := freePort(t)

	cmd := exec.Command(node, entry, "streamableHttp")
	cmd.Env = []string{"PATH=" + filepath.Dir(node) + ":/usr/bin:/bin", fmt.Sprintf("PORT=%d", port)}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var output bytes.Buffer
	cmd.Stdout, cmd.Stderr = &output, &output
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting server-everything: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	})

	// Wait for it to listen; node takes a moment to load.
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	giveUp := time.After(time.Minute)
	for ready := false; !ready; {
		select {
		case <-exited:
			t.Fatalf("server-everything exited before listening:\n%s", output.String())
		case <-giveUp:
			t.Fatalf("server-everything did not listen on %s within a minute", addr)
		case <-time.After(50 * time.Millisecond):
		}
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			ready = true
		}
	}

	p := New(Options{AllowPrivate: true})
	res := probe(t, p, Target{Transport: contract.TransportHTTP, URL: "http://" + addr + "/mcp"})
	wantOK(t, res)
	if res.ServerName == "" || res.ProtocolVersion == "" {
		t.Errorf("result = %+v, want a server name and protocol version", res)
	}
	if !res.Capabilities.Tools || !res.Capabilities.Resources || !res.Capabilities.Prompts {
		t.Errorf("Capabilities = %+v, want tools, resources and prompts", res.Capabilities)
	}
	wantEverythingListing(t, res.Listing)

	res = probe(t, p, Target{Transport: contract.TransportHTTP, URL: "http://" + addr + "/nope"})
	wantErr(t, res, "HTTP 404")
}

func TestProbeEverythingStdio(t *testing.T) {
	node, entry := everything(t)
	noLeaks(t)
	res := probe(t, New(Options{}), Target{
		Transport: contract.TransportStdio,
		Command:   node,
		Args:      []string{entry, "stdio"},
		Env:       []string{"PATH=" + filepath.Dir(node) + ":/usr/bin:/bin"},
	})
	wantOK(t, res)
	if res.ServerName == "" || res.ProtocolVersion == "" {
		t.Errorf("result = %+v, want a server name and protocol version", res)
	}
	if res.Instructions == nil {
		t.Error("Instructions = nil; server-everything returns instructions")
	}
	wantEverythingListing(t, res.Listing)
}

// wantEverythingListing checks that what server-everything offers arrived:
// its echo tool among the tools, and prompts and resources.
func wantEverythingListing(t *testing.T, l Listing) {
	t.Helper()
	tools, prompts, resources := field(t, l.Tools, "name"), field(t, l.Prompts, "name"), field(t, l.Resources, "uri")
	t.Logf("server-everything offers %d tools %q, %d prompts %q, %d resources", len(tools), tools, len(prompts), prompts, len(resources))
	if !slices.Contains(tools, "echo") {
		t.Errorf("tools = %q, want one named echo", tools)
	}
	if len(prompts) == 0 || len(resources) == 0 {
		t.Errorf("got %d prompts and %d resources, want some of each", len(prompts), len(resources))
	}
	for _, list := range [][]string{tools, prompts, resources} {
		if slices.Contains(list, "") {
			t.Errorf("an item without a name or uri in %q", list)
		}
	}
	if l.Truncated {
		t.Error("Truncated = true, want false")
	}
}
