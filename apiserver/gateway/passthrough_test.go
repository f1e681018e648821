package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/internal/mcptest"
)

// seenCall is what an upstream saw of one tools/call.
type seenCall struct {
	tool, client, authorization, param string
}

// watched is an upstream that records who each tools/call says it is from
// (the clientInfo in its _meta: the gateway's own on the SDK path, the
// caller's on the pass-through path) and that can be made to answer HTTP
// 500 to calls (fail), or to refuse the record's credentials (reject).
type watched struct {
	mu     sync.Mutex
	calls  []seenCall
	fail   atomic.Bool
	reject atomic.Bool
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
			if w.reject.Load() {
				rw.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
				http.Error(rw, "token "+token+" revoked", http.StatusUnauthorized)
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
	key := e.key("caller-key")

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

	// Progress reaches the call on its own stream, before its answer. The
	// SDK client hands notifications to their handler apart from the
	// answer, so they may still be on their way when the call returns.
	res, err := d.CallTool(ctx, &mcp.CallToolParams{Name: "progress", Arguments: map[string]any{"steps": 3},
		Meta: mcp.Meta{"progressToken": "p-1"}})
	if err != nil || text(t, res) != "done" {
		t.Fatalf("progress: %v %+v", err, res)
	}
	for deadline := time.Now().Add(30 * time.Second); len(d.progressSeen()) < 3 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if got := d.progressSeen(); len(got) != 3 || slices.ContainsFunc(got, func(s string) bool { return s != "p-1" }) {
		t.Errorf("progress seen %v, want the call's own token p-1 three times", got)
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
	// A refusal of the record's credentials says so, and nothing of what
	// the upstream said about them (here: the token itself).
	up.fail.Store(false)
	up.reject.Store(true)
	_, err = d.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "refused"}})
	if err == nil || !strings.Contains(err.Error(), "does not accept the record's credentials") || strings.Contains(err.Error(), token) {
		t.Errorf("a call the upstream refused with HTTP 401: %v, want a JSON-RPC error saying so without the token", err)
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
	want := []string{"echo ok", "echo ok", "echo ok", "echo ok", "progress ok", "broken error", "nope error", "echo error", "echo error"}
	if !slices.Equal(got, want) {
		t.Errorf("events %q, want %q", got, want)
	}
}

// watchedUpstream serves it (stateless, so at 2026-07-28 too) behind w,
// which demands token.
func watchedUpstream(t *testing.T, it *mcptest.Interactive, w *watched, token string) string {
	t.Helper()
	mcp.AddTool(it.Server, &mcp.Tool{Name: "broken", Description: "Answers with an error result."},
		func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, struct{}, error) {
			return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: "it broke"}}}, struct{}{}, nil
		})
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return it.Server }, &mcp.StreamableHTTPOptions{Stateless: true})
	return mcptest.ServeHandler(t, w.wrap(token, h)).URL
}

