package mcptest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// stdioServerPkg is the package BuildStdioServer compiles.
const stdioServerPkg = "github.com/mcpconn/terraform-provider-mcp/internal/mcptest/stdioserver"

// BuildStdioServer compiles the stdioserver command into a temporary
// directory and returns the binary's path. See its package comment for the
// modes its flags select.
func BuildStdioServer(t testing.TB) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("building the stdio test server needs the go command on PATH: %v", err)
	}
	out := filepath.Join(t.TempDir(), "stdioserver")
	cmd := exec.Command(goBin, "build", "-o", out, stdioServerPkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building %s: %v\n%s", stdioServerPkg, err, b)
	}
	return out
}
