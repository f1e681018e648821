package health

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/google/uuid"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/probe"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
)

// ServerChecker probes MCP servers and stores the results: the one code path
// behind POST /api/mcp/servers/{id}/connect, the probe that follows a create
// or an endpoint change, and the scheduled re-probes (it is a Source). It is
// safe for concurrent use.
type ServerChecker struct {
	*checker[store.Server]
	commands  []string
	stdioPath string

	background sync.WaitGroup
}

var (
	_ Source  = (*ServerChecker)(nil)
	_ Drainer = (*ServerChecker)(nil)
)

// NewServerChecker returns a ServerChecker configured by cfg.
func NewServerChecker(cfg CheckerConfig) (*ServerChecker, error) {
	c := &ServerChecker{commands: slices.Clone(cfg.StdioCommands), stdioPath: cfg.StdioPath}
	var err error
	c.checker, err = newChecker(cfg, kind[store.Server]{
		noun:   "MCP server",
		metric: "server",
		id:     func(row store.Server) string { return row.ID },
		attrs: func(row store.Server) []any {
			return append(recordAttrs("server", row.ID, row.TenantID), "transport", row.TransportType)
		},
		claim:  cfg.Store.ClaimDueServers,
		record: cfg.Store.RecordServerChecks,
		target: c.target,
	})
	if err != nil {
		return nil, err
	}
	for _, name := range c.commands {
		if err := contract.ValidateCommand(name); err != nil {
			return nil, fmt.Errorf("MCP server checker: stdio command %v", err)
		}
	}
	if c.stdioPath == "" {
		c.stdioPath = os.Getenv("PATH")
	}
	return c, nil
}

// CheckServer probes the tenant's MCP server id now — whatever its status,
// disconnected included — stores the result and returns the stored row. The
// check counts as the scheduled one. A failing probe is not an error: it is
// recorded on the row as status error with lastError. Errors are the
// store's (store.ErrNotFound, store.ErrUnavailable) or ctx's.
func (c *ServerChecker) CheckServer(ctx context.Context, tenantID uuid.UUID, id string) (store.Server, error) {
	row, err := c.store.GetServer(ctx, tenantID, id)
	if err != nil {
		return store.Server{}, err
	}
	return c.check(ctx, row)
}

// CheckServerInBackground starts a check of the tenant's MCP server id and
// returns at once. The check claims the row first, as the scheduler would,
// so it is skipped when the scheduler already has it, or when the server is
// disconnected. It runs detached from the request that asked for it (ctx
// lends it only its values, such as the request id its log lines name),
// bounded by the lease; Wait waits for it.
func (c *ServerChecker) CheckServerInBackground(ctx context.Context, tenantID uuid.UUID, id string) {
	ctx = context.WithoutCancel(ctx)
	c.background.Go(func() {
		ctx, cancel := context.WithTimeout(ctx, c.lease)
		defer cancel()
		row, ok, err := c.store.ClaimServer(ctx, tenantID, id, c.lease)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return // deleted before its first probe
		case err != nil:
			c.log.WarnContext(ctx, "could not start the first probe of an MCP server; the scheduler probes it when it is due",
				"server", id, "tenant", tenantID, "error", err)
			return
		case !ok:
			return // claimed by the scheduler, or disconnected
		}
		c.scheduled(ctx, row)
	})
}

// Wait waits for the checks CheckServerInBackground started, and for their
// results to be stored. A server shutting down calls it after its HTTP
// server has stopped taking requests.
func (c *ServerChecker) Wait() {
	c.background.Wait()
	c.Drain()
}

// ServerTarget is how to reach row's server, credentials included, exactly
// as its checks do — for the gateway, which opens sessions to proxied
// servers. A *probe.ConnectError says why it must not be reached.
func (c *ServerChecker) ServerTarget(ctx context.Context, row store.Server) (probe.Target, error) {
	return c.targetOf(ctx, row)
}

// ServerKey is probe.Target.Key of MCP server id: what is cached for it
// (OAuth 2.0 access tokens) is kept under this key.
func ServerKey(id string) string { return "server:" + id }

// target is how to reach row's server, or why it must not be reached (a
// message for lastError and its kind).
func (c *ServerChecker) target(ctx context.Context, row store.Server) (probe.Target, contract.ErrorKind, string) {
	t := probe.Target{Transport: contract.TransportType(row.TransportType)}
	switch t.Transport {
	case contract.TransportStdio:
		if row.Command == nil {
			return t, contract.ErrorUnreachable, "stdio server has no command: set command"
		}
		if err := contract.ValidateCommand(*row.Command); err != nil {
			return t, contract.ErrorBlocked, "command " + err.Error()
		}
		if !slices.Contains(c.commands, *row.Command) {
			return t, contract.ErrorBlocked, c.notAllowed(*row.Command)
		}
		t.Command = *row.Command
		t.Args = slices.Clone(row.Args)
		// The child's whole environment: nothing of the API's own.
		t.Env = []string{"PATH=" + c.stdioPath}
	case contract.TransportHTTP, contract.TransportSSE:
		if row.URL == nil {
			return t, contract.ErrorUnreachable, "server has no url: set url"
		}
		t.URL = *row.URL
		// The schema keeps the ciphertext and its key id together.
		if row.TokenCiphertext != nil && row.TokenKeyID != nil {
			if msg := c.bearer(ctx, row, &t, row.TokenCiphertext, row.TokenKeyID, store.ServerTokenAAD(row.ID)); msg != "" {
				return t, contract.ErrorAuth, msg
			}
		}
		if msg := c.upstream(ctx, row, &t, row.AuthType, row.UpstreamAuth, store.ServerAuthAAD(row.ID), ServerKey(row.ID)); msg != "" {
			return t, contract.ErrorAuth, msg
		}
	default:
		return t, contract.ErrorUnreachable, fmt.Sprintf("unsupported transportType %q: use http, sse or stdio", row.TransportType)
	}
	return t, "", ""
}

func (c *ServerChecker) notAllowed(command string) string {
	if len(c.commands) == 0 {
		return fmt.Sprintf("stdio servers are disabled on this API server, so command %q was not started: the operator enables them by listing allowed programs in %s", command, StdioCommandsEnv)
	}
	return fmt.Sprintf("command %q is not on this API server's stdio allowlist (%s), so it was not started: the operator must add it, or use one of %s",
		command, StdioCommandsEnv, strings.Join(c.commands, ", "))
}
