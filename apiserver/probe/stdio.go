package probe

import (
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"

	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// stderrKeep is how much of a stdio child's stderr is kept for messages.
const stderrKeep = 4 << 10

// probeStdio runs t.Command as a child process speaking MCP on stdin/stdout.
// The child runs in a process group of its own, and whatever happens the
// whole group is killed and the child reaped before this returns: the SDK
// only ever signals the direct child, and a server's helpers would outlive it.
func (p *Prober) probeStdio(ctx context.Context, t Target, limit time.Duration) Result {
	cmd, stderr, err := p.stdioCommand(ctx, t)
	if err != nil {
		return failed(contract.ErrorUnreachable, err.Error())
	}
	wire := &rawCapture{}
	tr := &stdioTransport{inner: &mcp.CommandTransport{Command: cmd, TerminateDuration: p.terminateDelay}, wire: wire}
	res, err := p.check(ctx, tr, wire)
	started, waitErr := tr.closeAndWait()
	if started {
		_ = killGroup(cmd)
	}
	if err != nil {
		return failed(describeStdio(ctx, err, waitErr, stderr.String(), t, limit))
	}
	return res
}

// killGroup sends SIGKILL to the process group led by cmd's process.
// The group's ID stays reserved while any member lives, so this cannot hit
// an unrelated process even after the leader has been reaped.
func killGroup(cmd *exec.Cmd) error {
	if cmd.Process == nil {
		return nil
	}
	err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	if errors.Is(err, syscall.ESRCH) {
		return os.ErrProcessDone
	}
	return err
}

// stdioTransport wraps the SDK's CommandTransport to keep hold of the
// connection, so the probe can wait for the child to be reaped, and to see
// the raw results of list requests (see capturingConn).
type stdioTransport struct {
	inner *mcp.CommandTransport
	wire  *rawCapture
	conn  *onceCloseConn
}

func (t *stdioTransport) Connect(ctx context.Context) (mcp.Connection, error) {
	c, err := t.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	t.conn = &onceCloseConn{Connection: &capturingConn{Connection: c, wire: t.wire}}
	return t.conn, nil
}

// closeAndWait closes the connection (or waits for the SDK's close to
// finish), which closes stdin and waits for the child, signalling it if it
// lingers. It reports whether a child was started at all, and the close
// error: the child's exit error when it was reaped.
func (t *stdioTransport) closeAndWait() (started bool, err error) {
	if t.conn == nil {
		return false, nil
	}
	return true, t.conn.Close()
}

// onceCloseConn makes every Close wait for the first one to finish.
type onceCloseConn struct {
	mcp.Connection
	once sync.Once
	err  error
}

func (c *onceCloseConn) Close() error {
	c.once.Do(func() { c.err = c.Connection.Close() })
	return c.err
}

// lookPath finds command the way the child's own environment would: in
// env's PATH, or in the API's PATH when env sets none. Relative PATH entries
// are skipped, so the API's working directory never supplies a program.
func lookPath(command string, env []string) (string, error) {
	if strings.Contains(command, "/") {
		return command, nil
	}
	pathList, ok := "", false
	for _, kv := range env {
		if v, found := strings.CutPrefix(kv, "PATH="); found {
			pathList, ok = v, true // the last one wins, as in exec
		}
	}
	if !ok {
		pathList = os.Getenv("PATH")
	}
	for _, dir := range filepath.SplitList(pathList) {
		if !filepath.IsAbs(dir) {
			continue
		}
		path := filepath.Join(dir, command)
		if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return path, nil
		}
	}
	return "", fmt.Errorf("command %q not found in PATH %q: install it or give its absolute path", command, pathList)
}

// describeStdio explains a failed stdio check, and its kind. waitErr is
// what reaping the child returned: its exit status, when it exited.
func describeStdio(ctx context.Context, err, waitErr error, stderr string, t Target, timeout time.Duration) (contract.ErrorKind, string) {
	name := fmt.Sprintf("command %q", t.Command)
	tail := ""
	if s := stderrLines(stderr, 5, 600); s != "" {
		tail = "; its stderr: " + s
	}

	var pathErr *fs.PathError
	if errors.As(err, &pathErr) {
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return contract.ErrorUnreachable, name + " not found: check the path"
		case errors.Is(err, fs.ErrPermission):
			return contract.ErrorUnreachable, name + " is not executable: permission denied"
		case errors.Is(err, syscall.ENOEXEC):
			return contract.ErrorUnreachable, name + " is not a program this system can run (exec format error)"
		}
		return contract.ErrorUnreachable, fmt.Sprintf("could not start %s: %s", name, pathErr.Err)
	}
	if errors.Is(err, errTooLarge) {
		return contract.ErrorProtocol, describeTooLarge(err) + tail
	}

	var (
		pe *pingError
		le *listingError
	)
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		if errors.As(err, &pe) {
			return contract.ErrorTimeout, fmt.Sprintf("%s completed the MCP handshake but did not answer ping within %s; it was killed%s", name, timeout, tail)
		}
		if errors.As(err, &le) {
			return contract.ErrorTimeout, fmt.Sprintf("%s completed the MCP handshake but did not answer %s within %s; it was killed%s", name, le.method, timeout, tail)
		}
		return contract.ErrorTimeout, fmt.Sprintf("%s gave no MCP answer within %s; it was killed%s", name, timeout, tail)
	}
	if ctx.Err() != nil {
		return contract.ErrorTimeout, "the check was cancelled before it finished"
	}

	var exitErr *exec.ExitError
	exited := errors.As(waitErr, &exitErr) && exitErr.Exited()
	code := 0
	if exited {
		code = exitErr.ExitCode()
	}
	handshakeDone := errors.As(err, &pe) || errors.As(err, &le)
	if !handshakeDone && (exited || waitErr == nil) && (errors.Is(err, mcp.ErrConnectionClosed) || errors.Is(err, io.EOF)) {
		return contract.ErrorUnreachable, fmt.Sprintf("%s exited with status %d before completing the MCP handshake%s", name, code, tail)
	}
	return contract.ErrorProtocol, describeProtocol(err, t) + tail
}

// stderrLines is the first lines of a child's stderr, squeezed for a message.
func stderrLines(s string, lines, limit int) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = oneLine(l, limit); l != "" {
			out = append(out, l)
		}
		if len(out) == lines {
			break
		}
	}
	return oneLine(strings.Join(out, " | "), limit)
}

// headBuffer keeps the first max bytes written to it and discards the rest,
// so a chatty child cannot grow the API's memory.
type headBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (b *headBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := b.max - len(b.buf); room > 0 {
		b.buf = append(b.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (b *headBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}
