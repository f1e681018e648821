// Package health keeps the health of stored MCP records current. A checker
// of each kind of record (ConnectionChecker, ServerChecker) probes one
// record and stores the result — the one code path behind both the
// on-demand endpoints and the background Scheduler, which runs the checks
// that come due and shares them with the other replicas on the same
// database.
package health

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/catalog"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/probe"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/secrets"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
	"github.com/mcpconn/terraform-provider-mcp/internal/reqid"
)

// DefaultInterval is how often a record is checked when no interval is set
// (MCP_API_HEALTH_INTERVAL).
const DefaultInterval = 60 * time.Second

// leaseMargin is added to the time a claimed check may take at most (twice
// the probe timeout), so that storing its result (up to two batch writes of
// recordTimeout) does not let another replica take the row early.
const leaseMargin = 30 * time.Second

// staleAttempts bounds how often a check asked for is repeated because the
// record's endpoint kept changing under it.
const staleAttempts = 2

// CheckerConfig configures a ConnectionChecker or a ServerChecker. Store,
// Prober and Secrets or Keyring are required.
type CheckerConfig struct {
	Store *store.Store
	// Secrets opens the records' credentials (SPEC §11); nil means the
	// builtin store over Keyring. Wrap an outside store in
	// secrets.NewCached so checks ride out its outages.
	Secrets secrets.Store
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
	// StdioCommands are the programs stdio MCP servers may run (from
	// ParseStdioCommands). A server whose command is not on the list is not
	// started, even if it was allowed when the server was created. Only
	// ServerChecker uses it.
	StdioCommands []string
	// StdioPath is the PATH stdio commands are looked up in, and the only
	// variable of their environment (nothing of the API's own, whose
	// secrets stay out of reach); empty means the API's PATH at start. Only
	// ServerChecker uses it.
	StdioPath string
	// Logger receives one line per check; nil discards them. A line of a
	// check an API request caused names the request (request_id).
	Logger *slog.Logger
	// Metrics, when set, counts and times every check whose result is stored.
	Metrics CheckObserver
}

// CheckObserver counts and times stored check results; *metrics.Metrics is
// one. kind is "connection" or "server", errorKind a contract.ErrorKind
// ("" for a pass).
type CheckObserver interface {
	ObserveCheck(kind string, ok bool, errorKind string, d time.Duration)
}

// kind is what the check-and-record shape needs to know of one kind of
// record R.
type kind[R any] struct {
	noun string // "MCP connection"
	// metric is the record kind's label in metrics: "connection", "server".
	metric string
	id     func(R) string
	// attrs are the log attributes that name a record.
	attrs func(R) []any
	// claim takes up to n due records for lease.
	claim func(ctx context.Context, n int, lease time.Duration) ([]R, error)
	// record stores a batch of results.
	record func(ctx context.Context, checks []store.Check[R], interval time.Duration) ([]store.CheckOutcome[R], error)
	// target is how to reach a record's MCP server, or why it must not be
	// reached (a message for lastError and its kind).
	target func(ctx context.Context, row R) (probe.Target, contract.ErrorKind, string)
}

// checker probes records of one kind and stores the results. It is a
// Source and a Drainer of scheduled checks.
type checker[R any] struct {
	kind[R]
	store    *store.Store
	secrets  secrets.Store
	prober   *probe.Prober
	interval time.Duration
	lease    time.Duration
	log      *slog.Logger
	metrics  CheckObserver
	rec      *recorder[R]
}

// newChecker validates cfg and returns a checker of k.
func newChecker[R any](cfg CheckerConfig, k kind[R]) (*checker[R], error) {
	what := k.noun + " checker"
	if cfg.Secrets == nil && cfg.Keyring != nil {
		cfg.Secrets = secrets.NewBuiltin(cfg.Keyring)
	}
	if cfg.Store == nil || cfg.Secrets == nil || cfg.Prober == nil {
		return nil, fmt.Errorf("%s: Store, Secrets (or Keyring) and Prober are all required", what)
	}
	if cfg.Interval < 0 || cfg.Lease < 0 {
		return nil, fmt.Errorf("%s: interval (%s) and lease (%s) must not be negative", what, cfg.Interval, cfg.Lease)
	}
	c := &checker[R]{kind: k, store: cfg.Store, secrets: cfg.Secrets, prober: cfg.Prober,
		interval: cmp.Or(cfg.Interval, DefaultInterval), lease: cfg.Lease, log: reqid.Logger(cfg.Logger),
		metrics: cfg.Metrics}
	// The store keeps milliseconds; anything finer would round to "due now".
	if c.interval < time.Millisecond {
		return nil, fmt.Errorf("%s: interval must be at least 1ms, got %s", what, c.interval)
	}
	maxWait := 2 * cfg.Prober.Timeout()
	if c.lease == 0 {
		c.lease = maxWait + leaseMargin
	}
	if c.lease <= maxWait {
		return nil, fmt.Errorf("%s: lease %s must exceed twice the probe timeout (%s), or replicas would check rows still being checked", what, c.lease, maxWait)
	}
	c.rec = &recorder[R]{save: k.record, interval: c.interval}
	return c, nil
}

