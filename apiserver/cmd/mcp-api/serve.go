package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/health"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/httpapi"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/secrets"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
)

const (
	defaultListen = "127.0.0.1:8080"
	defaultDBWait = 60 * time.Second
	// shutdownTimeout is how long in-flight requests get to finish after
	// SIGTERM; a health check is bounded well below it.
	shutdownTimeout = 30 * time.Second
	// Backoff between attempts to reach the database at start.
	firstRetry = 500 * time.Millisecond
	maxRetry   = 5 * time.Second
)

func serveCommand() *command {
	return &command{
		name:     "serve",
		synopsis: "[--listen ADDR] [--metrics-listen ADDR|off] [--no-scheduler]",
		summary:  "apply migrations, then serve the HTTP API",
		about: "Applies pending database migrations (waiting up to " + envDBWait + " for the database), then serves\n" +
			"the HTTP API until SIGINT or SIGTERM, when it stops accepting connections and lets in-flight\n" +
			"requests finish.",
		env: []string{envDatabaseURL, envSecretKey, envSecretKeyPrevious, envSecretBackend, secrets.EnvInfisicalURL,
			secrets.EnvInfisicalClientID, secrets.EnvInfisicalClientSecret, secrets.EnvInfisicalProjectID,
			secrets.EnvInfisicalEnvironment, secrets.EnvInfisicalSecretPath, envSecretCacheTTL, envSecretCleanupInterval,
			envSecretCleanupGrace, envBootstrapKey,
			envListen, envMetricsListen, envPublicURL, envDBWait, envRateLimit, envRateBurst, envStdioCommands,
			envProbeTimeout, envHealthInterval, envProbeConcurrency, envCheckHistory, envAllowPrivate,
			envGatewaySessionIdle, envGatewayTimeout, envStdioMaxProcesses, envGatewayRateLimit, envGatewayRateBurst, envLogLevel, envGOGC, envGOMEMLIMIT},
		setup: func(fs *flag.FlagSet) func(context.Context, *cli) error {
			listen := fs.String("listen", "", "`ADDR` (host:port) to listen on (default $"+envListen+", else "+defaultListen+")")
			metricsListen := fs.String("metrics-listen", "", "`ADDR` (host:port) to serve Prometheus metrics on, or off (default $"+envMetricsListen+", else "+defaultMetricsListen+")")
			noScheduler := fs.Bool("no-scheduler", false, "do not run the background health scheduler in this process")
			return func(ctx context.Context, c *cli) error {
				cfg, err := serveConfigFrom(c.env, *listen, *noScheduler)
				if err != nil {
					return err
				}
				if cfg.metrics, err = metricsConfigFrom(c.env, *metricsListen); err != nil {
					return err
				}
				return serve(ctx, c, cfg)
			}
		},
	}
}

// serveConfig is serve's validated configuration.
type serveConfig struct {
	listen string
	// publicURL is the base of the gateway URLs, without a trailing slash.
	publicURL    string
	keyring      *secrets.Keyring
	secretStore  secrets.Store
	secrets      secretConfig
	bootstrapKey string
	dbWait       time.Duration
	noScheduler  bool
	rateLimit    float64 // requests per second per tenant; 0: none
	rateBurst    int
	// stdioCommands are the programs stdio MCP servers may run; empty: none.
	stdioCommands []string
	checks        checkConfig
	gateway       gatewayConfig
	metrics       metricsConfig
}

