package health

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/probe"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/secrets"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
)

// StdioCommandsEnv names the variable that lists the programs stdio MCP
// servers may run; empty (the default) disables stdio servers.
const StdioCommandsEnv = "MCP_API_STDIO_COMMANDS"

// launchers are programs whose arguments name another program or a script
// to run. Listing one would let any tenant run anything through args, so
// they are refused even when the operator lists them.
var launchers = []string{
	"sh", "bash", "dash", "zsh", "ksh", "mksh", "csh", "tcsh", "fish", "ash", "busybox", "toybox",
	"env", "sudo", "su", "doas", "xargs", "nohup", "nice", "ionice", "timeout", "setsid", "chroot",
	"stdbuf", "strace", "script", "watch", "flock", "runuser", "unshare", "nsenter",
}

// ParseStdioCommands parses the value of MCP_API_STDIO_COMMANDS: program
// names separated by commas, each a bare name (no path) as a stdio server's
// command must be. Spaces around names and empty entries are ignored; an
// empty list disables stdio servers. Shells and command launchers are
// refused: with them, no command would be out of reach.
func ParseStdioCommands(list string) ([]string, error) {
	var out []string
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if err := contract.ValidateCommand(name); err != nil {
			return nil, fmt.Errorf("%s: each entry %v", StdioCommandsEnv, err)
		}
		if slices.Contains(launchers, name) {
			return nil, fmt.Errorf("%s: %q is a shell or command launcher; allowing it would let any tenant run any program through args, so list the MCP server programs themselves", StdioCommandsEnv, name)
		}
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out, nil
}

// ServerCheckerConfig configures a ServerChecker. Store, Keyring and Prober
// are required.
type ServerCheckerConfig struct {
	Store   *store.Store
	Keyring *secrets.Keyring
	Prober  *probe.Prober
	// Interval is the time from one check of a server to its next; zero means DefaultInterval.
	Interval time.Duration
	// Lease is how long a claimed server is held for its check before
	// another replica may take it; as for Checker it must exceed twice the
	// prober's timeout, and zero means twice the timeout plus 30s.
	Lease time.Duration
	// StdioCommands are the programs stdio servers may run (from
	// ParseStdioCommands). A server whose command is not on the list is not
	// started, even if it was allowed when the server was created.
	StdioCommands []string
	// StdioPath is the PATH stdio commands are looked up in, and the only
	// variable of their environment (nothing of the API's own, whose
	// secrets stay out of reach); empty means the API's PATH at start.
	StdioPath string
	// Logger receives one line per check; nil discards them.
	Logger *slog.Logger
}

// ServerChecker probes MCP servers and stores the results: the one code path
// behind POST /api/mcp/servers/{id}/connect, the probe that follows a create
// or an endpoint change, and the scheduled re-probes (it is a Source). It is
// safe for concurrent use.
type ServerChecker struct {
	store     *store.Store
	keyring   *secrets.Keyring
	prober    *probe.Prober
	interval  time.Duration
	lease     time.Duration
	commands  []string
	stdioPath string
	log       *slog.Logger

	background sync.WaitGroup
}

var _ Source = (*ServerChecker)(nil)

