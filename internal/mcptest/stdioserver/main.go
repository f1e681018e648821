// Command stdioserver is an MCP server on stdin/stdout for tests, with modes
// that misbehave the way real child processes do. Tests build it with
// mcptest.BuildStdioServer; it is not shipped.
//
//	stdioserver [-name N] [-instructions TEXT | -env-instructions]   serve MCP
//	stdioserver -linger -pidfile F    serve MCP, leaving a grandchild that outlives stdin
//	stdioserver -hang -pidfile F      never answer; ignore stdin close and SIGTERM; spawn a grandchild
//	stdioserver -exit N -stderr TEXT  write TEXT to stderr and exit with status N
//	stdioserver -tools N [-prompts N] [-resources N] [-page-size N]   serve an mcptest.Catalog
//	stdioserver -tools-json FILE      serve an mcptest.Script whose tools/list result is {"tools": FILE's JSON array}
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/mcpconn/terraform-provider-mcp/internal/mcptest"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

func main() {
	var (
		name            = flag.String("name", "mcptest-stdio", "serverInfo name")
		instructions    = flag.String("instructions", "", "instructions to return")
		envInstructions = flag.Bool("env-instructions", false, "return the environment, one variable a line, as instructions")
		linger          = flag.Bool("linger", false, "leave a grandchild running that ignores stdin close and SIGTERM")
		hang            = flag.Bool("hang", false, "never answer, ignore stdin close and SIGTERM, spawn a grandchild")
		pidfile         = flag.String("pidfile", "", "write \"child PID\" and \"grandchild PID\" lines here")
		exitCode        = flag.Int("exit", -1, "exit at once with this status")
		stderrText      = flag.String("stderr", "", "write this to stderr first")
		sleep           = flag.Bool("sleep", false, "internal: the grandchild; ignore SIGTERM and sleep")
		tools           = flag.Int("tools", 0, "serve a catalog with this many tools")
		prompts         = flag.Int("prompts", 0, "the catalog's prompts")
		resources       = flag.Int("resources", 0, "the catalog's resources")
		pageSize        = flag.Int("page-size", 0, "the catalog's list page size")
		toolsJSON       = flag.String("tools-json", "", "serve a hand-written server listing this file's raw JSON array of tools")
	)
	flag.Parse()

	if *stderrText != "" {
		fmt.Fprint(os.Stderr, *stderrText)
	}
	switch {
	case *sleep:
		signal.Ignore(syscall.SIGTERM, syscall.SIGHUP, syscall.SIGINT)
		for {
			time.Sleep(time.Hour)
		}
	case *exitCode >= 0:
		os.Exit(*exitCode)
	case *hang:
		signal.Ignore(syscall.SIGTERM, syscall.SIGHUP, syscall.SIGINT)
		spawnGrandchild(*pidfile)
		for {
			time.Sleep(time.Hour)
		}
	}

	if *linger {
		spawnGrandchild(*pidfile)
	}
	if *toolsJSON != "" {
		serveToolsJSON(*name, *toolsJSON)
		return
	}
	if *tools > 0 || *prompts > 0 || *resources > 0 {
		cat := mcptest.Catalog{Tools: *tools, Prompts: *prompts, Resources: *resources, PageSize: *pageSize}
		if err := mcptest.NewCatalogServer(mcptest.Config{Name: *name}, cat).Run(context.Background(), &mcp.StdioTransport{}); err != nil {
			fmt.Fprintln(os.Stderr, "stdioserver:", err)
			os.Exit(1)
		}
		return
	}
	cfg := mcptest.Config{Name: *name, Instructions: *instructions, Tools: true}
	if *envInstructions {
		cfg.Instructions = strings.Join(os.Environ(), "\n")
	}
	if err := mcptest.NewServer(cfg).Run(context.Background(), &mcp.StdioTransport{}); err != nil {
		fmt.Fprintln(os.Stderr, "stdioserver:", err)
		os.Exit(1)
	}
}

// serveToolsJSON serves a Script whose tools/list answer is the file's array, as it is.
func serveToolsJSON(name, file string) {
	tools, err := os.ReadFile(file)
	if err != nil {
		fmt.Fprintln(os.Stderr, "stdioserver:", err)
		os.Exit(1)
	}
	s := mcptest.Script{Name: name, Handle: func(method string, _ json.RawMessage) (json.RawMessage, *mcptest.RPCError) {
		if method != "tools/list" {
			return nil, &mcptest.RPCError{Code: -32601, Message: "method not found"}
		}
		return json.RawMessage(`{"tools":` + strings.TrimSpace(string(tools)) + `}`), nil
	}}
	if err := mcptest.ServeScript(s, os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "stdioserver:", err)
		os.Exit(1)
	}
}

// spawnGrandchild starts a copy of this program that sleeps forever, holding
// our stdout and stderr, in our process group, and records both PIDs.
func spawnGrandchild(pidfile string) {
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "stdioserver:", err)
		os.Exit(1)
	}
	gc := exec.Command(self, "-sleep")
	gc.Stdout, gc.Stderr = os.Stdout, os.Stderr
	if err := gc.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "stdioserver:", err)
		os.Exit(1)
	}
	if pidfile == "" {
		return
	}
	// Write and rename, so a reader never sees half a file.
	tmp := pidfile + ".tmp"
	body := fmt.Sprintf("child %d\ngrandchild %d\n", os.Getpid(), gc.Process.Pid)
	if err := os.WriteFile(tmp, []byte(body), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, "stdioserver:", err)
		os.Exit(1)
	}
	if err := os.Rename(tmp, pidfile); err != nil {
		fmt.Fprintln(os.Stderr, "stdioserver:", err)
		os.Exit(1)
	}
}
