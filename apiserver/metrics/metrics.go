// Package metrics holds the API server's Prometheus series (SPEC §12) on a
// registry of its own, served on a listener of its own (--metrics-listen):
// HTTP requests, checks, overdue checks, gateway calls, the database pool,
// and the Go runtime and process. Every label value is drawn from a fixed
// set — route templates, never raw paths; no tenant or record id — so the
// number of series stays bounded whatever callers send.
//
// The other packages see it through the small interfaces they define
// (httpapi.HTTPObserver, health.CheckObserver, gateway.CallObserver), and
// their hot paths cost a map lookup and the observation itself: the series
// are looked up once, not by label values per call.
package metrics

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

// Path is where the metrics are served on their listener.
const Path = "/metrics"

// namespace prefixes every series of the API's own.
const namespace = "mcp_api"

// Label values of what is not one of the known values.
const (
	// Unmatched is the route of a request no route matched.
	Unmatched = "unmatched"
	// other stands for a method, code or kind outside the known ones.
	other = "other"
	// none is the error kind of a passing check.
	none = "none"
)

// Record kinds and results of checks, as labelled.
var (
	checkKinds   = []string{"connection", "server"}
	checkResults = []string{"ok", "failed"}
)

// Gateway endpoint kinds, audited methods and outcomes, as labelled.
var (
	callEndpoints = []string{"server", "agent"}
	callMethods   = []string{"tools/call", "prompts/get", "resources/read"}
	callOutcomes  = []string{string(contract.OutcomeOK), string(contract.OutcomeError),
		string(contract.OutcomeBlocked), string(contract.OutcomeUnavailable)}
)

// Histogram buckets, in seconds: API requests are mostly milliseconds; a
// check is bounded by the probe timeout (10s by default) and a gateway call
// by the gateway's (60s).
var (
	httpBuckets  = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
	checkBuckets = []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}
	callBuckets  = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}
)

// OverdueGrace is how long past due a check must be to count as overdue: a
// running scheduler claims due checks within a poll (a second), so a minute
// late means none runs or they cannot keep up.
const OverdueGrace = time.Minute

// overdueTimeout bounds the overdue query of one scrape.
const overdueTimeout = 5 * time.Second

// Overdue counts the checks overdue by more than grace across all tenants,
// by kind of record; store.Store.CountOverdueChecks behind an adapter.
type Overdue func(ctx context.Context, grace time.Duration) (connections, servers int64, err error)

// Options are where the series of the database come from; either may be
// nil, which leaves its series out.
type Options struct {
	// DBStats reads the connection pool's figures (store.Store.DBStats).
	DBStats func() sql.DBStats
	// Overdue counts overdue checks, at each scrape.
	Overdue Overdue
	// Logger receives the errors of scrapes (such as an overdue query that
	// failed); nil discards them.
	Logger *slog.Logger
}

// Metrics is the API's registry and its series. It is safe for concurrent
// use; its Observe methods are what the other packages call.
type Metrics struct {
	reg *prometheus.Registry
	log *slog.Logger

	httpTotal   *prometheus.CounterVec
	httpSeconds *prometheus.HistogramVec
	httpMu      sync.RWMutex
	http        map[httpKey]series

	// checks and calls hold every series of their labels' fixed sets,
	// made in New and only read after.
	checks map[checkKey]series
	calls  map[callKey]series
}

// series is a counter and a histogram of one combination of labels.
type series struct {
	count   prometheus.Counter
	seconds prometheus.Observer
}

func (s series) observe(d time.Duration) {
	s.count.Inc()
	s.seconds.Observe(d.Seconds())
}

type httpKey struct {
	route, method string
	code          int
}

type checkKey struct{ kind, result, errorKind string }

type callKey struct{ endpoint, method, outcome string }