// Claim takes up to n records that are due for their scheduled check and
// returns a job per record that checks it.
func (c *checker[R]) Claim(ctx context.Context, n int) ([]Job, error) {
	rows, err := c.claim(ctx, n, c.lease)
	if err != nil {
		return nil, err
	}
	jobs := make([]Job, len(rows))
	for i, row := range rows {
		jobs[i] = func(ctx context.Context) { c.scheduled(ctx, row) }
	}
	return jobs, nil
}

// Drain waits until the results of scheduled checks that have finished are
// stored. The Scheduler calls it before Run returns.
func (c *checker[R]) Drain() { c.rec.wait() }

// scheduled checks a claimed row. The result is handed to the recorder and
// not waited for, so the worker is free for the next check while the
// database stores it; Drain waits for what is still being stored. Nobody
// waits for the outcome, so it is logged here. A result that no longer
// applies is dropped: whoever changed the row made it due for the check it
// needs.
func (c *checker[R]) scheduled(ctx context.Context, row R) {
	result := c.probe(ctx, row)
	if ctx.Err() != nil {
		// Cut short; what the probe saw says nothing about the server.
		c.log.WarnContext(ctx, "the scheduled check of an "+c.noun+" was cut short; it is retried when its lease ends",
			append(c.attrs(row), "lease", c.lease)...)
		return
	}
	c.rec.submit(store.Check[R]{Record: row, Result: result}, func(out store.CheckOutcome[R], err error) {
		switch {
		case err != nil:
			c.log.WarnContext(ctx, "could not store the check of an "+c.noun+"; it is retried when its lease ends",
				append(c.attrs(row), "lease", c.lease, "error", err)...)
		case out.Err == nil:
			c.logResult(ctx, out.Record, result)
		case errors.Is(out.Err, store.ErrChanged):
			c.log.DebugContext(ctx, c.noun+" changed during its check; result not stored", c.attrs(row)...)
		case errors.Is(out.Err, store.ErrNotFound):
			c.log.DebugContext(ctx, c.noun+" deleted while it was being checked", c.attrs(row)...)
		}
	})
}

// check probes row, as read from the store, for a check someone asked for,
// and records the result, waiting for it. If the row's endpoint changed
// meanwhile the result is discarded and the new endpoint checked instead.
func (c *checker[R]) check(ctx context.Context, row R) (R, error) {
	var zero R
	for attempt := 1; ; attempt++ {
		result := c.probe(ctx, row)
		if err := ctx.Err(); err != nil {
			// The caller gave up, so the probe was cut short: what it saw
			// says nothing about the server.
			return zero, fmt.Errorf("check of %s %s: %w", c.noun, c.id(row), err)
		}
		stored, err := c.rec.record(store.Check[R]{Record: row, Result: result, Manual: true})
		switch {
		case err == nil:
			c.logResult(ctx, stored, result)
			return stored, nil
		case errors.Is(err, store.ErrChanged) && attempt < staleAttempts:
			c.log.DebugContext(ctx, c.noun+" changed during its check; checking the new endpoint", c.attrs(row)...)
			row = stored
		case errors.Is(err, store.ErrChanged):
			// The endpoint keeps changing; the row as it is now says so.
			c.log.InfoContext(ctx, c.noun+" kept changing during its check; result not stored", c.attrs(row)...)
			return stored, nil
		default:
			return zero, err
		}
	}
}

// probe runs the MCP handshake with row's server and says what it found,
// how long that took and the protocol version negotiated (for the log).
func (c *checker[R]) probe(ctx context.Context, row R) store.CheckResult {
	target, kind, msg := c.target(ctx, row)
	if msg != "" {
		return refused(kind, msg)
	}
	return resultOf(c.prober.Probe(ctx, target))
}