// serveConfigFrom checks everything that can be checked without the
// database, so a misconfigured server fails at once with one line.
func serveConfigFrom(env func(string) string, listen string, noScheduler bool) (serveConfig, error) {
	cfg := serveConfig{listen: listen, noScheduler: noScheduler, dbWait: defaultDBWait}
	if cfg.listen == "" {
		cfg.listen = env(envListen)
	}
	if cfg.listen == "" {
		cfg.listen = defaultListen
	}
	if _, _, err := net.SplitHostPort(cfg.listen); err != nil {
		return cfg, configErrorf("listen address %q must be host:port, such as %s", cfg.listen, defaultListen)
	}
	var err error
	if cfg.publicURL, err = publicURLFrom(env(envPublicURL), cfg.listen); err != nil {
		return cfg, err
	}
	if cfg.keyring, err = keyring(env); err != nil {
		return cfg, err
	}
	if cfg.secrets, err = secretConfigFrom(env); err != nil {
		return cfg, err
	}
	if cfg.secretStore, err = secretStore(env, cfg.keyring, cfg.secrets); err != nil {
		return cfg, err
	}
	if cfg.bootstrapKey = env(envBootstrapKey); cfg.bootstrapKey != "" {
		if err := contract.ValidateToken(cfg.bootstrapKey); err != nil {
			return cfg, configErrorf("%s %v", envBootstrapKey, err)
		}
	}
	if v := env(envDBWait); v != "" {
		if cfg.dbWait, err = time.ParseDuration(v); err != nil || cfg.dbWait < 0 {
			return cfg, configErrorf("%s must be a duration such as 60s or 2m, got %q", envDBWait, v)
		}
	}
	if cfg.rateLimit, cfg.rateBurst, err = rateLimitFrom(env, envRateLimit, envRateBurst, "tenant"); err != nil {
		return cfg, err
	}
	if cfg.stdioCommands, err = health.ParseStdioCommands(env(health.StdioCommandsEnv)); err != nil {
		return cfg, configErrorf("%v", err)
	}
	if cfg.checks, err = checkConfigFrom(env); err != nil {
		return cfg, err
	}
	if cfg.gateway, err = gatewayConfigFrom(env); err != nil {
		return cfg, err
	}
	return cfg, nil
}

func serve(ctx context.Context, c *cli, cfg serveConfig) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	st, err := openStore(c)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := migrateWithRetry(ctx, st, cfg.dbWait, c.log); err != nil {
		return err
	}
	if cfg.bootstrapKey != "" {
		tenant, created, err := st.EnsureTenantWithKey(ctx, "default", secrets.HashAPIKey(cfg.bootstrapKey))
		if err != nil {
			return fmt.Errorf("bootstrap API key: %w", err)
		}
		c.log.Info("bootstrap API key ready", "tenant_id", tenant.String(), "tenant_created", created)
	}

	tuneGC(ctx)

	m, metricsSrv, err := serveMetrics(cfg.metrics, st, c.log)
	if err != nil {
		return err
	}
	// Scrapes go on while the API drains, so the last figures are seen.
	defer metricsSrv.close(context.Background(), c.log)
	obs := observersOf(m)

	chk, err := newCheckers(cfg.checks, st, cfg.secretStore, cfg.stdioCommands, obs.checks, c.log)
	if err != nil {
		return err
	}

	// Gateway calls are audited in groups: one insert per group, each
	// call's reply waiting for its group to commit. Closed once the HTTP
	// server has drained (below), so no call that returned loses its event;
	// the deferred Close covers the early returns.
	audit := store.NewAuditWriter(st, store.AuditWriterOptions{MaxWait: store.DefaultAuditMaxWait})
	defer audit.Close()
	gw, err := newGateway(cfg.gateway, cfg.checks, st, chk.servers, chk.connections, audit, obs.gateway, c.log)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.listen, err)
	}
	srv := &http.Server{
		Handler: httpapi.New(httpapi.Config{Store: st, Keyring: cfg.keyring, Secrets: cfg.secretStore, Logger: c.log,
			ConnectionChecker: chk.connections, ServerChecker: chk.servers,
			RateLimit: cfg.rateLimit, RateBurst: cfg.rateBurst, StdioCommands: cfg.stdioCommands,
			PublicURL: cfg.publicURL, Gateway: gw, AllowPrivateTargets: cfg.checks.allowPrivate,
			GatewayRateLimit: cfg.gateway.rateLimit, GatewayRateBurst: cfg.gateway.rateBurst, Metrics: obs.http}),
		// Slow clients must not hold connections open forever; a synchronous
		// health check is bounded by the probe timeout, well under WriteTimeout.
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      90 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(c.log.Handler(), slog.LevelWarn),
	}
	// The scheduler stops with its own context, after the HTTP server has
	// drained, so checks it started can still store their results.
	schedCtx, stopScheduler := context.WithCancel(context.Background())
	defer stopScheduler()
	scheduled := make(chan error, 1)
	if cfg.noScheduler {
		scheduled <- nil
	} else {
		go func() { scheduled <- chk.scheduler.Run(schedCtx) }()
	}
	// The secret cleanup worker stops with the scheduler; an entry it was
	// working on stays queued and is retried.
	cleaned := make(chan struct{})
	go func() {
		defer close(cleaned)
		runSecretCleanup(schedCtx, st, cfg.secrets, cleanupDeleter(c.env, cfg.keyring, cfg.secretStore), c.log)
	}()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	c.log.Info("serving", "addr", ln.Addr().String(), "version", version, "no_scheduler", cfg.noScheduler,
		"probe_timeout", cfg.checks.timeout.String(), "health_interval", cfg.checks.interval.String(),
		"probe_concurrency", cfg.checks.concurrency, "allow_private_targets", cfg.checks.allowPrivate,
		"check_history", cfg.checks.history, "secret_backend", cfg.secretStore.Backend())

	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	// A second signal now kills the process the default way.
	stop()
	c.log.Info("shutting down; waiting for in-flight requests", "timeout", shutdownTimeout.String())
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	shutdownErr := srv.Shutdown(shutdownCtx)
	// The upstream sessions (and stdio processes) of stateless callers.
	gw.Close()
	// every gateway call has returned: write what is still queued
	_ = audit.Close()
	stopScheduler()
	<-cleaned
	if err := <-scheduled; err != nil {
		c.log.Warn("health scheduler stopped with an error", "err", err)
	}
	chk.servers.Wait()
	if shutdownErr != nil {
		return fmt.Errorf("shutdown: requests still running after %s: %w", shutdownTimeout, shutdownErr)
	}
	c.log.Info("stopped")
	return nil
}

