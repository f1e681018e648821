package client_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/apitest"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/client"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/internal/mcptest"
)

// checkCatalog asserts the catalog of a mcptest server with one tool ("echo") and one prompt.
func checkCatalog(t *testing.T, cat *contract.Catalog) {
	t.Helper()
	if len(cat.Tools) != 1 || cat.Tools[0].Name != "echo" || !contract.ValidHash(cat.Tools[0].Hash) {
		t.Fatalf("tools = %+v, want one tool echo with a hash", cat.Tools)
	}
	if len(cat.Tools[0].InputSchema) == 0 {
		t.Errorf("echo has no inputSchema")
	}
	if len(cat.Prompts) != 1 || cat.Prompts[0].Name != "greet" {
		t.Errorf("prompts = %+v, want greet", cat.Prompts)
	}
	if !contract.ValidHash(cat.ToolsHash) || cat.Truncated || cat.ObservedAt.IsZero() {
		t.Errorf("toolsHash %q, truncated %v, observedAt %v", cat.ToolsHash, cat.Truncated, cat.ObservedAt)
	}
}

func TestConnectionCatalog(t *testing.T) {
	srv := apitest.Start(t, apitest.WithProbes())
	c, ctx := connected(t, srv)
	mcp := mcptest.StartHTTP(t, mcptest.Config{Tools: true, Prompts: true})

	conn, err := c.CreateConnection(ctx, contract.CreateConnectionRequest{Name: "catalog", ServerURL: mcp.URL})
	if err != nil {
		t.Fatalf("CreateConnection: %v", err)
	}
	if _, err := c.GetConnectionCatalog(ctx, conn.ID); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("GetConnectionCatalog before a check: %v, want ErrNotFound", err)
	}
	// Two checks of an unchanged server: two history rows, one catalog change.
	for range 2 {
		if conn, err = c.CheckConnection(ctx, conn.ID); err != nil {
			t.Fatalf("CheckConnection: %v", err)
		}
	}
	if conn.ToolCount == nil || *conn.ToolCount != 1 || conn.ToolsHash == nil || conn.ToolsDrift {
		t.Errorf("checked connection: toolCount %v, toolsHash %v, drift %v", conn.ToolCount, conn.ToolsHash, conn.ToolsDrift)
	}

	cat, err := c.GetConnectionCatalog(ctx, conn.ID)
	if err != nil {
		t.Fatalf("GetConnectionCatalog: %v", err)
	}
	checkCatalog(t, cat)
	if conn.ToolsHash != nil && *conn.ToolsHash != cat.ToolsHash {
		t.Errorf("record toolsHash %s, catalog %s", *conn.ToolsHash, cat.ToolsHash)
	}

	// Pages of one follow the cursor through the whole history.
	checks, err := c.ListAllConnectionChecks(ctx, conn.ID, client.PageOptions{Limit: 1})
	if err != nil {
		t.Fatalf("ListAllConnectionChecks: %v", err)
	}
	if len(checks) != 2 || !checks[0].OK || checks[0].ToolsHash == nil || *checks[0].ToolsHash != cat.ToolsHash ||
		checks[0].At.Before(checks[1].At.Time) {
		t.Errorf("checks = %+v, want two passing ones, newest first", checks)
	}
	page, err := c.ListConnectionChecks(ctx, conn.ID, client.PageOptions{Limit: 1})
	if err != nil || len(page.Data) != 1 || page.NextCursor == nil {
		t.Errorf("ListConnectionChecks(limit 1) = %+v, %v; want one check and a cursor", page, err)
	}

	changes, err := c.ListAllConnectionCatalogChanges(ctx, conn.ID, client.PageOptions{})
	if err != nil {
		t.Fatalf("ListAllConnectionCatalogChanges: %v", err)
	}
	if len(changes) != 1 || changes[0].FromHash != nil || changes[0].ToHash != cat.ToolsHash ||
		!slices.Equal(changes[0].ToolsAdded, []string{"echo"}) {
		t.Errorf("changes = %+v, want the first catalog adding echo", changes)
	}

	// Approval: a hash the record has had is accepted; any other is a 400.
	approved, err := c.UpdateConnection(ctx, conn.ID, contract.UpdateConnectionRequest{ApprovedToolsHash: &cat.ToolsHash})
	if err != nil || approved.ApprovedToolsHash == nil || *approved.ApprovedToolsHash != cat.ToolsHash || approved.ToolsDrift {
		t.Errorf("approve %s: %+v, %v", cat.ToolsHash, approved, err)
	}
	never := contract.HashPrefix + "0000000000000000000000000000000000000000000000000000000000000000"
	if _, err := c.UpdateConnection(ctx, conn.ID, contract.UpdateConnectionRequest{ApprovedToolsHash: &never}); !errors.Is(err, client.ErrBadRequest) {
		t.Errorf("approve a hash the record never had: %v, want ErrBadRequest", err)
	}
	cleared, err := c.UpdateConnection(ctx, conn.ID, contract.UpdateConnectionRequest{ApprovedToolsHash: new("")})
	if err != nil || cleared.ApprovedToolsHash != nil {
		t.Errorf("clear the approval: %+v, %v", cleared, err)
	}
	if _, err := c.CreateConnection(ctx, contract.CreateConnectionRequest{Name: "approved", ServerURL: mcp.URL, ApprovedToolsHash: &cat.ToolsHash}); !errors.Is(err, client.ErrBadRequest) {
		t.Errorf("create with approvedToolsHash: %v, want ErrBadRequest", err)
	}

	// Another tenant's record, or none, is a 404 on every history call.
	missing := "3f0b8a52-6a0e-4a39-9d7a-0b5d3f0c1a11"
	if _, err := c.ListConnectionChecks(ctx, missing, client.PageOptions{}); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("ListConnectionChecks(missing): %v, want ErrNotFound", err)
	}
	if _, err := c.ListConnectionCatalogChanges(ctx, missing, client.PageOptions{}); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("ListConnectionCatalogChanges(missing): %v, want ErrNotFound", err)
	}
	if _, err := c.GetConnectionCatalog(ctx, ".."); !errors.Is(err, client.ErrBadRequest) {
		t.Errorf("GetConnectionCatalog(..): %v, want ErrBadRequest before any call", err)
	}
}

