package gateway_test

import (
	"context"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/apitest"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/client"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/gateway"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/httpapi"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/probe"
	"github.com/mcpconn/terraform-provider-mcp/internal/mcptest"
	"github.com/mcpconn/terraform-provider-mcp/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// env is a real API with the gateway mounted, and a client of it.
type env struct {
	api    *apitest.Server
	client *client.Client
	// project is where register puts servers.
	project string
}

// gatewayTimeout bounds calls forwarded upstream in these tests.
const gatewayTimeout = 20 * time.Second

// newEnv starts the env; adjust may change the gateway's configuration.
func newEnv(t testing.TB, adjust ...func(*apitest.Server, *gateway.Config)) *env {
	t.Helper()
	api := apitest.Start(t, apitest.WithProbes(), apitest.WithConfig(func(s *apitest.Server, cfg *httpapi.Config) {
		gc := gateway.Config{
			Servers:  s.Store,
			Catalogs: s.Store,
			Targets:  s.ServerChecker,
			// The agent endpoint too, for the clients that drive both.
			Agents:            s.Store,
			ConnectionTargets: s.ConnectionChecker,
			Dialer:            probe.New(probe.Options{Timeout: 10 * time.Second, AllowPrivate: true, StdioTerminateDelay: 200 * time.Millisecond}),
			Timeout:           gatewayTimeout,
		}
		for _, fn := range adjust {
			fn(s, &gc)
		}
		g, err := gateway.New(gc)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(g.Close)
		cfg.Gateway = g
	}))
	c, err := client.New(api.URL, api.APIKey, client.WithRetryMax(0))
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.CreateProject(context.Background(), contract.CreateProjectRequest{Name: "gateway"})
	if err != nil {
		t.Fatal(err)
	}
	return &env{api: api, client: c, project: p.ID}
}

// register creates a server record for url and returns its id.
func (e *env) register(t testing.TB, name, url string, conn contract.ConnectionType) string {
	t.Helper()
	srv, err := e.client.CreateServer(context.Background(), contract.CreateServerRequest{
		ProjectID: e.project, Name: name, URL: &url,
		TransportType: contract.TransportHTTP, ConnectionType: conn,
	})
	if err != nil {
		t.Fatal(err)
	}
	return srv.ID
}

// endpoint is the gateway URL of server id.
func (e *env) endpoint(id string) string { return e.api.URL + "/mcp/servers/" + id }

// httpClient authenticates with key.
func httpClient(key string) *http.Client { return mcptest.BearerClient(key) }
