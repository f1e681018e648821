package main

import (
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/health"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/probe"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/secrets"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
)

// checkConfig is how serve probes MCP servers: on demand and on a schedule.
type checkConfig struct {
	timeout      time.Duration
	interval     time.Duration
	concurrency  int
	allowPrivate bool
}

// checkConfigFrom reads MCP_API_PROBE_TIMEOUT, MCP_API_HEALTH_INTERVAL,
// MCP_API_PROBE_CONCURRENCY and MCP_API_ALLOW_PRIVATE_TARGETS.
func checkConfigFrom(env func(string) string) (checkConfig, error) {
	cfg := checkConfig{timeout: probe.DefaultTimeout, interval: health.DefaultInterval, concurrency: health.DefaultConcurrency}
	var err error
	if cfg.timeout, err = positiveDuration(env, envProbeTimeout, cfg.timeout, "10s"); err != nil {
		return cfg, err
	}
	if cfg.interval, err = positiveDuration(env, envHealthInterval, cfg.interval, "60s"); err != nil {
		return cfg, err
	}
	if v := env(envProbeConcurrency); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1024 {
			return cfg, configErrorf("%s must be a whole number from 1 to 1024, got %q", envProbeConcurrency, v)
		}
		cfg.concurrency = n
	}
	if v := env(envAllowPrivate); v != "" {
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return cfg, configErrorf("%s must be true or false, got %q", envAllowPrivate, v)
		}
		cfg.allowPrivate = b
	}
	return cfg, nil
}

func positiveDuration(env func(string) string, name string, def time.Duration, example string) (time.Duration, error) {
	v := env(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, configErrorf("%s must be a positive duration such as %s, got %q", name, example, v)
	}
	return d, nil
}

// checkers are the one place each kind of record is probed and its result
// stored: the health-check and connect handlers and the scheduler share them.
type checkers struct {
	connections *health.ConnectionChecker
	servers     *health.ServerChecker
	scheduler   *health.Scheduler
}

func newCheckers(cfg checkConfig, st *store.Store, kr *secrets.Keyring, stdioCommands []string, log *slog.Logger) (*checkers, error) {
	prober := probe.New(probe.Options{Timeout: cfg.timeout, AllowPrivate: cfg.allowPrivate})
	conns, err := health.NewConnectionChecker(health.CheckerConfig{Store: st, Keyring: kr, Prober: prober, Interval: cfg.interval, Logger: log})
	if err != nil {
		return nil, err
	}
	servers, err := health.NewServerChecker(health.CheckerConfig{Store: st, Keyring: kr, Prober: prober,
		Interval: cfg.interval, StdioCommands: stdioCommands, Logger: log})
	if err != nil {
		return nil, err
	}
	sched, err := health.NewScheduler(health.SchedulerConfig{Sources: []health.Source{conns, servers},
		Concurrency: cfg.concurrency, Logger: log})
	if err != nil {
		return nil, err
	}
	return &checkers{connections: conns, servers: servers, scheduler: sched}, nil
}
