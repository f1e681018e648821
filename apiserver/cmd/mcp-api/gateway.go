package main

import (
	"log/slog"
	"time"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/gateway"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/health"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/probe"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
)

// gatewayConfig is how serve proxies MCP servers at /mcp/servers/{id} and
// serves agents at /mcp/agents/{id}.
type gatewayConfig struct {
	sessionIdle       time.Duration
	timeout           time.Duration
	stdioMaxProcesses int
	rateLimit         float64 // requests per second per agent; 0: none
	rateBurst         int
}

// gatewayConfigFrom reads MCP_API_GATEWAY_SESSION_IDLE, MCP_API_GATEWAY_TIMEOUT,
// MCP_API_STDIO_MAX_PROCESSES, MCP_API_GATEWAY_RATE_LIMIT and MCP_API_GATEWAY_RATE_BURST.
func gatewayConfigFrom(env func(string) string) (gatewayConfig, error) {
	cfg := gatewayConfig{sessionIdle: gateway.DefaultSessionIdle, timeout: gateway.DefaultTimeout,
		stdioMaxProcesses: gateway.DefaultStdioMaxProcesses}
	var err error
	cfg.rateLimit, cfg.rateBurst, err = rateLimitFrom(env, envGatewayRateLimit, envGatewayRateBurst, "agent")
	// Every variable is read; the first that is wrong is reported.
	return cfg, firstError(
		positiveDuration(env, envGatewaySessionIdle, &cfg.sessionIdle, "10m"),
		positiveDuration(env, envGatewayTimeout, &cfg.timeout, "60s"),
		wholeNumber(env, envStdioMaxProcesses, &cfg.stdioMaxProcesses, 4096),
		err,
	)
}

// newGateway builds the gateway on the same outbound rules as the checks
// (the address guard, how credentials are opened), through its own prober:
// a gateway session lives far longer than one check.
func newGateway(cfg gatewayConfig, checks checkConfig, st *store.Store, servers *health.ServerChecker,
	connections *health.ConnectionChecker, audit gateway.Auditor, obs gateway.CallObserver, log *slog.Logger) (*gateway.Gateway, error) {
	return gateway.New(gateway.Config{
		Servers:           st,
		Catalogs:          st,
		Targets:           servers,
		Agents:            st,
		ConnectionTargets: connections,
		Dialer:            probe.New(probe.Options{Timeout: checks.timeout, AllowPrivate: checks.allowPrivate}),
		SessionIdle:       cfg.sessionIdle,
		Timeout:           cfg.timeout,
		Audit:             audit,
		Logger:            log,
		Metrics:           obs,
		// Sessions are shared with the other replicas on the database.
		Sessions:          st,
		StdioMaxProcesses: cfg.stdioMaxProcesses,
	})
}
