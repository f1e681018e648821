package mcptest

import (
	"context"
	"net"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

func connect(t *testing.T, transport mcp.Transport) *mcp.InitializeResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "mcptest-self-test", Version: "0"}, nil).Connect(ctx, transport, nil)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	defer cs.Close()
	return cs.InitializeResult()
}

func TestServersNegotiateTheirGeneration(t *testing.T) {
	modern := StartModern(t)
	res := connect(t, &mcp.StreamableClientTransport{Endpoint: modern.URL, DisableStandaloneSSE: true})
	if res.ProtocolVersion != ModernVersion || res.ServerInfo.Name != "mcptest-modern" {
		t.Errorf("modern server: version %q name %q", res.ProtocolVersion, res.ServerInfo.Name)
	}
	if m := modern.Methods(); !slices.Contains(m, "server/discover") || slices.Contains(m, "initialize") {
		t.Errorf("modern server saw %q, want server/discover and no initialize", m)
	}

	legacy := StartLegacy(t)
	res = connect(t, &mcp.StreamableClientTransport{Endpoint: legacy.URL, DisableStandaloneSSE: true})
	if res.ProtocolVersion != LegacyVersion || res.ServerInfo.Name != "mcptest-legacy" {
		t.Errorf("legacy server: version %q name %q", res.ProtocolVersion, res.ServerInfo.Name)
	}
	if m := legacy.Methods(); !slices.Contains(m, "initialize") {
		t.Errorf("legacy server saw %q, want initialize", m)
	}

	sse := StartSSE(t, Config{Instructions: "hi", Prompts: true})
	res = connect(t, &mcp.SSEClientTransport{Endpoint: sse.URL})
	if res.Instructions != "hi" || res.Capabilities.Prompts == nil || res.Capabilities.Tools != nil {
		t.Errorf("SSE server: %+v", res)
	}
}

func TestBearerTokenIsRequired(t *testing.T) {
	srv := StartHTTP(t, Config{BearerToken: "t0k"})
	for _, tc := range []struct {
		header string
		pass   bool // past the token check the SDK answers; anything but 401 will do
	}{
		{"", false},
		{"Bearer nope", false},
		{"Bearer t0k", true},
	} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		if tc.header != "" {
			req.Header.Set("Authorization", tc.header)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got401 := resp.StatusCode == http.StatusUnauthorized; got401 == tc.pass {
			t.Errorf("Authorization %q: status %d, want pass=%v", tc.header, resp.StatusCode, tc.pass)
		}
	}
	if got := srv.Requests(); len(got) != 3 || got[2].Authorization != "Bearer t0k" || got[0].RPCMethods[0] != "tools/list" {
		t.Errorf("recorded requests %+v", got)
	}
}

func TestStaticAndRedirectServers(t *testing.T) {
	html := StartHTML(t)
	resp, err := http.Get(html.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("HTML server: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}

	redirect := StartRedirect(t, "http://169.254.169.254/", http.StatusTemporaryRedirect)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = client.Post(redirect.URL, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTemporaryRedirect || resp.Header.Get("Location") != "http://169.254.169.254/" {
		t.Errorf("redirect server: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// A hung server holding a request must still close at cleanup.
func TestHungServerCloses(t *testing.T) {
	answered := make(chan error, 1)
	t.Run("hold a request", func(t *testing.T) {
		srv := StartHung(t)
		go func() {
			resp, err := http.Post(srv.URL, "application/json", strings.NewReader("{}"))
			if err == nil {
				resp.Body.Close()
			}
			answered <- err
		}()
		for len(srv.Requests()) == 0 {
			time.Sleep(10 * time.Millisecond)
		}
	})
	// The subtest's cleanup released the handler and closed the server; the
	// request got an empty answer or a closed connection, either will do.
	if err := <-answered; err != nil {
		t.Logf("the held request ended with: %v", err)
	}
}

func TestStdioServerBuildsAndServes(t *testing.T) {
	bin := BuildStdioServer(t)
	res := connect(t, &mcp.CommandTransport{Command: exec.Command(bin, "-name", "built", "-instructions", "from stdio")})
	if res.ServerInfo.Name != "built" || res.Instructions != "from stdio" || res.Capabilities.Tools == nil {
		t.Errorf("stdio server: %+v", res)
	}
}

func TestStartTCP(t *testing.T) {
	served := make(chan struct{}, 1)
	addr := StartTCP(t, func(net.Conn) { served <- struct{}{} })
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	<-served
}
