// Package apitest runs the real API server for tests of other packages: a
// fresh PostgreSQL database, migrated, with one tenant and its API key, served
// over HTTP on a loopback port. Every exchange with it that the API's OpenAPI
// document covers (/api, /healthz, /readyz, /openapi.json) is checked against
// the document, and one that is not as documented fails the test that made
// it (benchmarks excepted: they measure the API, not the check).
//
// It uses internal/pgtest, so every test package that calls Start must run
// its tests through pgtest.Run, which stops the throwaway cluster at the end:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }
package apitest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/health"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/httpapi"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/probe"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/secrets"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/secrets/infisicalfake"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
	"github.com/mcpconn/terraform-provider-mcp/internal/pgtest"
)

// Server is a running API server and what a test needs to call it.
type Server struct {
	// URL is the base URL, such as http://127.0.0.1:41234, without a trailing slash.
	URL string
	// APIKey authenticates as TenantID.
	APIKey string
	// TenantID is the tenant Start created.
	TenantID uuid.UUID
	// Store is the server's store, for arranging and inspecting rows directly.
	Store *store.Store
	// Keyring seals and opens the server's stored tokens.
	Keyring *secrets.Keyring
	// SecretKey is the base64 key Keyring was built from (MCP_API_SECRET_KEY).
	SecretKey string
	// Secrets is the secret store the server keeps credentials in: the
	// builtin one over Keyring, or (WithSecretBackend, EnvSecretBackend)
	// Infisical, cached as serve caches it.
	Secrets secrets.Store
	// Infisical is the fake Infisical Secrets keeps credentials in; nil
	// with the builtin backend. Its SetDown makes the backend unavailable.
	Infisical *infisicalfake.Fake
	// DatabaseURL is the lib/pq URL of the server's own database.
	DatabaseURL string
	// ConnectionChecker and ServerChecker are the real health checkers
	// behind /health-check and /connect; nil unless the server was started
	// WithProbes. They may reach loopback addresses, where tests run their
	// MCP servers.
	ConnectionChecker *health.ConnectionChecker
	ServerChecker     *health.ServerChecker
}

// Option changes how Start builds the server.
type Option func(*options)

type options struct {
	logger    *slog.Logger
	configure []func(*Server, *httpapi.Config)
	probes    bool
	replicaOf *Server
	backend   string
}

// EnvSecretBackend, set to infisical, runs every test server of every
// suite with its credentials in a fake Infisical instead of the builtin
// store (make test runs the API suites both ways).
const EnvSecretBackend = "MCP_API_TEST_SECRET_BACKEND"

// WithSecretBackend keeps the server's credentials in backend:
// secrets.BackendBuiltin or secrets.BackendInfisical (a fake Infisical,
// Server.Infisical), whatever EnvSecretBackend says.
func WithSecretBackend(backend string) Option {
	return func(o *options) { o.backend = backend }
}

// WithProbes serves the API with the real health checkers, as serve does:
// /health-check and /connect run MCP handshakes, and new MCP servers are
// probed in the background. Without it those routes do not exist and
// nothing leaves the test process but what the test sends.
func WithProbes() Option {
	return func(o *options) { o.probes = true }
}

// WithLogger sends the server's logs to l instead of the test log.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.logger = l }
}

// WithConfig lets a test adjust the HTTP layer's configuration once the store
// and keyring exist, for example to plug in a health checker built on them.
func WithConfig(fn func(s *Server, cfg *httpapi.Config)) Option {
	return func(o *options) { o.configure = append(o.configure, fn) }
}

// ReplicaOf starts the server as another replica of s, as a second
// `serve` on the same database would be: s's database, secret key, tenant
// and API key, with a store (connection pool) and HTTP server of its own.
func ReplicaOf(s *Server) Option {
	return func(o *options) { o.replicaOf = s }
}

