package gateway

import (
	"context"
	"fmt"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/probe"
)

// The stdio process cap (SPEC §10, "Protocol"): every downstream session
// of a stdio upstream runs a process of its own, so the gateway runs at
// most this many at once; a session over the cap is refused, not queued,
// so that its client hears why at once.
const (
	// DefaultStdioMaxProcesses is the cap when MCP_API_STDIO_MAX_PROCESSES is not set.
	DefaultStdioMaxProcesses = 16
	// StdioMaxProcessesEnv names the variable of the cap.
	StdioMaxProcessesEnv = "MCP_API_STDIO_MAX_PROCESSES"
)

// connect opens an upstream session to target, holding one of the stdio
// slots for as long as a stdio session lives: until its process group has
// been killed and reaped.
func (g *Gateway) connect(ctx context.Context, target probe.Target, client *mcp.Client, pooled bool) (*probe.Session, error) {
	dial := g.dialer.Connect
	if pooled {
		dial = g.dialer.ConnectRequestsOnly
	}
	if target.Transport != contract.TransportStdio {
		return dial(ctx, target, client)
	}
	select {
	case g.stdio <- struct{}{}:
	default:
		return nil, &probe.ConnectError{Kind: contract.ErrorUnreachable, Message: fmt.Sprintf(
			"the gateway already runs %d stdio MCP server processes, its limit (%s); retry once another session has ended, or ask the operator to raise %s",
			cap(g.stdio), StdioMaxProcessesEnv, StdioMaxProcessesEnv)}
	}
	up, err := dial(ctx, target, client)
	if err != nil {
		<-g.stdio
		return nil, err
	}
	go func() {
		_ = up.Wait()
		// Close returns once the process group is gone, however the
		// session ended (and whoever else is closing it).
		_ = up.Close()
		<-g.stdio
	}()
	return up, nil
}
