package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/gateway"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/health"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/httpapi"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/metrics"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
)

// defaultMetricsListen is where serve serves its metrics unless told
// otherwise: loopback, so that they are not exposed by accident.
const defaultMetricsListen = "127.0.0.1:9464"

// metricsOff as the metrics address serves no metrics.
const metricsOff = "off"

// metricsConfig is where serve serves its metrics.
type metricsConfig struct {
	// listen is the address; "" serves none.
	listen string
	// chosen reports that the address was set (flag or variable) rather
	// than the default, so that failing to listen on it is fatal.
	chosen bool
}

// metricsConfigFrom reads --metrics-listen, else MCP_API_METRICS_LISTEN.
func metricsConfigFrom(env func(string) string, flagValue string) (metricsConfig, error) {
	v, what := flagValue, "--metrics-listen"
	if v == "" {
		v, what = env(envMetricsListen), envMetricsListen
	}
	cfg := metricsConfig{listen: strings.TrimSpace(v), chosen: v != ""}
	switch {
	case cfg.listen == "":
		cfg.listen = defaultMetricsListen
	case strings.EqualFold(cfg.listen, metricsOff):
		return metricsConfig{chosen: true}, nil
	}
	if _, _, err := net.SplitHostPort(cfg.listen); err != nil {
		return cfg, configErrorf("%s %q must be host:port, such as %s, or %s to serve no metrics", what, cfg.listen, defaultMetricsListen, metricsOff)
	}
	return cfg, nil
}

// observers are the metrics as each package that reports to them takes
// them; all nil when no metrics are served, so that nothing is measured.
type observers struct {
	http    httpapi.HTTPObserver
	checks  health.CheckObserver
	gateway gateway.CallObserver
}

func observersOf(m *metrics.Metrics) observers {
	if m == nil {
		return observers{}
	}
	return observers{http: m, checks: m, gateway: m}
}

// metricsServer serves the metrics on a listener of their own.
type metricsServer struct {
	srv    *http.Server
	served chan error
}

// serveMetrics starts serving the metrics of st's figures, the API's
// requests, checks and gateway calls on cfg.listen, and returns them (nil
// when cfg serves none). When the default address is taken — another
// serve on this host has it — serve goes on without metrics and says so;
// an address that was chosen must be listened on.
func serveMetrics(cfg metricsConfig, st *store.Store, log *slog.Logger) (*metrics.Metrics, *metricsServer, error) {
	if cfg.listen == "" {
		return nil, nil, nil
	}
	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		if cfg.chosen {
			return nil, nil, fmt.Errorf("metrics: listen on %s (%s): %w", cfg.listen, envMetricsListen, err)
		}
		log.Warn("metrics not served: cannot listen on the default address; set "+envMetricsListen+" to a free host:port, or off",
			"addr", cfg.listen, "error", err.Error())
		return nil, nil, nil
	}
	m := metrics.New(metrics.Options{
		DBStats: st.DBStats,
		Overdue: func(ctx context.Context, grace time.Duration) (int64, int64, error) {
			n, err := st.CountOverdueChecks(ctx, grace)
			return n.Connections, n.Servers, err
		},
		Logger: log,
	})
	s := &metricsServer{served: make(chan error, 1), srv: &http.Server{
		Handler:           m.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}}
	go func() { s.served <- s.srv.Serve(ln) }()
	log.Info("serving metrics", "addr", ln.Addr().String(), "path", metrics.Path)
	return m, s, nil
}

// close stops serving the metrics, and logs why they had stopped if it was
// not this; s may be nil.
func (s *metricsServer) close(ctx context.Context, log *slog.Logger) {
	if s == nil {
		return
	}
	_ = s.srv.Shutdown(ctx)
	if err := <-s.served; !errors.Is(err, http.ErrServerClosed) {
		log.Warn("the metrics listener had stopped serving", "error", err.Error())
	}
}
