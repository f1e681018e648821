package probe

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/internal/mcptest"
)

func stdioTarget(command string, args ...string) Target {
	return Target{Transport: contract.TransportStdio, Command: command, Args: args, Env: []string{"PATH=/usr/bin:/bin"}}
}

// readPIDs waits for the stdio server's pidfile and returns the child's and grandchild's PIDs.
func readPIDs(t *testing.T, path string) (child, grandchild int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the stdio server wrote no pidfile: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		name, val, _ := strings.Cut(line, " ")
		pid, err := strconv.Atoi(val)
		if err != nil {
			t.Fatalf("pidfile line %q: %v", line, err)
		}
		switch name {
		case "child":
			child = pid
		case "grandchild":
			grandchild = pid
		}
	}
	if child == 0 || grandchild == 0 {
		t.Fatalf("pidfile %q lacks a PID", b)
	}
	return child, grandchild
}

// alive reports whether pid is a live process: running or sleeping, not a
// zombie waiting for a reaper it may never get (orphans go to PID 1).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return false
	}
	state := b[i+2]
	return state != 'Z' && state != 'X'
}

// wantGone fails unless every pid is dead; a SIGKILL takes effect at once,
// the wait only absorbs scheduling.
func wantGone(t *testing.T, pids ...int) {
	t.Helper()
	for _, pid := range pids {
		gone := false
		for range 250 {
			if !alive(pid) {
				gone = true
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if !gone {
			t.Errorf("process %d is still running after the probe returned", pid)
		}
	}
}

func TestProbeStdio(t *testing.T) {
	bin := mcptest.BuildStdioServer(t)

	t.Run("ok", func(t *testing.T) {
		noLeaks(t)
		res := probe(t, newProber(false), stdioTarget(bin, "-name", "stdio-probe", "-instructions", "talk to me"))
		wantOK(t, res)
		if res.ServerName != "stdio-probe" || res.Instructions == nil || *res.Instructions != "talk to me" || !res.Capabilities.Tools {
			t.Errorf("result = %+v, want serverInfo, instructions and tools from the child", res)
		}
		if res.ProtocolVersion != mcptest.ModernVersion {
			t.Errorf("ProtocolVersion = %q, want %q", res.ProtocolVersion, mcptest.ModernVersion)
		}
	})

	t.Run("environment is exactly Target.Env", func(t *testing.T) {
		t.Setenv("MCP_API_SECRET_KEY", "must-not-reach-the-child")
		target := stdioTarget(bin, "-env-instructions")
		target.Env = []string{"FOO=bar", "PATH=/nonexistent"}
		res := probe(t, newProber(false), target)
		wantOK(t, res)
		if want := "FOO=bar\nPATH=/nonexistent"; res.Instructions == nil || *res.Instructions != want {
			t.Errorf("child environment = %v, want exactly %q", res.Instructions, want)
		}
	})

	t.Run("command is looked up in the child's PATH", func(t *testing.T) {
		target := stdioTarget(filepath.Base(bin))
		target.Env = []string{"PATH=/nonexistent:" + filepath.Dir(bin)}
		wantOK(t, probe(t, newProber(false), target))

		target.Env = []string{"PATH=/usr/bin:/bin"}
		wantErr(t, probe(t, newProber(false), target), `command "stdioserver" not found in PATH "/usr/bin:/bin"`)
	})

	t.Run("cannot start", func(t *testing.T) {
		notExec := filepath.Join(t.TempDir(), "server.sh")
		if err := os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		wantErr(t, probe(t, newProber(false), stdioTarget("/nonexistent/mcp-server")), `command "/nonexistent/mcp-server" not found`)
		wantErr(t, probe(t, newProber(false), stdioTarget(notExec)), "is not executable")
	})

	t.Run("exits early", func(t *testing.T) {
		noLeaks(t)
		res := probe(t, newProber(false), stdioTarget(bin, "-exit", "3", "-stderr", "fatal: no API key configured\nsee --help\n"))
		wantErr(t, res, "exited with status 3 before completing the MCP handshake", "fatal: no API key configured | see --help")
	})

	t.Run("hangs with a grandchild", func(t *testing.T) {
		noLeaks(t)
		pidfile := filepath.Join(t.TempDir(), "pids")
		res := probe(t, newProber(false), stdioTarget(bin, "-hang", "-pidfile", pidfile, "-stderr", "starting up\n"))
		wantErr(t, res, "gave no MCP answer within "+testTimeout.String(), "it was killed", "starting up")
		child, grandchild := readPIDs(t, pidfile)
		wantGone(t, child, grandchild)
	})

	t.Run("answers but leaves a grandchild", func(t *testing.T) {
		noLeaks(t)
		pidfile := filepath.Join(t.TempDir(), "pids")
		res := probe(t, newProber(false), stdioTarget(bin, "-linger", "-pidfile", pidfile))
		wantOK(t, res)
		child, grandchild := readPIDs(t, pidfile)
		wantGone(t, child, grandchild)
	})

	t.Run("not an MCP server", func(t *testing.T) {
		res := probe(t, newProber(false), stdioTarget("/bin/echo", "hello"))
		wantErr(t, res, `command "/bin/echo"`)
	})
}
