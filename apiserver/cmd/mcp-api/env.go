package main

import (
	"github.com/mcpconn/terraform-provider-mcp/apiserver/gateway"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/health"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/netguard"
)

// The environment variables the command reads, each spelled once; the
// packages that document a variable of their own own its name.
const (
	envDatabaseURL        = "DATABASE_URL"
	envSecretKey          = "MCP_API_SECRET_KEY"
	envSecretKeyPrevious  = "MCP_API_SECRET_KEY_PREVIOUS"
	envBootstrapKey       = "MCP_API_BOOTSTRAP_KEY"
	envListen             = "MCP_API_LISTEN"
	envMetricsListen      = "MCP_API_METRICS_LISTEN"
	envPublicURL          = "MCP_API_PUBLIC_URL"
	envDBWait             = "MCP_API_DB_WAIT"
	envRateLimit          = "MCP_API_RATE_LIMIT"
	envRateBurst          = "MCP_API_RATE_BURST"
	envStdioCommands      = health.StdioCommandsEnv
	envProbeTimeout       = "MCP_API_PROBE_TIMEOUT"
	envHealthInterval     = "MCP_API_HEALTH_INTERVAL"
	envProbeConcurrency   = "MCP_API_PROBE_CONCURRENCY"
	envCheckHistory       = "MCP_API_CHECK_HISTORY"
	envAllowPrivate       = netguard.AllowPrivateEnv
	envLogLevel           = "MCP_API_LOG_LEVEL"
	envGatewaySessionIdle = gateway.SessionIdleEnv
	envGatewayTimeout     = gateway.TimeoutEnv
	envStdioMaxProcesses  = gateway.StdioMaxProcessesEnv
	envGatewayRateLimit   = "MCP_API_GATEWAY_RATE_LIMIT"
	envGatewayRateBurst   = "MCP_API_GATEWAY_RATE_BURST"
	// The Go runtime's own, which serve tunes when they are unset.
	envGOGC       = "GOGC"
	envGOMEMLIMIT = "GOMEMLIMIT"
)