// Start starts a server on a fresh database and stops it when the test ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.logger == nil {
		o.logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	}

	ctx := context.Background()
	s := &Server{}
	if o.replicaOf != nil {
		s.DatabaseURL = o.replicaOf.DatabaseURL
	} else {
		s.DatabaseURL = pgtest.NewDatabase(t)
	}
	st, err := store.Open(s.DatabaseURL)
	if err != nil {
		t.Fatalf("apitest: open store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("apitest: migrate: %v", err)
	}
	s.Store = st

	key := make([]byte, secrets.KeySize)
	_, _ = rand.Read(key)
	if o.replicaOf != nil {
		key, _ = base64.StdEncoding.DecodeString(o.replicaOf.SecretKey)
	}
	s.SecretKey = base64.StdEncoding.EncodeToString(key)
	if s.Keyring, err = secrets.NewKeyring(key); err != nil {
		t.Fatalf("apitest: keyring: %v", err)
	}

	s.startSecrets(t, o)

	if o.replicaOf != nil {
		s.TenantID, s.APIKey = o.replicaOf.TenantID, o.replicaOf.APIKey
	} else {
		s.TenantID, s.APIKey = s.NewTenant(t, "apitest")
	}

	// The test prober may reach loopback addresses, so loopback http token
	// URLs are accepted as serve accepts them with private targets allowed.
	cfg := httpapi.Config{Store: st, Keyring: s.Keyring, Secrets: s.Secrets, Logger: o.logger, AllowPrivateTargets: true}
	if o.probes {
		s.startCheckers(t, o.logger)
		cfg.ConnectionChecker, cfg.ServerChecker = s.ConnectionChecker, s.ServerChecker
	}
	// The listener exists before the handler, so gateway URLs name it.
	srv := httptest.NewUnstartedServer(nil)
	cfg.PublicURL = "http://" + srv.Listener.Addr().String()
	for _, fn := range o.configure {
		fn(s, &cfg)
	}
	srv.Config.Handler = httpapi.New(cfg)
	// Benchmarks measure the API, not the validator; every test checks its
	// exchanges against the OpenAPI document.
	if _, bench := t.(*testing.B); !bench {
		v, err := validator()
		if err != nil {
			t.Fatalf("apitest: %v", err)
		}
		srv.Config.Handler = validating(t, v, srv.Config.Handler)
	}
	srv.Start()
	// registered after the store's cleanup, so it runs first: requests
	// finish before the pool closes
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// NewTenant creates another tenant with an API key of its own.
func (s *Server) NewTenant(t testing.TB, name string) (tenantID uuid.UUID, apiKey string) {
	t.Helper()
	ctx := context.Background()
	tenant, err := s.Store.CreateTenant(ctx, name)
	if err != nil {
		t.Fatalf("apitest: create tenant %q: %v", name, err)
	}
	plain, hash, err := secrets.NewAPIKey()
	if err != nil {
		t.Fatalf("apitest: new API key: %v", err)
	}
	if err := s.Store.CreateAPIKey(ctx, tenant.ID, hash); err != nil {
		t.Fatalf("apitest: store API key: %v", err)
	}
	return tenant.ID, plain
}

// ProbeTimeout bounds each health check the test server runs.
const ProbeTimeout = 5 * time.Second

func (s *Server) startCheckers(t testing.TB, log *slog.Logger) {
	t.Helper()
	prober := probe.New(probe.Options{Timeout: ProbeTimeout, AllowPrivate: true, StdioTerminateDelay: 200 * time.Millisecond})
	var err error
	s.ConnectionChecker, err = health.NewConnectionChecker(health.CheckerConfig{Store: s.Store, Secrets: s.Secrets, Prober: prober, Logger: log})
	if err != nil {
		t.Fatalf("apitest: health checker: %v", err)
	}
	s.ServerChecker, err = health.NewServerChecker(health.CheckerConfig{Store: s.Store, Secrets: s.Secrets, Prober: prober, Logger: log})
	if err != nil {
		t.Fatalf("apitest: server checker: %v", err)
	}
	// background probes of new servers finish before the store closes
	t.Cleanup(s.ServerChecker.Wait)
}

// startSecrets builds the secret store o asks for (EnvSecretBackend when it
// asks for none); a replica shares its first server's fake Infisical.
func (s *Server) startSecrets(t testing.TB, o options) {
	t.Helper()
	backend := o.backend
	if backend == "" {
		backend = strings.ToLower(strings.TrimSpace(os.Getenv(EnvSecretBackend)))
	}
	if o.replicaOf != nil && o.replicaOf.Infisical != nil {
		s.Infisical = o.replicaOf.Infisical
		backend = secrets.BackendInfisical
	}
	switch backend {
	case "", secrets.BackendBuiltin:
		s.Secrets = secrets.NewBuiltin(s.Keyring)
		return
	case secrets.BackendInfisical:
	default:
		t.Fatalf("apitest: %s must be builtin or infisical, got %q", EnvSecretBackend, backend)
	}
	if s.Infisical == nil {
		s.Infisical = infisicalfake.New(t, infisicalfake.Options{})
	}
	in, err := secrets.NewInfisical(InfisicalConfig(s.Infisical), s.Keyring)
	if err != nil {
		t.Fatalf("apitest: infisical store: %v", err)
	}
	s.Secrets = secrets.NewCached(in, secrets.DefaultCacheTTL)
}

// InfisicalConfig is how to reach fake f, with short waits between
// retries so a test of an outage does not sit in them.
func InfisicalConfig(f *infisicalfake.Fake) secrets.InfisicalConfig {
	o := f.Options()
	return secrets.InfisicalConfig{URL: f.URL, ClientID: o.ClientID, ClientSecret: o.ClientSecret, ProjectID: o.ProjectID,
		Environment: o.Environments[0], SecretPath: "/mcp-api", RetryWait: 10 * time.Millisecond, LoginBackoff: 50 * time.Millisecond,
		RequestTimeout: 5 * time.Second}
}
