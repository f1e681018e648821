package mcptest

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Catalog says how much a server built by NewCatalogServer offers.
type Catalog struct {
	// Tools, Prompts and Resources are how many of each the server
	// registers; a kind with none is not advertised.
	Tools, Prompts, Resources int
	// PageSize is the most items per list page (ServerOptions.PageSize);
	// zero means the SDK's default, 1000.
	PageSize int
}

// ToolName, PromptName and ResourceURI name the i-th item of a Catalog
// server; names sort in registration order, as the SDK lists them.
func ToolName(i int) string { return fmt.Sprintf("tool-%05d", i) }

// PromptName is the name of a Catalog server's i-th prompt.
func PromptName(i int) string { return fmt.Sprintf("prompt-%05d", i) }

// ResourceURI is the URI of a Catalog server's i-th resource.
func ResourceURI(i int) string { return fmt.Sprintf("mcptest://item/%05d", i) }

// NewCatalogServer builds an SDK server with cfg's serverInfo, instructions
// and protocol versions that offers what cat describes. cfg's Tools,
// Resources and Prompts switches are ignored: cat says how many. Tests can
// change the offer between checks with AddTool, RemoveTools and the like.
func NewCatalogServer(cfg Config, cat Catalog) *mcp.Server {
	srv := newSDKServer(cfg, "mcptest-catalog", cat.PageSize)
	for i := range cat.Tools {
		AddEchoTool(srv, ToolName(i), fmt.Sprintf("Tool number %d.", i))
	}
	for i := range cat.Prompts {
		srv.AddPrompt(&mcp.Prompt{Name: PromptName(i), Description: fmt.Sprintf("Prompt number %d.", i)},
			func(context.Context, *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
				return &mcp.GetPromptResult{}, nil
			})
	}
	for i := range cat.Resources {
		srv.AddResource(&mcp.Resource{URI: ResourceURI(i), Name: fmt.Sprintf("item-%05d", i), MIMEType: "text/plain"},
			func(_ context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
				return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: req.Params.URI, Text: "item"}}}, nil
			})
	}
	return srv
}

// AddEchoTool registers (or replaces) a tool called name with description
// that returns its "text" argument.
func AddEchoTool(srv *mcp.Server, name, description string) {
	mcp.AddTool(srv, &mcp.Tool{Name: name, Description: description},
		func(_ context.Context, _ *mcp.CallToolRequest, in struct {
			Text string `json:"text"`
		}) (*mcp.CallToolResult, struct{}, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: in.Text}}}, struct{}{}, nil
		})
}

// ServeStreamable serves srv over Streamable HTTP at the returned Server's
// URL, stateless unless cfg.Stateful, with cfg's BearerToken and TLS; the
// rest of cfg is ignored (srv is already built).
func ServeStreamable(t testing.TB, srv *mcp.Server, cfg Config) *Server {
	t.Helper()
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv },
		&mcp.StreamableHTTPOptions{Stateless: !cfg.Stateful})
	return startTLS(t, requireBearer(cfg.BearerToken, h), cfg.TLS)
}

// ServeSSE serves srv over the legacy HTTP+SSE transport, with cfg's
// BearerToken and TLS; URL is the event-stream endpoint.
func ServeSSE(t testing.TB, srv *mcp.Server, cfg Config) *Server {
	t.Helper()
	h := mcp.NewSSEHandler(func(*http.Request) *mcp.Server { return srv }, nil)
	return startTLS(t, requireBearer(cfg.BearerToken, h), cfg.TLS)
}

// ServeHandler serves h at URL (the Path of a loopback server), recording
// requests like every server here: for tests that put a handler of their own
// in front of an SDK server.
func ServeHandler(t testing.TB, h http.Handler) *Server {
	t.Helper()
	return start(t, h)
}