// targetOf is how to reach row's server, credentials included, exactly as
// its checks do; a *probe.ConnectError says why it must not be reached.
func (c *checker[R]) targetOf(ctx context.Context, row R) (probe.Target, error) {
	t, kind, msg := c.target(ctx, row)
	if msg != "" {
		return probe.Target{}, &probe.ConnectError{Kind: kind, Message: msg}
	}
	return t, nil
}

// bearer opens row's sealed bearer token (ciphertext and keyID, bound to
// the row by aad) into t, or says why it cannot (a message for lastError,
// with ErrorAuth as its kind) and logs that for the operator.
func (c *checker[R]) bearer(ctx context.Context, row R, t *probe.Target, ciphertext []byte, keyID *string, aad []byte) string {
	token, err := openToken(ctx, c.secrets, ciphertext, keyID, aad)
	if err != nil {
		c.log.WarnContext(ctx, "cannot decrypt the bearer token of an "+c.noun+"; check MCP_API_SECRET_KEY and MCP_API_SECRET_KEY_PREVIOUS",
			append(c.attrs(row), "error", err)...)
		return tokenMessage(err)
	}
	t.BearerToken = string(token)
	clear(token)
	return ""
}

// logResult logs and counts a stored result: every check whose result is
// stored passes here once.
func (c *checker[R]) logResult(ctx context.Context, row R, r store.CheckResult) {
	if c.metrics != nil {
		c.metrics.ObserveCheck(c.metric, r.OK, r.ErrorKind, r.Duration)
	}
	if r.OK {
		c.log.DebugContext(ctx, c.noun+" check passed", append(c.attrs(row), "protocolVersion", r.ProtocolVersion, "duration", r.Duration)...)
		return
	}
	c.log.InfoContext(ctx, c.noun+" check failed", append(c.attrs(row), "duration", r.Duration, "errorKind", r.ErrorKind, "error", r.Err)...)
}

// resultOf is what a probe found, as the store records it for every kind:
// a passing probe's listing becomes the catalog, and a listing the catalog
// refuses (duplicate tool names, items that are not what MCP says) fails the
// check as a protocol error.
func resultOf(res probe.Result) store.CheckResult {
	if !res.OK {
		return store.CheckResult{Err: res.Err, ErrorKind: string(res.ErrorKind), Duration: res.Duration}
	}
	l := res.Listing
	cat, err := catalog.Build(l.Tools, l.Prompts, l.Resources, l.Truncated)
	if err != nil {
		return store.CheckResult{
			Err:       "the server's listing is not a valid MCP catalog: " + err.Error(),
			ErrorKind: string(contract.ErrorProtocol),
			Duration:  res.Duration,
		}
	}
	return store.CheckResult{
		OK:           true,
		Instructions: res.Instructions,
		Capabilities: store.Capabilities{
			Tools:     res.Capabilities.Tools,
			Resources: res.Capabilities.Resources,
			Prompts:   res.Capabilities.Prompts,
		},
		ServerName:      res.ServerName,
		ServerVersion:   res.ServerVersion,
		ProtocolVersion: res.ProtocolVersion,
		Duration:        res.Duration,
		Catalog:         &cat,
	}
}

// refused is the result of a check that was not attempted: kind says why,
// msg says it for people.
func refused(kind contract.ErrorKind, msg string) store.CheckResult {
	return store.CheckResult{Err: msg, ErrorKind: string(kind)}
}

// errNoToken is a bearer record without a token, which the schemas forbid.
var errNoToken = errors.New("no bearer token is stored")

// openToken opens a record's sealed bearer token, bound to it by aad.
func openToken(ctx context.Context, st secrets.Store, ciphertext []byte, keyID *string, aad []byte) ([]byte, error) {
	if ciphertext == nil || keyID == nil {
		return nil, errNoToken
	}
	return st.Get(ctx, secrets.Ref{KeyID: *keyID, Data: ciphertext}, aad)
}

// tokenMessage is the lastError of a check that could not decrypt the
// token. It is shown to the tenant, so it says what to do without the
// keyring's details (key ids are for the operator's log).
func tokenMessage(err error) string {
	switch {
	case errors.Is(err, secrets.ErrUnavailable):
		return unavailableMessage("the stored bearer token is", "it was")
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

// recordAttrs are the log attributes naming a record of a tenant.
func recordAttrs(key, id string, tenant uuid.UUID) []any {
	return []any{key, id, "tenant", tenant}
}
