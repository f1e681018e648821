package gateway_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/internal/mcptest"
)

// pinnedUpstream is a Go SDK server of three echo tools, listed two a page,
// in front of which e serves two proxy records: one whose checked catalog
// is approved, one never approved.
func pinnedUpstream(t *testing.T, e *env) (srv *mcp.Server, pinned, open string) {
	t.Helper()
	ctx := context.Background()
	srv = mcptest.NewCatalogServer(mcptest.Config{Name: "pinned"}, mcptest.Catalog{Tools: 3, PageSize: 2})
	up := mcptest.ServeStreamable(t, srv, mcptest.Config{Stateful: true})
	pinned = e.register(t, "pinned-"+t.Name(), up.URL, contract.ConnectionProxy)
	open = e.register(t, "open-"+t.Name(), up.URL, contract.ConnectionProxy)
	for _, id := range []string{pinned, open} {
		if s, err := e.client.ConnectServer(ctx, id); err != nil || s.Status != contract.ServerConnected {
			t.Fatalf("check %s: %+v, %v", id, s, err)
		}
	}
	cat, err := e.client.GetServerCatalog(ctx, pinned)
	if err != nil || len(cat.Tools) != 3 {
		t.Fatalf("catalog of %s: %+v, %v", pinned, cat, err)
	}
	if _, err := e.client.UpdateServer(ctx, pinned, contract.UpdateServerRequest{ApprovedToolsHash: &cat.ToolsHash}); err != nil {
		t.Fatalf("approve %s: %v", cat.ToolsHash, err)
	}
	return srv, pinned, open
}

// pinClient is a downstream session that counts tools/list_changed.
type pinClient struct {
	*mcp.ClientSession
	changes chan struct{}
}

func pinConnect(t *testing.T, endpoint, key, version string) *pinClient {
	t.Helper()
	c := &pinClient{changes: make(chan struct{}, 16)}
	client := mcp.NewClient(&mcp.Implementation{Name: "pin", Version: "1"}, &mcp.ClientOptions{
		ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) {
			select {
			case c.changes <- struct{}{}:
			default:
			}
		},
	})
	c.ClientSession = dial(t, endpoint, key, version, client)
	return c
}

// toolNames lists every page.
func (c *pinClient) toolNames(t *testing.T) string {
	t.Helper()
	var names []string
	for tool, err := range c.Tools(context.Background(), nil) {
		if err != nil {
			t.Fatalf("tools/list: %v", err)
		}
		names = append(names, tool.Name)
	}
	slices.Sort(names)
	return strings.Join(names, ",")
}

func (c *pinClient) echo(t *testing.T, tool string) error {
	t.Helper()
	res, err := c.CallTool(context.Background(), &mcp.CallToolParams{Name: tool, Arguments: map[string]any{"text": "hi " + tool}})
	if err != nil {
		return err
	}
	if got := text(t, res); got != "hi "+tool {
		t.Errorf("%s answered %q", tool, got)
	}
	return nil
}

func refused(t *testing.T, err error, tool, why string) {
	t.Helper()
	var je *jsonrpc.Error
	if !errors.As(err, &je) || je.Code != jsonrpc.CodeInvalidParams {
		t.Fatalf("calling %s: %v, want a JSON-RPC InvalidParams error", tool, err)
	}
	if want := `tool "` + tool + `" ` + why; !strings.Contains(je.Message, want) {
		t.Errorf("calling %s: %q, want it to say %q", tool, je.Message, want)
	}
}

const allThree = "tool-00000,tool-00001,tool-00002"

