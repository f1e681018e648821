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
	history      int // checks kept per record
}

// checkConfigFrom reads MCP_API_PROBE_TIMEOUT, MCP_API_HEALTH_INTERVAL,
// MCP_API_PROBE_CONCURRENCY, MCP_API_ALLOW_PRIVATE_TARGETS and
// MCP_API_CHECK_HISTORY.
func checkConfigFrom(env func(string) string) (checkConfig, error) {
	cfg := checkConfig{timeout: probe.DefaultTimeout, interval: health.DefaultInterval, concurrency: health.DefaultConcurrency,
		history: store.DefaultCheckHistory}
	// Every variable is read; the first that is wrong is reported.
	return cfg, firstError(
		positiveDuration(env, envProbeTimeout, &cfg.timeout, "10s"),
		positiveDuration(env, envHealthInterval, &cfg.interval, "60s"),
		wholeNumber(env, envProbeConcurrency, &cfg.concurrency, 1024),
		wholeNumber(env, envCheckHistory, &cfg.history, 100000),
		boolean(env, envAllowPrivate, &cfg.allowPrivate),
	)
}

// wholeNumber sets *dst to the variable name when it is set: it must be a
// whole number from 1 to most.
func wholeNumber(env func(string) string, name string, dst *int, most int) error {
	v := env(name)
	if v == "" {
		return nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > most {
		return configErrorf("%s must be a whole number from 1 to %d, got %q", name, most, v)
	}
	*dst = n
	return nil
}

// positiveDuration sets *dst to the variable name when it is set: it must
// be a positive duration, such as example.
func positiveDuration(env func(string) string, name string, dst *time.Duration, example string) error {
	v := env(name)
	if v == "" {
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return configErrorf("%s must be a positive duration such as %s, got %q", name, example, v)
	}
	*dst = d
	return nil
}

// boolean sets *dst to the variable name when it is set: it must be true
// or false (or another spelling strconv.ParseBool takes).
func boolean(env func(string) string, name string, dst *bool) error {
	v := env(name)
	if v == "" {
		return nil
	}
	b, err := strconv.ParseBool(strings.TrimSpace(v))
	if err != nil {
		return configErrorf("%s must be true or false, got %q", name, v)
	}
	*dst = b
	return nil
}

// firstError is the first of errs that is not nil.
func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// checkers are the one place each kind of record is probed and its result
// stored: the health-check and connect handlers and the scheduler share them.
type checkers struct {
	connections *health.ConnectionChecker
	servers     *health.ServerChecker
	scheduler   *health.Scheduler
}

func newCheckers(cfg checkConfig, st *store.Store, ss secrets.Store, stdioCommands []string, obs health.CheckObserver,
	log *slog.Logger) (*checkers, error) {
	st.SetCheckHistory(cfg.history)
	prober := probe.New(probe.Options{Timeout: cfg.timeout, AllowPrivate: cfg.allowPrivate})
	conns, err := health.NewConnectionChecker(health.CheckerConfig{Store: st, Secrets: ss, Prober: prober, Interval: cfg.interval, Logger: log, Metrics: obs})
	if err != nil {
		return nil, err
	}
	servers, err := health.NewServerChecker(health.CheckerConfig{Store: st, Secrets: ss, Prober: prober,
		Interval: cfg.interval, StdioCommands: stdioCommands, Logger: log, Metrics: obs})
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
