package gateway_test

import (
	"context"
	"net/http"
	"os"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/apitest"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/gateway"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
	"github.com/mcpconn/terraform-provider-mcp/internal/mcptest"
)

// BenchmarkStatelessToolsCall is a stateless tools/call through the whole
// API (HTTP layer, auth, gateway, audit unless BENCH_NO_AUDIT is set) to a
// stateless upstream, for profiling the hot path in one process (make
// bench measures it against the upstream called directly):
//
//	go test ./apiserver/gateway -run '^$' -bench StatelessToolsCall -cpuprofile cpu.out
func BenchmarkStatelessToolsCall(b *testing.B) {
	e := newEnv(b, func(s *apitest.Server, gc *gateway.Config) {
		gc.Agents, gc.ConnectionTargets = nil, nil
		if os.Getenv("BENCH_NO_AUDIT") == "" {
			audit := store.NewAuditWriter(s.Store, store.AuditWriterOptions{})
			b.Cleanup(func() { _ = audit.Close() })
			gc.Audit = audit
		}
	})
	upstream := mcptest.ServeStreamable(b, mcptest.NewInteractive("upstream").Server, mcptest.Config{})
	endpoint := e.endpoint(e.register(b, "bench", upstream.URL, contract.ConnectionProxy))
	e.api.ServerChecker.Wait()
	ctx := context.Background()
	hc := &http.Client{Transport: mcptest.Headers{Bearer: e.api.APIKey, Base: &http.Transport{MaxIdleConnsPerHost: 64}}}
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
