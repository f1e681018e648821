package client_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/apitest"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/client"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/internal/mcptest"
	"github.com/mcpconn/terraform-provider-mcp/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

func apiClient(t *testing.T, srv *apitest.Server, key string) *client.Client {
	t.Helper()
	c, err := client.New(srv.URL, key, client.WithUserAgent("terraform-provider-mcp/test"))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// connected is a client of srv with its tenant's API key, and the context
// its calls run in.
func connected(t *testing.T, srv *apitest.Server) (*client.Client, context.Context) {
	t.Helper()
	return apiClient(t, srv, srv.APIKey), context.Background()
}

func TestConnectionLifecycle(t *testing.T) {
	srv := apitest.Start(t)
	c, ctx := connected(t, srv)

	created, err := c.CreateConnection(ctx, contract.CreateConnectionRequest{
		Name:        "Order Management System",
		ServerURL:   "https://mcp.example.com/oms",
		AuthType:    contract.AuthBearer,
		BearerToken: new("s3cret-token"),
	})
	if err != nil {
		t.Fatalf("CreateConnection: %v", err)
	}
	if created.ID == "" || created.TenantID != srv.TenantID.String() || created.Name != "Order Management System" ||
		created.AuthType != contract.AuthBearer || created.Status != contract.ConnectionUnknown || created.LastHealthCheckAt != nil {
		t.Errorf("created = %+v", created)
	}

	got, err := c.GetConnection(ctx, created.ID)
	if err != nil {
		t.Fatalf("GetConnection: %v", err)
	}
	if got.Name != created.Name || got.ServerURL != created.ServerURL || !got.CreatedAt.Equal(created.CreatedAt.Time) {
		t.Errorf("got %+v, want %+v", got, created)
	}

	updated, err := c.UpdateConnection(ctx, created.ID, contract.UpdateConnectionRequest{Name: new("OMS")})
	if err != nil {
		t.Fatalf("UpdateConnection: %v", err)
	}
	if updated.Name != "OMS" || updated.ServerURL != created.ServerURL || updated.AuthType != contract.AuthBearer {
		t.Errorf("updated = %+v; only the name should change", updated)
	}

	none := contract.AuthNone
	updated, err = c.UpdateConnection(ctx, created.ID, contract.UpdateConnectionRequest{AuthType: &none})
	if err != nil || updated.AuthType != contract.AuthNone {
		t.Fatalf("switch to none: %+v, %v", updated, err)
	}

	if err := c.DeleteConnection(ctx, created.ID); err != nil {
		t.Fatalf("DeleteConnection: %v", err)
	}
	if _, err := c.GetConnection(ctx, created.ID); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("GetConnection after delete: %v, want ErrNotFound", err)
	}
	err = c.DeleteConnection(ctx, created.ID)
	var apiErr *client.APIError
	if !errors.Is(err, client.ErrNotFound) || !errors.As(err, &apiErr) || apiErr.Message != "MCP connection not found" {
		t.Errorf("second delete: %v, want ErrNotFound with the API's message", err)
	}
}

func TestErrorsCarryTheAPIMessage(t *testing.T) {
	srv := apitest.Start(t)
	c, ctx := connected(t, srv)

	req := contract.CreateConnectionRequest{Name: "dup", ServerURL: "https://mcp.example.com/a"}
	if _, err := c.CreateConnection(ctx, req); err != nil {
		t.Fatal(err)
	}
	_, err := c.CreateConnection(ctx, req)
	var apiErr *client.APIError
	if !errors.Is(err, client.ErrConflict) || !errors.As(err, &apiErr) || !strings.Contains(apiErr.Message, `"dup"`) {
		t.Errorf("duplicate create: %v, want ErrConflict naming the name", err)
	}

	_, err = c.CreateConnection(ctx, contract.CreateConnectionRequest{Name: "x", ServerURL: "ftp://nope"})
	if !errors.Is(err, client.ErrBadRequest) || !errors.As(err, &apiErr) || !strings.Contains(apiErr.Message, "serverUrl") {
		t.Errorf("bad URL: %v, want ErrBadRequest naming serverUrl", err)
	}
	if apiErr.StatusCode != http.StatusBadRequest {
		t.Errorf("status = %d", apiErr.StatusCode)
	}

	_, err = c.CreateConnection(ctx, contract.CreateConnectionRequest{Name: "y", ServerURL: "https://mcp.example.com", AuthType: contract.AuthBearer})
	if !errors.Is(err, client.ErrBadRequest) {
		t.Errorf("bearer without token: %v, want ErrBadRequest", err)
	}

	if _, err := c.GetConnection(ctx, "not-a-uuid"); !errors.Is(err, client.ErrBadRequest) {
		t.Errorf("malformed id: %v, want ErrBadRequest", err)
	}
	if _, err := c.ListConnections(ctx, client.ConnectionListOptions{Status: "sleeping"}); !errors.Is(err, client.ErrBadRequest) {
		t.Errorf("bad status filter: %v, want ErrBadRequest", err)
	}
	if _, err := c.GetConnection(ctx, "3f0b8a52-6a0e-4a39-9d7a-0b5d3f0c1a11"); !errors.Is(err, client.ErrNotFound) || errors.Is(err, client.ErrConflict) {
		t.Errorf("missing id: %v, want only ErrNotFound", err)
	}
}

