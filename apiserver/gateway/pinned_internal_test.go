package gateway

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/catalog"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/probe"
	"github.com/mcpconn/terraform-provider-mcp/internal/mcptest"
)

// variedServer offers tools with every member the SDK models.
func variedServer() *mcp.Server {
	srv := mcp.NewServer(&mcp.Implementation{Name: "varied", Version: "1"}, nil)
	mcptest.AddEchoTool(srv, "plain", "")
	type in struct {
		Query string  `json:"query" jsonschema:"what to look for"`
		Limit float64 `json:"limit,omitempty"`
	}
	type out struct {
		Hits []string `json:"hits"`
	}
	mcp.AddTool(srv, &mcp.Tool{
		Name: "search", Title: "Search", Description: "Searches.\nSecond line, ünïcode.",
		Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true, DestructiveHint: new(false), OpenWorldHint: new(true), Title: "S"},
		Icons:       []mcp.Icon{{Source: "https://example.com/i.png", MIMEType: "image/png", Sizes: []string{"16x16"}}},
		Meta:        mcp.Meta{"vendor": "x"},
	}, func(context.Context, *mcp.CallToolRequest, in) (*mcp.CallToolResult, out, error) {
		return nil, out{}, nil
	})
	srv.AddTool(&mcp.Tool{Name: "raw", InputSchema: map[string]any{
		"type": "object", "properties": map[string]any{"n": map[string]any{"type": "integer", "maximum": 1e21, "minimum": -0.5}},
		"required": []any{"n"}, "additionalProperties": false,
	}}, func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return &mcp.CallToolResult{}, nil
	})
	return srv
}

// upstreamSession opens a gateway-style upstream session to url.
func upstreamSession(t *testing.T, url string, opts *mcp.ClientOptions) *probe.Session {
	t.Helper()
	p := probe.New(probe.Options{Timeout: 10 * time.Second, AllowPrivate: true})
	up, err := p.Connect(context.Background(), probe.Target{Transport: contract.TransportHTTP, URL: url},
		mcp.NewClient(clientInfo, opts))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = up.Close() })
	return up
}

// The live hash of a tool, from the SDK's decoding of it, is the hash a
// check stores of it as sent.
func TestPinLiveHashIsTheCheckHash(t *testing.T) {
	srv := mcptest.ServeStreamable(t, variedServer(), mcptest.Config{Stateful: true})
	p := probe.New(probe.Options{Timeout: 10 * time.Second, AllowPrivate: true})
	res := p.Probe(context.Background(), probe.Target{Transport: contract.TransportHTTP, URL: srv.URL})
	if !res.OK {
		t.Fatalf("check failed: %s", res.Err)
	}
	cat, err := catalog.Build(res.Listing.Tools, nil, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	tools, err := listTools(context.Background(), upstreamSession(t, srv.URL, nil))
	if err != nil {
		t.Fatal(err)
	}
	live := liveHashes(tools)
	if len(live) != 3 || len(cat.Tools) != 3 {
		t.Fatalf("live %v, checked %v", live, cat.ToolHashes())
	}
	for name, want := range cat.ToolHashes() {
		if live[name] != want {
			t.Errorf("tool %s: live hash %s, the check's %s", name, live[name], want)
		}
	}
}

func tool(name, description string) *mcp.Tool {
	return &mcp.Tool{Name: name, Description: description, InputSchema: map[string]any{"type": "object"}}
}

func names(tools []*mcp.Tool) string {
	var out []string
	for _, t := range tools {
		out = append(out, t.Name)
	}
	return strings.Join(out, ",")
}

func TestPinListed(t *testing.T) {
	a, b := tool("a", "first"), tool("b", "second")
	p := newPinning("sha256:approved", map[string]string{"a": toolHash(a), "b": toolHash(b), "gone": "sha256:x"})

	listing := []*mcp.Tool{a, tool("b", "second, rewritten"), tool("new", ""), tool("a", "first")}
	if got := names(p.listed(listing)); got != "a,a" {
		t.Errorf("listed %s, want the unchanged a only (listed twice alike)", got)
	}
	if got := names(p.listed([]*mcp.Tool{a, b, tool("a", "other")})); got != "b" {
		t.Errorf("listed %s, want b: a is listed twice with different definitions", got)
	}
	if got := names(p.listed([]*mcp.Tool{a, b})); got != "a,b" {
		t.Errorf("listed %s, want a,b", got)
	}
	var none *pinning
	if got := names(none.listed(listing)); got != "a,b,new,a" {
		t.Errorf("without a pinning listed %s, want everything", got)
	}
	if err := none.callable(context.Background(), nil, "anything"); err != nil {
		t.Errorf("without a pinning: %v", err)
	}
	none.changed()
}

// counting is an upstream whose tools/list requests are counted.
type counting struct {
	srv   *mcp.Server
	lists atomic.Int32
}

func newCounting(t *testing.T, tools ...*mcp.Tool) (*counting, string) {
	t.Helper()
	c := &counting{srv: mcp.NewServer(&mcp.Implementation{Name: "counting", Version: "1"}, &mcp.ServerOptions{PageSize: 1})}
	for _, tl := range tools {
		c.add(tl)
	}
	c.srv.AddReceivingMiddleware(func(next mcp.MethodHandler) mcp.MethodHandler {
		return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
			if method == "tools/list" {
				if p, _ := req.GetParams().(*mcp.ListToolsParams); p == nil || p.Cursor == "" {
					c.lists.Add(1)
				}
			}
			return next(ctx, method, req)
		}
	})
	return c, mcptest.ServeStreamable(t, c.srv, mcptest.Config{Stateful: true}).URL
}