// NewServerChecker returns a ServerChecker configured by cfg.
func NewServerChecker(cfg ServerCheckerConfig) (*ServerChecker, error) {
	if cfg.Store == nil || cfg.Keyring == nil || cfg.Prober == nil {
		return nil, errors.New("MCP server checker: Store, Keyring and Prober are all required")
	}
	if cfg.Interval < 0 || cfg.Lease < 0 {
		return nil, fmt.Errorf("MCP server checker: interval (%s) and lease (%s) must not be negative", cfg.Interval, cfg.Lease)
	}
	c := &ServerChecker{
		store:     cfg.Store,
		keyring:   cfg.Keyring,
		prober:    cfg.Prober,
		interval:  cfg.Interval,
		lease:     cfg.Lease,
		commands:  slices.Clone(cfg.StdioCommands),
		stdioPath: cfg.StdioPath,
		log:       cfg.Logger,
	}
	if c.interval == 0 {
		c.interval = DefaultInterval
	}
	if c.interval < time.Millisecond {
		return nil, fmt.Errorf("MCP server checker: interval must be at least 1ms, got %s", c.interval)
	}
	maxWait := 2 * cfg.Prober.Timeout()
	if c.lease == 0 {
		c.lease = maxWait + leaseMargin
	}
	if c.lease <= maxWait {
		return nil, fmt.Errorf("MCP server checker: lease %s must exceed twice the probe timeout (%s), or replicas would probe servers still being probed", c.lease, maxWait)
	}
	for _, name := range c.commands {
		if err := contract.ValidateCommand(name); err != nil {
			return nil, fmt.Errorf("MCP server checker: stdio command %v", err)
		}
	}
	if c.stdioPath == "" {
		c.stdioPath = os.Getenv("PATH")
	}
	if c.log == nil {
		c.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return c, nil
}

// Interval is the time from one check of a server to its next.
func (c *ServerChecker) Interval() time.Duration { return c.interval }

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
	return c.check(ctx, row, true)
}

// CheckServerInBackground starts a check of the tenant's MCP server id and
// returns at once. The check claims the row first, as the scheduler would,
// so it is skipped when the scheduler already has it, or when the server is
// disconnected. It runs detached from any request, bounded by the lease;
// Wait waits for it.
func (c *ServerChecker) CheckServerInBackground(tenantID uuid.UUID, id string) {
	c.background.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), c.lease)
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

// Wait waits for the checks CheckServerInBackground started. A server
// shutting down calls it after its HTTP server has stopped taking requests.
func (c *ServerChecker) Wait() { c.background.Wait() }

// Claim takes up to n MCP servers that are due for their scheduled check
// (never disconnected ones) and returns a job per server that checks it.
func (c *ServerChecker) Claim(ctx context.Context, n int) ([]Job, error) {
	rows, err := c.store.ClaimDueServers(ctx, n, c.lease)
	if err != nil {
		return nil, err
	}
	jobs := make([]Job, len(rows))
	for i, row := range rows {
		jobs[i] = func(ctx context.Context) { c.scheduled(ctx, row) }
	}
	return jobs, nil
}

// scheduled runs the check of a claimed row; nobody waits for its result,
// so store errors are logged here and the row is retried when its lease ends.
func (c *ServerChecker) scheduled(ctx context.Context, row store.Server) {
	_, err := c.check(ctx, row, false)
	switch {
	case err == nil:
	case errors.Is(err, store.ErrNotFound):
		c.log.DebugContext(ctx, "MCP server deleted while it was being probed", "server", row.ID, "tenant", row.TenantID)
	default:
		c.log.WarnContext(ctx, "could not store the probe of an MCP server; it is retried when its lease ends",
			"server", row.ID, "tenant", row.TenantID, "lease", c.lease, "error", err)
	}
}

// check probes row, as read from the store, and records the result. manual
// is a connect the tenant asked for: it may revive a disconnected server,
// and when the row's endpoint changed meanwhile the new endpoint is probed
// instead. Other checks drop a result that no longer applies: whoever
// changed the row started the probe it needs.
func (c *ServerChecker) check(ctx context.Context, row store.Server, manual bool) (store.Server, error) {
	for attempt := 1; ; attempt++ {
		result, took, protocol := c.probe(ctx, row)
		if err := ctx.Err(); err != nil {
			// The probe was cut short; what it saw says nothing about the server.
			return store.Server{}, fmt.Errorf("probe of MCP server %s: %w", row.ID, err)
		}
		stored, err := c.store.RecordServerCheck(ctx, row, result, c.interval, manual)
		switch {
		case err == nil:
			c.logResult(ctx, stored, result, took, protocol)
			return stored, nil
		case errors.Is(err, store.ErrChanged) && manual && attempt < staleAttempts:
			row = stored
		case errors.Is(err, store.ErrChanged):
			c.log.DebugContext(ctx, "MCP server changed during its probe; result not stored",
				"server", row.ID, "tenant", row.TenantID)
			return stored, nil
		default:
			return store.Server{}, err
		}
	}
}

