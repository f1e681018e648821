// Package health keeps the health of stored MCP records current. A Checker
// probes one record and stores the result — the one code path behind both
// the on-demand health-check endpoint and the background Scheduler, which
// runs the checks that come due and shares them with the other replicas on
// the same database.
package health

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/probe"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/secrets"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
)

// DefaultInterval is how often a record is checked when no interval is set
// (MCP_API_HEALTH_INTERVAL).
const DefaultInterval = 60 * time.Second

// leaseMargin is added to the time a claimed check may take at most (twice
// the probe timeout), so that storing its result (up to two batch writes of
// recordTimeout) does not let another replica take the row early.
const leaseMargin = 30 * time.Second

// staleAttempts bounds how often one check is repeated because the record's
// endpoint kept changing under it.
const staleAttempts = 2

// CheckerConfig configures a Checker. Store, Keyring and Prober are required.
type CheckerConfig struct {
	Store   *store.Store
	Keyring *secrets.Keyring
	Prober  *probe.Prober
	// Interval is the time from one check of a record to its next; zero means DefaultInterval.
	Interval time.Duration
	// Lease is how long a claimed record is held for its check before
	// another replica may take it — the delay before a check lost in a
	// crash is retried. It must exceed twice the prober's timeout, since a
	// claimed check may wait for a worker that long before it runs; zero
	// means twice the prober's timeout plus 30s.
	Lease time.Duration
	// Logger receives one line per check; nil discards them.
	Logger *slog.Logger
}

// Checker checks MCP connections and stores the results. It is safe for
// concurrent use, and it is a Source of scheduled checks.
type Checker struct {
	store    *store.Store
	keyring  *secrets.Keyring
	prober   *probe.Prober
	interval time.Duration
	lease    time.Duration
	log      *slog.Logger
	rec      *recorder
}

var (
	_ Source  = (*Checker)(nil)
	_ Drainer = (*Checker)(nil)
)