// An approved catalog pins what the gateway offers to the tools as they
// were approved, whatever the upstream does while a session is open.
func TestPinnedCatalog(t *testing.T) {
	e := newEnv(t)
	for _, v := range versions {
		t.Run(v, func(t *testing.T) {
			srv, pinned, open := pinnedUpstream(t, e)
			p := pinConnect(t, e.endpoint(pinned), e.api.APIKey, v)
			o := pinConnect(t, e.endpoint(open), e.api.APIKey, v)
			for _, c := range []*pinClient{p, o} {
				if got := c.toolNames(t); got != allThree {
					t.Fatalf("tools before any change: %s", got)
				}
				if err := c.echo(t, "tool-00001"); err != nil {
					t.Fatal(err)
				}
			}

			// While the sessions are open, the upstream rewrites a tool's
			// description and adds one; the SDK tells its sessions.
			mcptest.AddEchoTool(srv, "tool-00001", "Tool number 1, now with new instructions.")
			mcptest.AddEchoTool(srv, "tool-00003", "A new tool.")
			if v < "2026-07-28" {
				// Stateless sessions hear no notifications; each of their
				// requests has an upstream session of its own.
				for _, c := range []*pinClient{p, o} {
					select {
					case <-c.changes:
					case <-time.After(30 * time.Second):
						t.Fatal("the downstream session heard of no tools/list_changed")
					}
				}
			}

			// Called before it is listed again: refused on the gateway's own
			// reading of the live listing.
			refused(t, p.echo(t, "tool-00001"), "tool-00001", "has a definition that changed since the approved catalog")
			refused(t, p.echo(t, "tool-00003"), "tool-00003", "is not in the approved catalog")
			if got := p.toolNames(t); got != "tool-00000,tool-00002" {
				t.Errorf("pinned tools after the change: %s, want the unchanged ones", got)
			}
			for _, tool := range []string{"tool-00000", "tool-00002"} {
				if err := p.echo(t, tool); err != nil {
					t.Errorf("unchanged %s: %v", tool, err)
				}
			}

			// The record without an approved catalog passes everything.
			if got := o.toolNames(t); got != allThree+",tool-00003" {
				t.Errorf("unpinned tools after the change: %s", got)
			}
			for _, tool := range []string{"tool-00001", "tool-00003"} {
				if err := o.echo(t, tool); err != nil {
					t.Errorf("unpinned %s: %v", tool, err)
				}
			}

			// The upstream restores the approved definition: offered again
			// once the gateway hears of it (the first change may still be
			// notifying, so the test waits for the effect, not a notification).
			mcptest.AddEchoTool(srv, "tool-00001", "Tool number 1.")
			if got := p.toolNames(t); got != allThree {
				t.Errorf("pinned tools after the restore: %s", got)
			}
			err := p.echo(t, "tool-00001")
			for deadline := time.Now().Add(30 * time.Second); err != nil && time.Now().Before(deadline); {
				time.Sleep(50 * time.Millisecond)
				err = p.echo(t, "tool-00001")
			}
			if err != nil {
				t.Errorf("restored tool-00001: %v", err)
			}
		})
	}
}

// An approval set, or removed, while a session is open holds that session
// to it within the gateway's record bound (recordTTL).
func TestApprovalChangeReachesOpenSessions(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, v := range []string{"2025-11-25", "2026-07-28"} {
		t.Run(v, func(t *testing.T) {
			srv, _, open := pinnedUpstream(t, e)
			c := pinConnect(t, e.endpoint(open), e.api.APIKey, v)
			if got := c.toolNames(t); got != allThree {
				t.Fatalf("tools before any change: %s", got)
			}
			mcptest.AddEchoTool(srv, "tool-00003", "A new tool.")
			cat, err := e.client.GetServerCatalog(ctx, open)
			if err != nil || len(cat.Tools) != 3 {
				t.Fatalf("catalog of %s: %+v, %v", open, cat, err)
			}
			until := func(want string) {
				t.Helper()
				got := c.toolNames(t)
				for deadline := time.Now().Add(30 * time.Second); got != want && time.Now().Before(deadline); got = c.toolNames(t) {
					time.Sleep(50 * time.Millisecond)
				}
				if got != want {
					t.Fatalf("tools %s, want %s", got, want)
				}
			}
			until(allThree + ",tool-00003")

			if _, err := e.client.UpdateServer(ctx, open, contract.UpdateServerRequest{ApprovedToolsHash: &cat.ToolsHash}); err != nil {
				t.Fatal(err)
			}
			until(allThree)
			refused(t, c.echo(t, "tool-00003"), "tool-00003", "is not in the approved catalog")

			if _, err := e.client.UpdateServer(ctx, open, contract.UpdateServerRequest{ApprovedToolsHash: new("")}); err != nil {
				t.Fatal(err)
			}
			until(allThree + ",tool-00003")
			if err := c.echo(t, "tool-00003"); err != nil {
				t.Errorf("tool-00003 once the approval is removed: %v", err)
			}
		})
	}
}
