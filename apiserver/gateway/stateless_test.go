package gateway_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/internal/mcptest"
)

// 2026-07-28 requests carry no session: the gateway serves them on pooled
// upstream sessions rather than a handshake (and a TCP connection) per call,
// and keeps what each call is told its own.
func TestStatelessCallersShareUpstreamSessions(t *testing.T) {
	e := newEnv(t)
	up := mcptest.NewInteractive("upstream")
	upstream := mcptest.ServeStreamable(t, up.Server, mcptest.Config{Stateful: true})
	id := e.register(t, "pooled", upstream.URL, contract.ConnectionProxy)

	ctx := context.Background()
	a := connect(t, e.endpoint(id), e.api.APIKey, "2026-07-28", "a")
	b := connect(t, e.endpoint(id), e.api.APIKey, "2026-07-28", "b")
	// The record's first check (which changes the record, and so replaces
	// pooled sessions) is over before counting.
	e.api.ServerChecker.Wait()
	if _, err := a.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "warm"}}); err != nil {
		t.Fatal(err)
	}
	before := handshakes(upstream.Methods())
	const calls = 5
	for i := range calls {
		for _, d := range []*downstream{a, b} {
			res, err := d.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": fmt.Sprint(i)}})
			if err != nil {
				t.Fatal(err)
			}
			if got := text(t, res); got != fmt.Sprint(i) {
				t.Errorf("echo answered %q, want %d", got, i)
			}
		}
	}
	if n := handshakes(upstream.Methods()) - before; n != 0 {
		t.Errorf("%d upstream handshakes for %d stateless calls of one caller, want none (its pooled session is open)", n, 2*calls)
	}

	// The two callers choose the same progress token: a call is told only
	// of its own progress, not of the other's still in progress.
	waiting, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		_, _ = a.CallTool(waiting, &mcp.CallToolParams{Name: "wait", Meta: mcp.Meta{"progressToken": "same"}})
	})
	<-up.Started
	if _, err := b.CallTool(ctx, &mcp.CallToolParams{Name: "progress", Arguments: map[string]any{"steps": 3},
		Meta: mcp.Meta{"progressToken": "same"}}); err != nil {
		t.Fatal(err)
	}
	cancel()
	wg.Wait()
	if seen := a.progressSeen(); len(seen) != 0 {
		t.Errorf("a call that reports no progress was told of %v: another caller's call reached it", seen)
	}
	for _, tok := range b.progressSeen() {
		if tok != "same" {
			t.Errorf("progress token %q reached the client, want its own %q", tok, "same")
		}
	}
}

// handshakes counts the initialize requests among an upstream's methods.
func handshakes(methods []string) int {
	n := 0
	for _, m := range methods {
		if m == "initialize" {
			n++
		}
	}
	return n
}

// A session's handshake is answered from the endpoint's last upstream one:
// it opens its upstream session (connection, stdio process) on its first
// request, not while it only idles.
func TestSessionsOpenTheirUpstreamOnFirstUse(t *testing.T) {
	e := newEnv(t)
	up := mcptest.NewInteractive("upstream")
	upstream := mcptest.ServeStreamable(t, up.Server, mcptest.Config{Stateful: true})
	id := e.register(t, "lazy", upstream.URL, contract.ConnectionProxy)
	e.api.ServerChecker.Wait()
	ctx := context.Background()

	first := connect(t, e.endpoint(id), e.api.APIKey, "2025-06-18", "first")
	if _, err := first.ListTools(ctx, nil); err != nil {
		t.Fatal(err)
	}
	before := handshakes(upstream.Methods())
	idle := connect(t, e.endpoint(id), e.api.APIKey, "2025-06-18", "idle")
	if got := idle.InitializeResult().ServerInfo; got == nil || got.Name != "upstream" {
		t.Errorf("serverInfo %+v, want the upstream's", got)
	}
	if n := handshakes(upstream.Methods()) - before; n != 0 {
		t.Errorf("a session that only shook hands opened %d upstream sessions, want none yet", n)
	}
	res, err := idle.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "now"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := text(t, res); got != "now" {
		t.Errorf("echo answered %q", got)
	}
	if n := handshakes(upstream.Methods()) - before; n != 1 {
		t.Errorf("its first call opened %d upstream sessions, want 1", n)
	}
}