// migrateWithRetry applies migrations, waiting up to wait for a database
// that is not reachable yet (it may be starting alongside the server).
func migrateWithRetry(ctx context.Context, st *store.Store, wait time.Duration, log *slog.Logger) error {
	deadline := time.Now().Add(wait)
	delay := firstRetry
	for attempt := 1; ; attempt++ {
		err := st.Migrate(ctx)
		if err == nil {
			return nil
		}
		if !errors.Is(err, store.ErrUnavailable) {
			return err
		}
		if ctx.Err() != nil {
			return fmt.Errorf("interrupted while waiting for the database: %w", err)
		}
		left := time.Until(deadline)
		if left <= 0 {
			return fmt.Errorf("database still unreachable after %s (%s): %w", wait, envDBWait, err)
		}
		delay = min(delay, left)
		log.Warn("database unreachable; retrying", "attempt", attempt, "retry_in", delay.String(), "error", err.Error())
		select {
		case <-ctx.Done():
			return fmt.Errorf("interrupted while waiting for the database: %w", err)
		case <-time.After(delay):
		}
		delay = min(2*delay, maxRetry)
	}
}

// rateLimitFrom reads a token bucket's two variables: limitVar, requests
// per second per whom, and burstVar; both unset means no limit.
func rateLimitFrom(env func(string) string, limitVar, burstVar, whom string) (float64, int, error) {
	var perSecond float64
	if v := env(limitVar); v != "" {
		var err error
		perSecond, err = strconv.ParseFloat(v, 64)
		if err != nil || perSecond < 0 || math.IsInf(perSecond, 0) || math.IsNaN(perSecond) {
			return 0, 0, configErrorf("%s must be a number of requests per second per %s, such as 20 or 0.5 (0 or unset: no limit), got %q", limitVar, whom, v)
		}
	}
	v := env(burstVar)
	if v == "" {
		return perSecond, 0, nil
	}
	burst, err := strconv.Atoi(v)
	if err != nil || burst < 1 {
		return 0, 0, configErrorf("%s must be a whole number of requests of at least 1, got %q", burstVar, v)
	}
	if perSecond == 0 {
		return 0, 0, configErrorf("%s is set but %s is not; set %s too, or neither for no limit", burstVar, limitVar, limitVar)
	}
	return perSecond, burst, nil
}

// publicURLFrom is MCP_API_PUBLIC_URL without a trailing slash, or
// "http://" and the listen address when it is unset. It must be an http or
// https URL without a query or fragment: gateway paths are appended to it.
func publicURLFrom(raw, listen string) (string, error) {
	if raw == "" {
		return "http://" + listen, nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		u.RawQuery != "" || u.Fragment != "" {
		return "", configErrorf("%s must be an http or https URL such as https://mcp.example.com, without credentials, query or fragment, got %q", envPublicURL, raw)
	}
	return strings.TrimRight(raw, "/"), nil
}