func TestWrongKeyIsUnauthorized(t *testing.T) {
	srv := apitest.Start(t)
	c := apiClient(t, srv, "mcp_wrong_key")
	_, err := c.ListConnections(context.Background(), client.ConnectionListOptions{})
	if !errors.Is(err, client.ErrUnauthorized) {
		t.Fatalf("err = %v, want ErrUnauthorized", err)
	}
	if strings.Contains(err.Error(), "mcp_wrong_key") {
		t.Errorf("the key leaked into the error: %v", err)
	}
}

func TestTenantsAreIsolated(t *testing.T) {
	srv := apitest.Start(t)
	ctx := context.Background()
	mine := apiClient(t, srv, srv.APIKey)
	_, otherKey := srv.NewTenant(t, "other")
	theirs := apiClient(t, srv, otherKey)

	conn, err := mine.CreateConnection(ctx, contract.CreateConnectionRequest{Name: "shared-name", ServerURL: "https://mcp.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := theirs.GetConnection(ctx, conn.ID); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("other tenant's GET: %v, want ErrNotFound", err)
	}
	if err := theirs.DeleteConnection(ctx, conn.ID); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("other tenant's DELETE: %v, want ErrNotFound", err)
	}
	// Names are unique per tenant, not globally.
	if _, err := theirs.CreateConnection(ctx, contract.CreateConnectionRequest{Name: "shared-name", ServerURL: "https://mcp.example.com"}); err != nil {
		t.Errorf("same name in another tenant: %v", err)
	}
	list, err := theirs.ListAllConnections(ctx, client.ConnectionListOptions{})
	if err != nil || len(list) != 1 || list[0].ID == conn.ID {
		t.Errorf("other tenant's list = %+v, %v", list, err)
	}
}

func TestListAllFollowsCursors(t *testing.T) {
	srv := apitest.Start(t)
	c, ctx := connected(t, srv)

	const n = 7
	want := map[string]bool{}
	for i := range n {
		conn, err := c.CreateConnection(ctx, contract.CreateConnectionRequest{
			Name: fmt.Sprintf("conn-%d", i), ServerURL: "https://mcp.example.com/" + fmt.Sprint(i),
		})
		if err != nil {
			t.Fatal(err)
		}
		want[conn.ID] = true
	}

	page, err := c.ListConnections(ctx, client.ConnectionListOptions{Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Data) != 3 || page.NextCursor == nil {
		t.Fatalf("first page: %d items, cursor %v; want 3 and a cursor", len(page.Data), page.NextCursor)
	}

	all, err := c.ListAllConnections(ctx, client.ConnectionListOptions{Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != n {
		t.Fatalf("ListAllConnections returned %d, want %d", len(all), n)
	}
	for _, conn := range all {
		if !want[conn.ID] {
			t.Errorf("unexpected or repeated connection %s", conn.ID)
		}
		delete(want, conn.ID)
	}

	byName, err := c.ListAllConnections(ctx, client.ConnectionListOptions{Name: "conn-4"})
	if err != nil || len(byName) != 1 || byName[0].Name != "conn-4" {
		t.Errorf("name filter: %+v, %v", byName, err)
	}
	byStatus, err := c.ListAllConnections(ctx, client.ConnectionListOptions{Status: contract.ConnectionActive})
	if err != nil || len(byStatus) != 0 {
		t.Errorf("status=active filter: %d results, %v; no connection has been checked", len(byStatus), err)
	}
	unknown, err := c.ListAllConnections(ctx, client.ConnectionListOptions{Status: contract.ConnectionUnknown, Limit: 2})
	if err != nil || len(unknown) != n {
		t.Errorf("status=unknown filter: %d results, %v; want %d", len(unknown), err, n)
	}
}

func TestContextIsHonoured(t *testing.T) {
	srv := apitest.Start(t)
	c := apiClient(t, srv, srv.APIKey)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.ListConnections(ctx, client.ConnectionListOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestCheckConnection(t *testing.T) {
	mcp := mcptest.StartHTTP(t, mcptest.Config{Instructions: "client test"})
	srv := apitest.Start(t, apitest.WithProbes())
	c, ctx := connected(t, srv)
	conn, err := c.CreateConnection(ctx, contract.CreateConnectionRequest{Name: "checked", ServerURL: mcp.URL})
	if err != nil {
		t.Fatal(err)
	}
	checked, err := c.CheckConnection(ctx, conn.ID)
	if err != nil {
		t.Fatalf("CheckConnection: %v", err)
	}
	if checked.Status != contract.ConnectionActive || checked.LastHealthCheckAt == nil ||
		checked.Instructions == nil || *checked.Instructions != "client test" {
		t.Errorf("checked = %+v, want active with a check time", checked)
	}
	if _, err := c.CheckConnection(ctx, uuid.NewString()); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("CheckConnection of a missing connection: %v, want ErrNotFound", err)
	}
}
