package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/gateway"
	"github.com/mcpconn/terraform-provider-mcp/internal/mcptest"
)

// The downstream protocol versions the gateway serves.
var versions = []string{"2025-06-18", "2025-11-25", "2026-07-28"}

// downstream is a Go SDK client session through the gateway, with what it
// was sent.
type downstream struct {
	*mcp.ClientSession
	mu       sync.Mutex
	progress []string
	samples  int
}

func (d *downstream) progressSeen() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.progress...)
}

// connect opens a session to endpoint at version; name is what its
// sampling handler answers.
func connect(t *testing.T, endpoint, key, version, name string) *downstream {
	t.Helper()
	d := &downstream{}
	client := mcp.NewClient(&mcp.Implementation{Name: name, Version: "1"}, &mcp.ClientOptions{
		ProgressNotificationHandler: func(_ context.Context, r *mcp.ProgressNotificationClientRequest) {
			d.mu.Lock()
			d.progress = append(d.progress, fmt.Sprint(r.Params.ProgressToken))
			d.mu.Unlock()
		},
		CreateMessageHandler: func(context.Context, *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) { //nolint:staticcheck // sampling is what is tested
			d.mu.Lock()
			d.samples++
			d.mu.Unlock()
			return &mcp.CreateMessageResult{Model: "test", Role: "assistant", Content: &mcp.TextContent{Text: "sampled by " + name}}, nil //nolint:staticcheck // sampling is what is tested
		},
	})
	d.ClientSession = dial(t, endpoint, key, version, client)
	return d
}

// dial connects client to endpoint with key at version, for the test.
func dial(t *testing.T, endpoint, key, version string, client *mcp.Client) *mcp.ClientSession {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: endpoint, HTTPClient: httpClient(key), MaxRetries: -1},
		&mcp.ClientSessionOptions{ProtocolVersion: version})
	if err != nil {
		t.Fatalf("connect at %s: %v", version, err)
	}
	t.Cleanup(func() { _ = cs.Close() })
	if got := cs.InitializeResult().ProtocolVersion; got != version {
		t.Fatalf("negotiated %s, want %s", got, version)
	}
	return cs
}

func text(t *testing.T, res *mcp.CallToolResult) string {
	t.Helper()
	if res.IsError || len(res.Content) == 0 {
		t.Fatalf("tool call failed: %+v", res)
	}
	tc, ok := res.Content[0].(*mcp.TextContent)
	if !ok {
		t.Fatalf("content is %T, want text", res.Content[0])
	}
	return tc.Text
}

