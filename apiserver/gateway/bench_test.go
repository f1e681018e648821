package gateway_test

import (
	"context"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/apitest"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/client"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/gateway"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/httpapi"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/probe"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
	"github.com/mcpconn/terraform-provider-mcp/internal/mcptest"
)

// BenchmarkStatelessToolsCall is a stateless tools/call through the whole
// API (HTTP layer, auth, gateway, audit) to a stateless upstream, for
// profiling the hot path in one process (make bench measures it against
// the upstream called directly):
//
//	go test ./apiserver/gateway -run '^$' -bench StatelessToolsCall -cpuprofile cpu.out
func BenchmarkStatelessToolsCall(b *testing.B) {
	api := apitest.Start(b, apitest.WithProbes(), apitest.WithConfig(func(s *apitest.Server, cfg *httpapi.Config) {
		audit := store.NewAuditWriter(s.Store, store.AuditWriterOptions{})
		b.Cleanup(func() { _ = audit.Close() })
		g, err := gateway.New(gateway.Config{
			Servers: s.Store, Catalogs: s.Store, Targets: s.ServerChecker, Audit: benchAudit(audit),
			Dialer:  probe.New(probe.Options{Timeout: 10 * time.Second, AllowPrivate: true}),
			Timeout: gatewayTimeout,
		})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(g.Close)
		cfg.Gateway = g
	}))
	upstream := mcptest.ServeStreamable(b, mcptest.NewInteractive("upstream").Server, mcptest.Config{})
	ctx := context.Background()
	c := newBenchClient(b, api)
	p, err := c.CreateProject(ctx, contract.CreateProjectRequest{Name: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	srv, err := c.CreateServer(ctx, contract.CreateServerRequest{ProjectID: p.ID, Name: "bench", URL: &upstream.URL,
		TransportType: contract.TransportHTTP, ConnectionType: contract.ConnectionProxy})
	if err != nil {
		b.Fatal(err)
	}
	api.ServerChecker.Wait()
	endpoint := api.URL + "/mcp/servers/" + srv.ID
	hc := &http.Client{Transport: &bearer{key: api.APIKey, base: &http.Transport{MaxIdleConnsPerHost: 64}}}
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		client := mcp.NewClient(&mcp.Implementation{Name: "bench", Version: "1"}, nil)
		cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: endpoint, HTTPClient: hc, MaxRetries: -1},
			&mcp.ClientSessionOptions{ProtocolVersion: "2026-07-28"})
		if err != nil {
			b.Error(err)
			return
		}
		defer cs.Close()
		for pb.Next() {
			if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "hi"}}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func newBenchClient(b *testing.B, api *apitest.Server) *client.Client {
	c, err := client.New(api.URL, api.APIKey, client.WithRetryMax(0))
	if err != nil {
		b.Fatal(err)
	}
	return c
}

func benchAudit(w *store.AuditWriter) gateway.Auditor {
	if os.Getenv("BENCH_NO_AUDIT") != "" {
		return nil
	}
	return w
}