// New returns the metrics, registered on a registry of their own with the
// Go and process collectors.
func New(opts Options) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), log: opts.Logger, http: map[httpKey]series{}}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	m.httpTotal = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "http_requests_total",
		Help: "HTTP requests answered, by route template (\"unmatched\" when none matched), method and status code."},
		[]string{"route", "method", "code"})
	m.httpSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: "http_request_duration_seconds",
		Help: "Time to answer HTTP requests, by route template and method.", Buckets: httpBuckets},
		[]string{"route", "method"})
	checkTotal := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "checks_total",
		Help: "Checks whose result was stored, by record kind (connection, server), result (ok, failed) and error kind (\"none\" for ok)."},
		[]string{"kind", "result", "error_kind"})
	checkSeconds := prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: "check_duration_seconds",
		Help: "Time the MCP handshake of stored checks took, by record kind and result.", Buckets: checkBuckets},
		[]string{"kind", "result"})
	callTotal := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "gateway_calls_total",
		Help: "Audited gateway calls, by endpoint kind (server, agent), method and outcome (ok, error, blocked, unavailable)."},
		[]string{"endpoint", "method", "outcome"})
	callSeconds := prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: "gateway_call_duration_seconds",
		Help: "Time audited gateway calls took, by endpoint kind, method and outcome.", Buckets: callBuckets},
		[]string{"endpoint", "method", "outcome"})

	m.checks = map[checkKey]series{}
	for _, kind := range checkKinds {
		for _, result := range checkResults {
			kinds := []string{none}
			if result == "failed" {
				kinds = []string{other}
				for _, k := range contract.ErrorKinds {
					kinds = append(kinds, string(k))
				}
			}
			for _, ek := range kinds {
				m.checks[checkKey{kind, result, ek}] = series{checkTotal.WithLabelValues(kind, result, ek),
					checkSeconds.WithLabelValues(kind, result)}
			}
		}
	}
	m.calls = map[callKey]series{}
	for _, ep := range callEndpoints {
		for _, method := range callMethods {
			for _, outcome := range callOutcomes {
				m.calls[callKey{ep, method, outcome}] = series{callTotal.WithLabelValues(ep, method, outcome),
					callSeconds.WithLabelValues(ep, method, outcome)}
			}
		}
	}
	m.reg.MustRegister(m.httpTotal, m.httpSeconds, checkTotal, checkSeconds, callTotal, callSeconds,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if opts.DBStats != nil {
		m.reg.MustRegister(&poolCollector{stats: opts.DBStats})
	}
	if opts.Overdue != nil {
		m.reg.MustRegister(&overdueCollector{count: opts.Overdue})
	}
	return m
}

// Handler serves the metrics in Prometheus' text format at Path. A series
// that cannot be read (the database is down) is left out of the scrape and
// logged; the rest is served.
func (m *Metrics) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET "+Path, promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:      scrapeLog{m.log},
		ErrorHandling: promhttp.ContinueOnError,
	}))
	return mux
}

// scrapeLog is promhttp's error log on slog.
type scrapeLog struct{ log *slog.Logger }

func (l scrapeLog) Println(v ...any) {
	l.log.Warn("metrics: a series could not be collected", "error", fmt.Sprint(v...))
}

// ObserveHTTP counts and times one answered request. route is the matched
// route's template ("" when none matched).
func (m *Metrics) ObserveHTTP(route, method string, code int, d time.Duration) {
	if route == "" {
		route = Unmatched
	}
	key := httpKey{route: route, method: httpMethod(method), code: code}
	if code < 100 || code > 599 {
		key.code = 0
	}
	m.httpMu.RLock()
	s, ok := m.http[key]
	m.httpMu.RUnlock()
	if !ok {
		s = m.httpSeries(key)
	}
	s.observe(d)
}

// httpSeries makes the series of key on its first request. The routes are
// the router's templates and methods and codes are bounded, so the map is.
func (m *Metrics) httpSeries(key httpKey) series {
	code := other
	if key.code != 0 {
		code = strconv.Itoa(key.code)
	}
	s := series{m.httpTotal.WithLabelValues(key.route, key.method, code),
		m.httpSeconds.WithLabelValues(key.route, key.method)}
	m.httpMu.Lock()
	m.http[key] = s
	m.httpMu.Unlock()
	return s
}