func TestServerCatalog(t *testing.T) {
	srv := startWithProbes(t, "")
	c, ctx := connected(t, srv)
	proj := newProject(t, c, "catalog")
	mcp := mcptest.StartHTTP(t, mcptest.Config{Tools: true, Prompts: true})

	s, err := c.CreateServer(ctx, contract.CreateServerRequest{ProjectID: proj.ID, Name: "catalog", URL: new(mcp.URL)})
	if err != nil {
		t.Fatalf("CreateServer: %v", err)
	}
	if s, err = c.ConnectServer(ctx, s.ID); err != nil || s.Status != contract.ServerConnected {
		t.Fatalf("ConnectServer: %+v, %v", s, err)
	}
	if s.ToolCount == nil || *s.ToolCount != 1 || s.ToolsHash == nil {
		t.Errorf("connected server: toolCount %v, toolsHash %v", s.ToolCount, s.ToolsHash)
	}

	cat, err := c.GetServerCatalog(ctx, s.ID)
	if err != nil {
		t.Fatalf("GetServerCatalog: %v", err)
	}
	checkCatalog(t, cat)

	// The background probe after create may or may not have run by now.
	checks, err := c.ListAllServerChecks(ctx, s.ID, client.PageOptions{Limit: 1})
	if err != nil || len(checks) == 0 || !checks[0].OK {
		t.Errorf("ListAllServerChecks = %+v, %v; want a passing check first", checks, err)
	}
	changes, err := c.ListAllServerCatalogChanges(ctx, s.ID, client.PageOptions{Limit: 1})
	if err != nil || len(changes) != 1 || !slices.Equal(changes[0].ToolsAdded, []string{"echo"}) {
		t.Errorf("ListAllServerCatalogChanges = %+v, %v; want one change adding echo", changes, err)
	}

	approved, err := c.UpdateServer(ctx, s.ID, contract.UpdateServerRequest{ApprovedToolsHash: &cat.ToolsHash})
	if err != nil || approved.ApprovedToolsHash == nil || *approved.ApprovedToolsHash != cat.ToolsHash {
		t.Errorf("approve %s: %+v, %v", cat.ToolsHash, approved, err)
	}

	other, err := c.CreateServer(ctx, contract.CreateServerRequest{ProjectID: proj.ID, Name: "unchecked", URL: new(mcptest.ClosedURL(t) + "/mcp")})
	if err != nil {
		t.Fatalf("CreateServer: %v", err)
	}
	if _, err := c.GetServerCatalog(ctx, other.ID); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("GetServerCatalog of a server that never passed a check: %v, want ErrNotFound", err)
	}
	if _, err := c.ListServerChecks(ctx, "mcp_missing0", client.PageOptions{}); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("ListServerChecks(missing): %v, want ErrNotFound", err)
	}
}