// At an agent endpoint, a call takes the pass-through path to the record
// its prefix names, under the upstream's own name for the tool, with that
// record's credentials; what no assignment has or allows never leaves.
func TestAgentCallsPassThrough(t *testing.T) {
	e := newAgentEnv(t)
	ctx := context.Background()
	docs, srv := &watched{}, &watched{}
	docsURL := watchedUpstream(t, mcptest.NewInteractive("docs"), docs, "docs-token-1a")
	srvURL := watchedUpstream(t, mcptest.NewInteractive("srv"), srv, "srv-token-2b")
	conn, err := e.client.CreateConnection(ctx, contract.CreateConnectionRequest{
		Name: "Docs", ServerURL: docsURL, AuthType: contract.AuthBearer, BearerToken: new("docs-token-1a")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.CheckConnection(ctx, conn.ID); err != nil {
		t.Fatal(err)
	}
	server, err := e.client.CreateServer(ctx, contract.CreateServerRequest{
		ProjectID: e.project, Name: "Srv", URL: &srvURL, BearerToken: new("srv-token-2b"),
		TransportType: contract.TransportHTTP, ConnectionType: contract.ConnectionProxy,
	})
	if err != nil {
		t.Fatal(err)
	}
	a, err := e.client.CreateAgent(ctx, contract.CreateAgentRequest{Name: "passer", Assignments: []contract.Assignment{
		{ConnectionID: &conn.ID, Prefix: "docs", AllowedTools: []string{"echo"}},
		{ServerID: &server.ID, Prefix: "srv"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	agent := uuid.MustParse(a.ID)
	token, _ := e.token(agent)
	d := connect(t, e.url+"/mcp/agents/"+a.ID, token, "2026-07-28", "agent-caller")

	for i := range 3 {
		for _, tool := range []string{"docs__echo", "srv__echo"} {
			res, err := d.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: map[string]any{"text": tool + strings.Repeat("!", i)}})
			if err != nil {
				t.Fatal(err)
			}
			if got := text(t, res); got != tool+strings.Repeat("!", i) {
				t.Errorf("%s answered %q", tool, got)
			}
		}
	}
	if res, err := d.CallTool(ctx, &mcp.CallToolParams{Name: "srv__broken"}); err != nil || !res.IsError {
		t.Errorf("srv__broken: %v %+v, want an error result", err, res)
	}
	for _, tool := range []string{"docs__broken", "nope__echo"} {
		if _, err := d.CallTool(ctx, &mcp.CallToolParams{Name: tool}); err == nil {
			t.Errorf("%s was called: no assignment allows it", tool)
		}
	}
	for up, want := range map[*watched]string{docs: "docs-token-1a", srv: "srv-token-2b"} {
		seen := up.seen()
		if len(seen) < 3 {
			t.Fatalf("an upstream saw %d calls, want at least 3: %+v", len(seen), seen)
		}
		for i, c := range seen {
			if c.authorization != "Bearer "+want || strings.Contains(c.tool, "__") || c.param != c.tool {
				t.Errorf("a call reached its upstream as %+v, want the upstream's own tool name and the record's token", c)
			}
			// The first call to each record opens its upstream session.
			if i > 0 && c.client != "agent-caller" {
				t.Errorf("call %+v took the SDK path, want pass-through", c)
			}
			if c.tool == "broken" && up == docs {
				t.Errorf("a tool outside allowedTools reached the upstream")
			}
		}
	}
	var got []string
	for _, ev := range e.audit.take() {
		if ev.AgentID == nil || *ev.AgentID != agent {
			t.Errorf("event %+v does not name the agent", ev)
		}
		rec := "-"
		if ev.RecordKind != nil {
			rec = *ev.RecordKind
		}
		got = append(got, rec+" "+*ev.Tool+" "+ev.Outcome)
	}
	want := []string{"connection echo ok", "server echo ok", "connection echo ok", "server echo ok", "connection echo ok", "server echo ok",
		"server broken error", "connection broken blocked", "- nope__echo error"}
	if !slices.Equal(got, want) {
		t.Errorf("events %q, want %q", got, want)
	}
}

// hostile answers some tools/call requests itself, as a broken or hostile
// upstream would, and leaves the rest to h.
func hostile(h http.Handler, hung chan struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		var msg struct {
			ID json.RawMessage `json:"id"`
		}
		_ = json.Unmarshal(body, &msg)
		sse := func() {
			w.Header().Set("Content-Type", "text/event-stream")
			w.WriteHeader(http.StatusOK)
		}
		switch r.Header.Get("Mcp-Name") {
		case "other-id":
			sse()
			fmt.Fprint(w, "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":987654,\"result\":{\"content\":[]}}\n\n")
		case "huge":
			w.Header().Set("Content-Type", "application/json")
			chunk := bytes.Repeat([]byte("x"), 1<<20)
			fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":{"content":[{"type":"text","text":"`, msg.ID)
			for range 100 {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		case "flood":
			sse()
			for i := range 2000 {
				fmt.Fprintf(w, "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{\"level\":\"info\",\"data\":%d}}\n\n", i)
			}
			fmt.Fprintf(w, "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"after the flood\"}]}}\n\n", msg.ID)
		case "hang":
			sse()
			_ = http.NewResponseController(w).Flush()
			hung <- struct{}{}
			<-r.Context().Done()
		default:
			h.ServeHTTP(w, r)
		}
	})
}

// An upstream that answers another request's id, sends 100 MiB, floods
// notifications or hangs fails only its own call, promptly and with a
// reason, on the pass-through path.
func TestHostileUpstreamOnPassThrough(t *testing.T) {
	e := newAgentEnv(t)
	it := mcptest.NewInteractive("hostile")
	hung := make(chan struct{}, 1)
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return it.Server }, &mcp.StreamableHTTPOptions{Stateless: true})
	url := mcptest.ServeHandler(t, hostile(h, hung)).URL
	id := e.server(t, "hostile", url)
	e.key("k")
	d := connect(t, e.url+"/mcp/servers/"+id, "k", "2026-07-28", "c")
	ctx := context.Background()
	// The first call reads the upstream's version; the rest pass through.
	if _, err := d.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "warm"}}); err != nil {
		t.Fatal(err)
	}

	hangCtx, cancel := context.WithCancel(ctx)
	hangDone := make(chan error, 1)
	go func() {
		_, err := d.CallTool(hangCtx, &mcp.CallToolParams{Name: "hang"})
		hangDone <- err
	}()
	<-hung
	for _, c := range []struct{ tool, want string }{
		{"other-id", "without a result"},
		{"huge", "size limit"},
	} {
		_, err := d.CallTool(ctx, &mcp.CallToolParams{Name: c.tool})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error saying %q", c.tool, err, c.want)
		}
	}
	res, err := d.CallTool(ctx, &mcp.CallToolParams{Name: "flood"})
	if err != nil || text(t, res) != "after the flood" {
		t.Errorf("flood: %v %+v, want its answer after the notifications", err, res)
	}
	res, err = d.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "alive"}})
	if err != nil || text(t, res) != "alive" {
		t.Errorf("a call while another hangs: %v", err)
	}
	cancel()
	if err := <-hangDone; err == nil {
		t.Error("the hung call returned no error")
	}
}

// Pass-through calls reuse their upstream connections: each answer's
// stream is read to its end, so the next call needs no new TCP connection.
func TestPassThroughReusesConnections(t *testing.T) {
	e := newAgentEnv(t)
	it := mcptest.NewInteractive("reused")
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return it.Server }, &mcp.StreamableHTTPOptions{Stateless: true})
	var conns atomic.Int64
	up := httptest.NewUnstartedServer(h)
	up.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	up.Start()
	t.Cleanup(up.Close)
	id := e.server(t, "reused", up.URL)
	e.key("k")
	d := connect(t, e.url+"/mcp/servers/"+id, "k", "2026-07-28", "c")
	ctx := context.Background()
	call := func() {
		t.Helper()
		res, err := d.CallTool(ctx, &mcp.CallToolParams{Name: "progress", Arguments: map[string]any{"steps": 1},
			Meta: mcp.Meta{"progressToken": "p"}})
		if err != nil || text(t, res) != "done" {
			t.Fatalf("progress: %v %+v", err, res)
		}
	}
	call() // opens the upstream session, which reads its version
	before := conns.Load()
	const calls = 20
	for range calls {
		call()
	}
	t.Logf("new upstream connections: %d", conns.Load()-before)
	if n := conns.Load() - before; n > 1 {
		t.Errorf("%d sequential pass-through calls opened %d upstream connections, want them to reuse one", calls, n)
	}
}

// mediaTypes is an http.RoundTripper that keeps the Content-Type of every
// answer to a tools/call, in order.
type mediaTypes struct {
	base  http.RoundTripper
	mu    sync.Mutex
	calls []string
}

func (m *mediaTypes) RoundTrip(r *http.Request) (*http.Response, error) {
	call := r.Header.Get("Mcp-Method") == "tools/call"
	if r.Body != nil && !call {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		call = bytes.Contains(body, []byte(`"method":"tools/call"`))
	}
	resp, err := m.base.RoundTrip(r)
	if err == nil && call {
		m.mu.Lock()
		m.calls = append(m.calls, resp.Header.Get("Content-Type"))
		m.mu.Unlock()
	}
	return resp, err
}

// An upstream that answers a call on an event stream carrying nothing but
// the answer has it passed on as one JSON body (the caller accepts both,
// and it costs each side less); a stream that carries anything before the
// answer, here progress, is passed on as a stream.
func TestPassThroughAnswerAloneGoesBackAsJSON(t *testing.T) {
	e := newAgentEnv(t)
	const token = "record-token-77aa"
	upstream := watchedUpstream(t, mcptest.NewInteractive("upstream"), &watched{}, token)
	ctx := context.Background()
	srv, err := e.client.CreateServer(ctx, contract.CreateServerRequest{
		ProjectID: e.project, Name: "json", URL: &upstream, BearerToken: new(token),
		TransportType: contract.TransportHTTP, ConnectionType: contract.ConnectionProxy,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.api.ServerChecker.CheckServer(ctx, e.api.TenantID, srv.ID); err != nil {
		t.Fatal(err)
	}
	e.key("caller-key")
	seen := &mediaTypes{base: mcptest.Headers{Bearer: "caller-key"}}
	var progress atomic.Int32
	client := mcp.NewClient(&mcp.Implementation{Name: "json-caller", Version: "1"}, &mcp.ClientOptions{
		ProgressNotificationHandler: func(context.Context, *mcp.ProgressNotificationClientRequest) { progress.Add(1) },
	})
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cs, err := client.Connect(cctx, &mcp.StreamableClientTransport{Endpoint: e.url + "/mcp/servers/" + srv.ID,
		HTTPClient: &http.Client{Transport: seen}, MaxRetries: -1}, &mcp.ClientSessionOptions{ProtocolVersion: "2026-07-28"})
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	for i := range 3 {
		res, err := cs.CallTool(cctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": fmt.Sprint("hi ", i)}})
		if err != nil || text(t, res) != fmt.Sprint("hi ", i) {
			t.Fatalf("echo %d: %v %+v", i, err, res)
		}
	}
	res, err := cs.CallTool(cctx, &mcp.CallToolParams{Name: "progress", Arguments: map[string]any{"steps": 2}, Meta: mcp.Meta{"progressToken": "p"}})
	if err != nil || text(t, res) != "done" {
		t.Fatalf("progress: %v %+v", err, res)
	}
	seen.mu.Lock()
	got := slices.Clone(seen.calls)
	seen.mu.Unlock()
	// The first call opens the upstream session on the SDK path; the
	// others pass through.
	want := []string{"application/json", "application/json", "text/event-stream"}
	if len(got) != 4 || !slices.Equal(got[1:], want) {
		t.Fatalf("answers' media types %q, want %q after the first", got, want)
	}
	for deadline := time.Now().Add(30 * time.Second); progress.Load() < 2 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if n := progress.Load(); n != 2 {
		t.Errorf("%d progress notifications reached the caller, want 2", n)
	}
}