// httpMethod is method if it is one the API knows, else "other": a client
// may send any token as a method.
func httpMethod(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return method
	}
	return other
}

// ObserveCheck counts and times one stored check of a record of kind
// ("connection" or "server"); errorKind is its contract.ErrorKind when it
// failed.
func (m *Metrics) ObserveCheck(kind string, ok bool, errorKind string, d time.Duration) {
	key := checkKey{kind: kind, result: "ok", errorKind: none}
	if !ok {
		key.result, key.errorKind = "failed", errorKind
	}
	s, found := m.checks[key]
	if !found && !ok {
		s, found = m.checks[checkKey{kind, "failed", other}]
	}
	if found {
		s.observe(d)
	}
}

// ObserveCall counts and times one audited gateway call at an endpoint of
// kind endpoint ("server" or "agent").
func (m *Metrics) ObserveCall(endpoint, method, outcome string, d time.Duration) {
	if s, ok := m.calls[callKey{endpoint, method, outcome}]; ok {
		s.observe(d)
	}
}

// poolCollector reads the database pool's figures at each scrape.
type poolCollector struct{ stats func() sql.DBStats }

var (
	poolOpen = prometheus.NewDesc(namespace+"_db_open_connections",
		"Connections to PostgreSQL open in the pool, in use or idle.", nil, nil)
	poolInUse = prometheus.NewDesc(namespace+"_db_in_use_connections",
		"Pool connections in use.", nil, nil)
	poolIdle = prometheus.NewDesc(namespace+"_db_idle_connections",
		"Pool connections idle.", nil, nil)
	poolMaxOpen = prometheus.NewDesc(namespace+"_db_max_open_connections",
		"Most connections the pool opens (0: no limit).", nil, nil)
	poolWaits = prometheus.NewDesc(namespace+"_db_wait_count_total",
		"Times a query waited for a free pool connection.", nil, nil)
	poolWaited = prometheus.NewDesc(namespace+"_db_wait_duration_seconds_total",
		"Time queries spent waiting for a free pool connection.", nil, nil)
)

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{poolOpen, poolInUse, poolIdle, poolMaxOpen, poolWaits, poolWaited} {
		ch <- d
	}
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	ch <- prometheus.MustNewConstMetric(poolOpen, prometheus.GaugeValue, float64(s.OpenConnections))
	ch <- prometheus.MustNewConstMetric(poolInUse, prometheus.GaugeValue, float64(s.InUse))
	ch <- prometheus.MustNewConstMetric(poolIdle, prometheus.GaugeValue, float64(s.Idle))
	ch <- prometheus.MustNewConstMetric(poolMaxOpen, prometheus.GaugeValue, float64(s.MaxOpenConnections))
	ch <- prometheus.MustNewConstMetric(poolWaits, prometheus.CounterValue, float64(s.WaitCount))
	ch <- prometheus.MustNewConstMetric(poolWaited, prometheus.CounterValue, s.WaitDuration.Seconds())
}

// overdueCollector counts overdue checks at each scrape.
type overdueCollector struct{ count Overdue }

var overdueDesc = prometheus.NewDesc(namespace+"_checks_overdue",
	"Checks due more than a minute ago that no scheduler has taken, across all tenants and replicas, by record kind.",
	[]string{"kind"}, nil)

func (c *overdueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- overdueDesc }

func (c *overdueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), overdueTimeout)
	defer cancel()
	conns, servers, err := c.count(ctx, OverdueGrace)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(overdueDesc, fmt.Errorf("counting overdue checks: %w", err))
		return
	}
	ch <- prometheus.MustNewConstMetric(overdueDesc, prometheus.GaugeValue, float64(conns), "connection")
	ch <- prometheus.MustNewConstMetric(overdueDesc, prometheus.GaugeValue, float64(servers), "server")
}