func (c *counting) add(tl *mcp.Tool) {
	c.srv.AddTool(tl, func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return &mcp.CallToolResult{}, nil
	})
}

func refusal(t *testing.T, err error, name, why string) {
	t.Helper()
	var je *jsonrpc.Error
	if !errors.As(err, &je) || je.Code != jsonrpc.CodeInvalidParams {
		t.Fatalf("calling %s: %v, want a JSON-RPC InvalidParams error", name, err)
	}
	if !strings.Contains(je.Message, `tool "`+name+`" `+why) || !strings.Contains(je.Message, "sha256:approved") {
		t.Errorf("calling %s: %q, want it to say %q and the approved hash", name, je.Message, why)
	}
}

func TestPinCallableReadsTheLiveListing(t *testing.T) {
	ctx := context.Background()
	a, b := tool("a", "first"), tool("b", "second")
	up, url := newCounting(t, a, b)
	changes := make(chan struct{}, 10)
	s := upstreamSession(t, url, &mcp.ClientOptions{ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) { changes <- struct{}{} }})

	p := newPinning("sha256:approved", map[string]string{"a": toolHash(a), "b": toolHash(b), "gone": "sha256:x"})
	var mu sync.Mutex
	now := time.Now()
	p.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }

	for _, name := range []string{"a", "b", "a"} {
		if err := p.callable(ctx, s, name); err != nil {
			t.Fatalf("calling %s: %v", name, err)
		}
	}
	if n := up.lists.Load(); n != 1 {
		t.Errorf("%d listings for three calls, want 1 (every page of it)", n)
	}
	refusal(t, p.callable(ctx, s, "new"), "new", "is not in the approved catalog")
	refusal(t, p.callable(ctx, s, "gone"), "gone", "is in the approved catalog but not in the upstream")

	// b changes and the upstream says so: the next call reads the listing again.
	up.add(tool("b", "second, rewritten"))
	select {
	case <-changes:
	case <-time.After(30 * time.Second):
		t.Fatal("no list_changed from the upstream")
	}
	p.changed()
	refusal(t, p.callable(ctx, s, "b"), "b", "has a definition that changed since the approved catalog")
	if err := p.callable(ctx, s, "a"); err != nil {
		t.Errorf("a, unchanged: %v", err)
	}
	if n := up.lists.Load(); n != 2 {
		t.Errorf("%d listings, want 2", n)
	}

	// b changes back without the pinning hearing of it: seen once the
	// listing is older than the bound, not before.
	up.add(b)
	<-changes
	advance(liveToolsMaxAge - time.Second)
	refusal(t, p.callable(ctx, s, "b"), "b", "has a definition that changed")
	advance(time.Second)
	if err := p.callable(ctx, s, "b"); err != nil {
		t.Errorf("b, restored, after the bound: %v", err)
	}
	if n := up.lists.Load(); n != 3 {
		t.Errorf("%d listings, want 3", n)
	}

	// A tools/list page that shows a changed tool refuses it at once.
	changedA := tool("a", "first, rewritten")
	if got := names(p.listed([]*mcp.Tool{changedA, b})); got != "b" {
		t.Errorf("listed %s, want b", got)
	}
	refusal(t, p.callable(ctx, s, "a"), "a", "has a definition that changed")
}

// A listing read across a change is not kept as current.
func TestPinChangeDuringListing(t *testing.T) {
	ctx := context.Background()
	a := tool("a", "first")
	up, url := newCounting(t, a)
	s := upstreamSession(t, url, nil)
	p := newPinning("sha256:approved", map[string]string{"a": toolHash(a)})
	up.srv.AddReceivingMiddleware(func(next mcp.MethodHandler) mcp.MethodHandler {
		return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
			if method == "tools/list" {
				p.changed()
			}
			return next(ctx, method, req)
		}
	})
	for range 2 {
		if err := p.callable(ctx, s, "a"); err != nil {
			t.Fatal(err)
		}
	}
	if n := up.lists.Load(); n != 2 {
		t.Errorf("%d listings for two calls each across a change, want 2", n)
	}
}

func TestPinListingFailure(t *testing.T) {
	a := tool("a", "first")
	_, url := newCounting(t, a)
	s := upstreamSession(t, url, nil)
	_ = s.Close()
	p := newPinning("sha256:approved", map[string]string{"a": toolHash(a)})
	err := p.callable(context.Background(), s, "a")
	var je *jsonrpc.Error
	if !errors.As(err, &je) || je.Code != jsonrpc.CodeInternalError || !strings.Contains(je.Message, "cannot be listed") {
		t.Errorf("listing on a closed session: %v", err)
	}
}