// probe runs the MCP handshake with the server row describes and reports
// the outcome as the store records it, with its duration and protocol
// version for the log.
func (c *ServerChecker) probe(ctx context.Context, row store.Server) (store.CheckResult, time.Duration, string) {
	target, msg := c.target(ctx, row)
	if msg != "" {
		return store.CheckResult{Err: msg}, 0, ""
	}
	res := c.prober.Probe(ctx, target)
	if !res.OK {
		return store.CheckResult{Err: res.Err}, res.Duration, ""
	}
	return store.CheckResult{
		OK: true,
		Capabilities: store.Capabilities{
			Tools:     res.Capabilities.Tools,
			Resources: res.Capabilities.Resources,
			Prompts:   res.Capabilities.Prompts,
		},
		ServerName:    res.ServerName,
		ServerVersion: res.ServerVersion,
	}, res.Duration, res.ProtocolVersion
}

// target is how to reach row's server, or why it must not be reached (a
// message for lastError).
func (c *ServerChecker) target(ctx context.Context, row store.Server) (probe.Target, string) {
	t := probe.Target{Transport: contract.TransportType(row.TransportType)}
	switch t.Transport {
	case contract.TransportStdio:
		if row.Command == nil {
			return t, "stdio server has no command: set command"
		}
		if err := contract.ValidateCommand(*row.Command); err != nil {
			return t, "command " + err.Error()
		}
		if !slices.Contains(c.commands, *row.Command) {
			return t, c.notAllowed(*row.Command)
		}
		t.Command = *row.Command
		t.Args = slices.Clone(row.Args)
		// The child's whole environment: nothing of the API's own.
		t.Env = []string{"PATH=" + c.stdioPath}
	case contract.TransportHTTP, contract.TransportSSE:
		if row.URL == nil {
			return t, "server has no url: set url"
		}
		t.URL = *row.URL
		// The schema keeps the ciphertext and its key id together.
		if row.TokenCiphertext != nil && row.TokenKeyID != nil {
			token, err := c.keyring.Open(row.TokenCiphertext, *row.TokenKeyID, store.ServerTokenAAD(row.ID))
			if err != nil {
				c.log.WarnContext(ctx, "cannot decrypt the bearer token of an MCP server; check MCP_API_SECRET_KEY and MCP_API_SECRET_KEY_PREVIOUS",
					"server", row.ID, "tenant", row.TenantID, "error", err)
				return t, tokenMessage(err)
			}
			t.BearerToken = string(token)
			clear(token)
		}
	default:
		return t, fmt.Sprintf("unsupported transportType %q: use http, sse or stdio", row.TransportType)
	}
	return t, ""
}

func (c *ServerChecker) notAllowed(command string) string {
	if len(c.commands) == 0 {
		return fmt.Sprintf("stdio servers are disabled on this API server, so command %q was not started: the operator enables them by listing allowed programs in %s", command, StdioCommandsEnv)
	}
	return fmt.Sprintf("command %q is not on this API server's stdio allowlist (%s), so it was not started: the operator must add it, or use one of %s",
		command, StdioCommandsEnv, strings.Join(c.commands, ", "))
}

func (c *ServerChecker) logResult(ctx context.Context, row store.Server, r store.CheckResult, took time.Duration, protocol string) {
	if r.OK {
		c.log.DebugContext(ctx, "MCP server probe passed",
			"server", row.ID, "tenant", row.TenantID, "transport", row.TransportType, "protocolVersion", protocol, "duration", took)
		return
	}
	c.log.InfoContext(ctx, "MCP server probe failed",
		"server", row.ID, "tenant", row.TenantID, "transport", row.TransportType, "duration", took, "error", r.Err)
}