// NewChecker returns a Checker configured by cfg.
func NewChecker(cfg CheckerConfig) (*Checker, error) {
	if cfg.Store == nil || cfg.Keyring == nil || cfg.Prober == nil {
		return nil, errors.New("health checker: Store, Keyring and Prober are all required")
	}
	c := &Checker{
		store:    cfg.Store,
		keyring:  cfg.Keyring,
		prober:   cfg.Prober,
		interval: cfg.Interval,
		lease:    cfg.Lease,
		log:      cfg.Logger,
	}
	if c.interval < 0 || c.lease < 0 {
		return nil, fmt.Errorf("health checker: interval (%s) and lease (%s) must not be negative", c.interval, c.lease)
	}
	if c.interval == 0 {
		c.interval = DefaultInterval
	}
	// The store keeps milliseconds; anything finer would round to "due now".
	if c.interval < time.Millisecond {
		return nil, fmt.Errorf("health checker: interval must be at least 1ms, got %s", c.interval)
	}
	maxWait := 2 * cfg.Prober.Timeout()
	if c.lease == 0 {
		c.lease = maxWait + leaseMargin
	}
	if c.lease <= maxWait {
		return nil, fmt.Errorf("health checker: lease %s must exceed twice the probe timeout (%s), or replicas would check rows still being checked", c.lease, maxWait)
	}
	if c.log == nil {
		c.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	c.rec = &recorder{store: c.store, interval: c.interval}
	return c, nil
}

// Interval is the time from one check of a record to its next.
func (c *Checker) Interval() time.Duration { return c.interval }

// CheckConnection checks the tenant's connection id now, stores the result
// and returns the stored row. The check counts as the scheduled one: the
// next is due an interval later. A failing check is not an error — it is
// recorded on the row; errors are the store's (store.ErrNotFound when the
// tenant has no such connection, store.ErrUnavailable) or ctx's when the
// caller gives up during the probe, whose result is then not stored. The
// call returns within the probe timeout plus the time the database takes.
func (c *Checker) CheckConnection(ctx context.Context, tenantID, id uuid.UUID) (store.Connection, error) {
	row, err := c.store.GetConnection(ctx, tenantID, id)
	if err != nil {
		return store.Connection{}, err
	}
	return c.check(ctx, row)
}

// Claim takes up to n connections that are due for their scheduled check
// and returns a job per connection that checks it.
func (c *Checker) Claim(ctx context.Context, n int) ([]Job, error) {
	rows, err := c.store.ClaimDueConnections(ctx, n, c.lease)
	if err != nil {
		return nil, err
	}
	jobs := make([]Job, len(rows))
	for i, row := range rows {
		jobs[i] = func(ctx context.Context) { c.scheduled(ctx, row) }
	}
	return jobs, nil
}

// scheduled checks a claimed row. The result is handed to the recorder
// and not waited for, so the worker is free for the next check while the
// database stores it; Drain waits for what is still being stored. Nobody
// waits for the outcome, so it is logged here.
func (c *Checker) scheduled(ctx context.Context, row store.Connection) {
	result, took, protocol := c.probe(ctx, row)
	c.rec.submit(store.ConnectionCheck{Conn: row, Result: result}, func(out store.CheckOutcome, err error) {
		switch {
		case err != nil:
			c.log.WarnContext(ctx, "could not store the health check of an MCP connection; it is retried when its lease ends",
				"connection", row.ID, "tenant", row.TenantID, "lease", c.lease, "error", err)
		case out.Err == nil:
			c.logResult(ctx, out.Conn, result, took, protocol)
		case errors.Is(out.Err, store.ErrChanged):
			// The write that changed the endpoint made the row due at
			// once, or it is due when its lease ends.
			c.log.DebugContext(ctx, "MCP connection changed during its health check; result not stored",
				"connection", row.ID, "tenant", row.TenantID)
		case errors.Is(out.Err, store.ErrNotFound):
			c.log.DebugContext(ctx, "MCP connection deleted while it was being checked",
				"connection", row.ID, "tenant", row.TenantID)
		}
	})
}

// Drain waits until the results of scheduled checks that have finished are
// stored. The Scheduler calls it before Run returns.
func (c *Checker) Drain() { c.rec.wait() }

// check probes row, as read from the store, and records the result,
// waiting for it. If the row's endpoint changed meanwhile the result is
// discarded and the new endpoint checked instead.
func (c *Checker) check(ctx context.Context, row store.Connection) (store.Connection, error) {
	for attempt := 1; ; attempt++ {
		result, took, protocol := c.probe(ctx, row)
		if err := ctx.Err(); err != nil {
			// The caller gave up, so the probe was cut short: what it saw
			// says nothing about the server.
			return store.Connection{}, fmt.Errorf("health check of MCP connection %s: %w", row.ID, err)
		}
		stored, err := c.rec.record(store.ConnectionCheck{Conn: row, Result: result})
		switch {
		case err == nil:
			c.logResult(ctx, stored, result, took, protocol)
			return stored, nil
		case errors.Is(err, store.ErrChanged) && attempt < staleAttempts:
			c.log.DebugContext(ctx, "MCP connection changed during its health check; checking the new endpoint",
				"connection", row.ID, "tenant", row.TenantID)
			row = stored
		case errors.Is(err, store.ErrChanged):
			// The endpoint keeps changing; the row as it is now says so
			// (a changed endpoint is "unknown" and due at once).
			c.log.InfoContext(ctx, "MCP connection kept changing during its health check; result not stored",
				"connection", row.ID, "tenant", row.TenantID)
			return stored, nil
		default:
			return store.Connection{}, err
		}
	}
}

// probe runs the MCP handshake against row's endpoint. It reports the
// outcome as the store records it, with how long it took and the protocol
// version negotiated, for the log.
func (c *Checker) probe(ctx context.Context, row store.Connection) (store.CheckResult, time.Duration, string) {
	target := probe.Target{Transport: contract.TransportHTTP, URL: row.ServerURL}
	if row.AuthType == string(contract.AuthBearer) {
		token, err := c.openToken(row)
		if err != nil {
			c.log.WarnContext(ctx, "cannot decrypt the bearer token of an MCP connection; check MCP_API_SECRET_KEY and MCP_API_SECRET_KEY_PREVIOUS",
				"connection", row.ID, "tenant", row.TenantID, "error", err)
			return store.CheckResult{Err: tokenMessage(err)}, 0, ""
		}
		target.BearerToken = string(token)
		clear(token)
	}
	res := c.prober.Probe(ctx, target)
	if !res.OK {
		return store.CheckResult{Err: res.Err}, res.Duration, ""
	}
	return store.CheckResult{OK: true, Instructions: res.Instructions}, res.Duration, res.ProtocolVersion
}

// errNoToken is a bearer connection without a token, which the schema forbids.
var errNoToken = errors.New("no bearer token is stored")

func (c *Checker) openToken(row store.Connection) ([]byte, error) {
	if row.TokenCiphertext == nil || row.TokenKeyID == nil {
		return nil, errNoToken
	}
	return c.keyring.Open(row.TokenCiphertext, *row.TokenKeyID, store.ConnectionTokenAAD(row.ID))
}

// tokenMessage is the lastError of a check that could not decrypt the
// token. It is shown to the tenant, so it says what to do without the
// keyring's details (key ids are for the operator's log).
func tokenMessage(err error) string {
	switch {
	case errors.Is(err, secrets.ErrUnknownKey):
		return "the stored bearer token was encrypted with a key this API server does not have, so it was not sent: " +
			"the operator must set MCP_API_SECRET_KEY_PREVIOUS to the key that encrypted it, or you can set bearerToken again"
	case errors.Is(err, errNoToken):
		return "authType is bearer but no bearer token is stored: set bearerToken"
	default:
		return "the stored bearer token could not be decrypted with the API server's secret key, so it was not sent: " +
			"the operator must check MCP_API_SECRET_KEY (and MCP_API_SECRET_KEY_PREVIOUS while rotating), or you can set bearerToken again"
	}
}

func (c *Checker) logResult(ctx context.Context, row store.Connection, r store.CheckResult, took time.Duration, protocol string) {
	if r.OK {
		c.log.DebugContext(ctx, "MCP connection health check passed",
			"connection", row.ID, "tenant", row.TenantID, "protocolVersion", protocol, "duration", took)
		return
	}
	c.log.InfoContext(ctx, "MCP connection health check failed",
		"connection", row.ID, "tenant", row.TenantID, "duration", took, "error", r.Err)
}
