package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/gateway"
	"github.com/mcpconn/terraform-provider-mcp/internal/mcptest"
)

// seenCall is what an upstream saw of one tools/call.
type seenCall struct {
	tool, client, authorization, param string
}

// watched is an upstream that records who each tools/call says it is from
// (the clientInfo in its _meta: the gateway's own on the SDK path, the
// caller's on the pass-through path) and that can be made to answer HTTP
// 500 to calls.
type watched struct {
	mu    sync.Mutex
	calls []seenCall
	fail  atomic.Bool
}

func (w *watched) wrap(token string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			http.Error(rw, "wrong credentials", http.StatusUnauthorized)
			return
		}
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		var msg struct {
			Method string `json:"method"`
			Params struct {
				Name string         `json:"name"`
				Meta map[string]any `json:"_meta"`
			} `json:"params"`
		}
		if json.Unmarshal(body, &msg) == nil && msg.Method == "tools/call" {
			info, _ := msg.Params.Meta[mcp.MetaKeyClientInfo].(map[string]any)
			name, _ := info["name"].(string)
			w.mu.Lock()
			w.calls = append(w.calls, seenCall{tool: msg.Params.Name, client: name,
				authorization: r.Header.Get("Authorization"), param: r.Header.Get("Mcp-Name")})
			w.mu.Unlock()
			if w.fail.Load() {
				http.Error(rw, "upstream broke", http.StatusInternalServerError)
				return
			}
		}
		h.ServeHTTP(rw, r)
	})
}

func (w *watched) seen() []seenCall {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.calls)
}

// A 2026-07-28 call to a 2026-07-28 upstream is passed through as the
// caller sent it — the upstream sees the caller's own clientInfo — with the
// record's credentials in place of the caller's, its progress carried back
// on its own stream, and each call in the audit log with its outcome.
func TestStatelessCallsPassThrough(t *testing.T) {
	e := newAgentEnv(t)
	it := mcptest.NewInteractive("upstream")
	mcp.AddTool(it.Server, &mcp.Tool{Name: "broken", Description: "Answers with an error result."},
		func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, struct{}, error) {
			return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: "it broke"}}}, struct{}{}, nil
		})
	up := &watched{}
	const token = "record-token-9f2c"
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return it.Server }, &mcp.StreamableHTTPOptions{Stateless: true})
	upstream := mcptest.ServeHandler(t, up.wrap(token, h))

	ctx := context.Background()
	srv, err := e.client.CreateServer(ctx, contract.CreateServerRequest{
		ProjectID: e.project, Name: "passed", URL: &upstream.URL, BearerToken: new(token),
		TransportType: contract.TransportHTTP, ConnectionType: contract.ConnectionProxy,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.api.ServerChecker.CheckServer(ctx, e.api.TenantID, srv.ID); err != nil {
		t.Fatal(err)
	}
	key := uuid.New()
	e.mu.Lock()
	e.callers["caller-key"] = gateway.Caller{Tenant: e.api.TenantID, APIKeyID: &key}
	e.mu.Unlock()

	d := connect(t, e.url+"/mcp/servers/"+srv.ID, "caller-key", "2026-07-28", "the-caller")
	const calls = 4
	for i := range calls {
		res, err := d.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": strings.Repeat("x", i+1)}})
		if err != nil {
			t.Fatal(err)
		}
		if got := text(t, res); got != strings.Repeat("x", i+1) {
			t.Errorf("echo answered %q", got)
		}
	}
	seen := up.seen()
	if len(seen) != calls {
		t.Fatalf("the upstream saw %d calls, want %d: %+v", len(seen), calls, seen)
	}
	// The first call opens an upstream session (which reads the upstream's
	// version); the later ones pass through.
	for _, c := range seen[1:] {
		if c.client != "the-caller" || c.param != "echo" {
			t.Errorf("a call reached the upstream as %+v, want the caller's own message (clientInfo %q, Mcp-Name echo)", c, "the-caller")
		}
	}
	for _, c := range seen {
		if c.authorization != "Bearer "+token {
			t.Errorf("the upstream got Authorization %q, want the record's token", c.authorization)
		}
	}

	// Progress reaches the call on its own stream. The SDK client hands
	// notifications to their handler apart from the answer, so the last may
	// still be on its way when the call returns.
	res, err := d.CallTool(ctx, &mcp.CallToolParams{Name: "progress", Arguments: map[string]any{"steps": 3},
		Meta: mcp.Meta{"progressToken": "p-1"}})
	if err != nil || text(t, res) != "done" {
		t.Fatalf("progress: %v %+v", err, res)
	}
	if got := d.progressSeen(); len(got) < 2 || slices.ContainsFunc(got, func(s string) bool { return s != "p-1" }) {
		t.Errorf("progress seen %v, want the call's own token p-1 (at least twice)", got)
	}
	if res, err := d.CallTool(ctx, &mcp.CallToolParams{Name: "broken"}); err != nil || !res.IsError {
		t.Errorf("broken: %v %+v, want an error result", err, res)
	}
	if _, err := d.CallTool(ctx, &mcp.CallToolParams{Name: "nope"}); err == nil {
		t.Error("an unknown tool was called")
	}
	up.fail.Store(true)
	_, err = d.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "down"}})
	if err == nil || !strings.Contains(err.Error(), "HTTP 500") {
		t.Errorf("a call the upstream answered with HTTP 500: %v, want a JSON-RPC error naming the status", err)
	}
	for _, c := range up.seen()[calls:] {
		if c.client != "the-caller" {
			t.Errorf("call %+v took the SDK path, want pass-through", c)
		}
	}

	var got []string
	for _, ev := range e.audit.take() {
		if ev.APIKeyID == nil || *ev.APIKeyID != key || *ev.RecordKind != "server" || *ev.RecordID != srv.ID {
			t.Errorf("event %+v", ev)
		}
		if ev.Outcome != "ok" && (ev.Error == nil || *ev.Error == "") {
			t.Errorf("a failed call's event says not why: %+v", ev)
		}
		if ev.Error != nil && strings.Contains(*ev.Error, token) {
			t.Errorf("an event carries the record's token: %q", *ev.Error)
		}
		got = append(got, *ev.Tool+" "+ev.Outcome)
	}
	want := []string{"echo ok", "echo ok", "echo ok", "echo ok", "progress ok", "broken error", "nope error", "echo error"}
	if !slices.Equal(got, want) {
		t.Errorf("events %q, want %q", got, want)
	}
}