func TestRealClientsAtEachVersion(t *testing.T) {
	e := newEnv(t)
	up := mcptest.NewInteractive("upstream")
	upstream := mcptest.ServeStreamable(t, up.Server, mcptest.Config{Stateful: true})
	id := e.register(t, "interactive", upstream.URL, contract.ConnectionProxy)

	for _, v := range versions {
		t.Run(v, func(t *testing.T) {
			ctx := context.Background()
			a := connect(t, e.endpoint(id), e.api.APIKey, v, "a")
			b := connect(t, e.endpoint(id), e.api.APIKey, v, "b")
			if got := a.InitializeResult().ServerInfo; got == nil || got.Name != "upstream" {
				t.Errorf("serverInfo %+v, want the upstream's", got)
			}

			tools, err := a.ListTools(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, tool := range tools.Tools {
				names = append(names, tool.Name)
			}
			if strings.Join(names, ",") != "echo,progress,sample,wait" {
				t.Errorf("tools %v", names)
			}
			res, err := a.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "hi " + v}})
			if err != nil {
				t.Fatal(err)
			}
			if got := text(t, res); got != "hi "+v {
				t.Errorf("echo answered %q", got)
			}

			// Progress of two concurrent calls in two sessions: each sees its own.
			var wg sync.WaitGroup
			for i, d := range []*downstream{a, b} {
				wg.Go(func() {
					_, err := d.CallTool(ctx, &mcp.CallToolParams{Name: "progress", Arguments: map[string]any{"steps": 3 + i},
						Meta: mcp.Meta{"progressToken": fmt.Sprintf("tok-%d", i)}})
					if err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			for i, d := range []*downstream{a, b} {
				want := strings.Repeat(fmt.Sprintf("tok-%d,", i), 3+i)
				deadline := time.Now().Add(5 * time.Second)
				for strings.Join(d.progressSeen(), ",")+"," != want && time.Now().Before(deadline) {
					time.Sleep(20 * time.Millisecond)
				}
				// Every notification reaches the call's own session before its
				// answer does (the gateway waits for its handlers), and the
				// client hands them on, in time, apart from the answer.
				if got := strings.Join(d.progressSeen(), ",") + ","; got != want {
					t.Errorf("session %d saw progress %q, want %q", i, got, want)
				}
			}

			// Sampling needs a server-to-client request, which 2026-07-28
			// replaces with input requests in results.
			if v < "2026-07-28" {
				results := make([]string, 2)
				for i, d := range []*downstream{a, b} {
					wg.Go(func() {
						res, err := d.CallTool(ctx, &mcp.CallToolParams{Name: "sample", Arguments: map[string]any{"text": "q"}})
						if err != nil {
							t.Error(err)
							return
						}
						results[i] = text(t, res)
					})
				}
				wg.Wait()
				if results[0] != "sampled by a" || results[1] != "sampled by b" || a.samples != 1 || b.samples != 1 {
					t.Errorf("sampling answers %q (handlers called %d, %d times), want each session's own once", results, a.samples, b.samples)
				}
			}

			// Cancelling a call downstream cancels it upstream, at every
			// version (at 2026-07-28 the request's end reaches the pooled
			// upstream session as notifications/cancelled).
			cctx, cancel := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() {
				_, err := a.CallTool(cctx, &mcp.CallToolParams{Name: "wait"})
				done <- err
			}()
			select {
			case <-up.Started:
			case <-time.After(10 * time.Second):
				t.Fatal("the wait call did not reach the upstream")
			}
			cancel()
			select {
			case <-up.Cancelled:
			case <-time.After(10 * time.Second):
				t.Fatal("the upstream call was not cancelled")
			}
			select {
			case err := <-done:
				if err == nil {
					t.Error("the cancelled call succeeded")
				}
			case <-time.After(10 * time.Second):
				t.Error("the cancelled call did not return")
			}
		})
	}
}

func TestRefusals(t *testing.T) {
	e := newEnv(t)
	upstream := mcptest.StartHTTP(t, mcptest.Config{Tools: true})
	direct := e.register(t, "direct", upstream.URL, contract.ConnectionDirect)
	proxied := e.register(t, "proxied", upstream.URL, contract.ConnectionProxy)
	_, otherKey := e.api.NewTenant(t, "other")

	body := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`
	post := func(url, key, body string) (*http.Response, map[string]any) {
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp, out
	}

	resp, out := post(e.endpoint(direct), e.api.APIKey, body)
	want := "MCP server " + direct + " is direct: agents reach it at its own url; set connectionType to proxy to serve it through the gateway"
	if resp.StatusCode != http.StatusNotFound || out["success"] != false || out["error"] != want {
		t.Errorf("direct server: %d %v", resp.StatusCode, out)
	}
	for name, key := range map[string]string{"other tenant": otherKey} {
		resp, out := post(e.endpoint(proxied), key, body)
		if resp.StatusCode != http.StatusNotFound || out["error"] != "MCP server not found" {
			t.Errorf("%s: %d %v", name, resp.StatusCode, out)
		}
	}
	resp, out = post(e.endpoint("mcp_doesnotexist"), e.api.APIKey, body)
	if resp.StatusCode != http.StatusNotFound || out["success"] != false {
		t.Errorf("unknown server: %d %v", resp.StatusCode, out)
	}
	for name, key := range map[string]string{"no key": "", "wrong key": "mcpk_wrong"} {
		resp, out := post(e.endpoint(proxied), key, body)
		if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") || out["success"] != false {
			t.Errorf("%s: %d %q %v", name, resp.StatusCode, resp.Header.Get("WWW-Authenticate"), out)
		}
	}
	big := `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"pad":"` + strings.Repeat("x", gateway.MaxBodyBytes) + `"}}}`
	if resp, _ := post(e.endpoint(proxied), e.api.APIKey, big); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("a body over 4 MiB: %d, want 413", resp.StatusCode)
	}
	if resp, _ := post(e.endpoint(proxied), e.api.APIKey, "{not json"); resp.StatusCode >= 500 {
		t.Errorf("malformed JSON: %d", resp.StatusCode)
	}
	// The session works after all that.
	_ = connect(t, e.endpoint(proxied), e.api.APIKey, "2025-11-25", "ok")
}

func TestHungUpstreamDoesNotStallOthers(t *testing.T) {
	e := newEnv(t)
	hung := e.register(t, "hung", mcptest.StartHung(t).URL, contract.ConnectionProxy)
	good := e.register(t, "good", mcptest.StartHTTP(t, mcptest.Config{Tools: true}).URL, contract.ConnectionProxy)

	stuck := make(chan error, 2)
	for _, v := range []string{"2025-11-25", "2026-07-28"} {
		go func() {
			client := mcp.NewClient(&mcp.Implementation{Name: "stuck", Version: "1"}, nil)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: e.endpoint(hung), HTTPClient: httpClient(e.api.APIKey), MaxRetries: -1},
				&mcp.ClientSessionOptions{ProtocolVersion: v})
			if err == nil {
				_ = cs.Close()
			}
			stuck <- err
		}()
	}
	time.Sleep(200 * time.Millisecond) // let them reach the upstream

	start := time.Now()
	d := connect(t, e.endpoint(good), e.api.APIKey, "2025-11-25", "good")
	res, err := d.CallTool(context.Background(), &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "x"}})
	if err != nil || text(t, res) != "x" {
		t.Fatalf("call beside a hung upstream: %v", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("a session beside a hung upstream took %s", took)
	}
	for range 2 {
		if err := <-stuck; err == nil {
			t.Error("a session to a hung upstream was opened")
		}
	}
}
