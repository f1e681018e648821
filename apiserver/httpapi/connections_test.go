package httpapi_test

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/apitest"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/secrets"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
	"github.com/mcpconn/terraform-provider-mcp/internal/mcptest"
)

// expectHidden checks that a can neither read, update nor delete the record
// at path, another tenant's: each is a 404 saying want, in the body expect
// checks (the family's error body).
func (a *api) expectHidden(t *testing.T, path, want string, expect func(*response, *testing.T, int, string)) {
	t.Helper()
	for _, r := range []*response{a.do("GET", path, nil), a.do("PATCH", path, map[string]any{"name": "stolen"}), a.do("DELETE", path, nil)} {
		expect(r, t, http.StatusNotFound, want)
	}
}

func TestConnectionLifecycle(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t)
	a := newAPI(t, s)

	before := time.Now().Add(-time.Second)
	resp := a.do("POST", "/api/mcp-connections", map[string]any{
		"name": "Order Management System", "serverUrl": "https://mcp.example.com/oms",
		"authType": "bearer", "bearerToken": "tok-123",
	})
	var created contract.Connection
	resp.expect(t, http.StatusCreated, &created)
	if got, want := resp.header.Get("Location"), "/api/mcp-connections/"+created.ID; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
	if strings.Contains(string(resp.body), "bearerToken") || strings.Contains(string(resp.body), "tok-123") {
		t.Errorf("create response carries the token: %s", resp.body)
	}
	if _, err := uuid.Parse(created.ID); err != nil {
		t.Errorf("id %q is not a UUID", created.ID)
	}
	want := contract.Connection{
		ID: created.ID, TenantID: s.TenantID.String(), Name: "Order Management System",
		ServerURL: "https://mcp.example.com/oms", AuthType: contract.AuthBearer, Status: contract.ConnectionUnknown,
		UpstreamAuth: contract.UpstreamAuth{HeaderNames: []string{}},
		CreatedAt:    created.CreatedAt, UpdatedAt: created.UpdatedAt,
	}
	if !reflect.DeepEqual(created, want) {
		t.Errorf("created = %+v, want %+v", created, want)
	}
	if created.CreatedAt.Before(before) || !created.UpdatedAt.Equal(created.CreatedAt.Time) {
		t.Errorf("timestamps: createdAt %v updatedAt %v", created.CreatedAt, created.UpdatedAt)
	}
	// the seed's nullable fields are present as null, not omitted
	for _, field := range []string{`"instructions":null`, `"lastError":null`, `"lastHealthCheckAt":null`, `"headerNames":[]`, `"oauth2":null`, `"tls":null`} {
		if !strings.Contains(string(resp.body), field) {
			t.Errorf("create response lacks %s: %s", field, resp.body)
		}
	}

	var got contract.Connection
	a.do("GET", "/api/mcp-connections/"+created.ID, nil).expect(t, http.StatusOK, &got)
	if !reflect.DeepEqual(got, created) {
		t.Errorf("GET = %+v, want %+v", got, created)
	}

	var list contract.ConnectionList
	a.do("GET", "/api/mcp-connections", nil).expect(t, http.StatusOK, &list)
	if len(list.Data) != 1 || !reflect.DeepEqual(list.Data[0], created) || list.NextCursor != nil {
		t.Errorf("list = %+v", list)
	}

	var updated contract.Connection
	a.do("PATCH", "/api/mcp-connections/"+created.ID, map[string]any{"name": "OMS"}).expect(t, http.StatusOK, &updated)
	if updated.Name != "OMS" || updated.CreatedAt != created.CreatedAt || updated.UpdatedAt.Before(created.UpdatedAt.Time) {
		t.Errorf("updated = %+v", updated)
	}

	del := a.do("DELETE", "/api/mcp-connections/"+created.ID, nil).expect(t, http.StatusNoContent, nil)
	if len(del.body) != 0 {
		t.Errorf("DELETE body = %q, want empty", del.body)
	}
	a.do("GET", "/api/mcp-connections/"+created.ID, nil).expectError(t, http.StatusNotFound, "MCP connection not found")
	a.do("DELETE", "/api/mcp-connections/"+created.ID, nil).expectError(t, http.StatusNotFound, "MCP connection not found")
	a.do("PATCH", "/api/mcp-connections/"+created.ID, map[string]any{"name": "x"}).expectError(t, http.StatusNotFound, "MCP connection not found")
}

func TestCreateDefaultsToAuthNone(t *testing.T) {
	t.Parallel()
	a := newAPI(t, apitest.Start(t))
	c := a.create(map[string]any{"name": "n", "serverUrl": "http://127.0.0.1:9/mcp"})
	if c.AuthType != contract.AuthNone {
		t.Fatalf("authType = %q, want none", c.AuthType)
	}
}

func TestCreateRejectsBadInput(t *testing.T) {
	t.Parallel()
	a := newAPI(t, apitest.Start(t))
	valid := `"name":"n","serverUrl":"https://mcp.example.com/x"`
	tests := []struct {
		name, body, want string
	}{
		{"empty body", ``, "request body is empty"},
		{"blank body", "  \n", "request body is empty"},
		{"malformed json", `{"name":`, "not valid JSON"},
		{"syntax error", `{"name" "x"}`, "not valid JSON (at byte"},
		{"trailing data", `{` + valid + `} {}`, "data after it"},
		{"trailing garbage", `{` + valid + `}x`, "data after it"},
		{"array", `[]`, "must be a JSON object"},
		{"string", `"x"`, "must be a JSON object"},
		{"null body", `null`, "must be a JSON object"},
		{"unknown field", `{` + valid + `,"foo":1}`, `unknown field "foo"`},
		{"field names are case-sensitive", `{"Name":"n","serverUrl":"https://mcp.example.com/x"}`, `unknown field "Name"`},
		{"token is write-only but id is not writable", `{` + valid + `,"id":"x"}`, `unknown field "id"`},
		{"name not a string", `{"name":5,"serverUrl":"https://a.example"}`, `field "name" must be a string, got number`},
		{"serverUrl not a string", `{"name":"n","serverUrl":["x"]}`, `field "serverUrl" must be a string, got array`},
		{"authType not a string", `{` + valid + `,"authType":true}`, `field "authType" must be a string, got bool`},
		{"null name", `{"name":null,"serverUrl":"https://a.example"}`, `field "name" cannot be null`},
		{"missing name", `{"serverUrl":"https://a.example"}`, "name must not be empty"},
		{"empty name", `{"name":"","serverUrl":"https://a.example"}`, "name must not be empty"},
		{"201-char name", `{"name":"` + strings.Repeat("a", 201) + `","serverUrl":"https://a.example"}`, "name must be at most 200 characters, got 201"},
		{"control char in name", `{"name":"a\nb","serverUrl":"https://a.example"}`, "name must not contain control characters"},
		{"missing url", `{"name":"n"}`, "serverUrl must not be empty"},
		{"relative url", `{"name":"n","serverUrl":"/mcp"}`, "serverUrl must be an absolute http or https URL"},
		{"ftp url", `{"name":"n","serverUrl":"ftp://mcp.example.com"}`, "serverUrl must be an absolute http or https URL"},
		{"url with credentials", `{"name":"n","serverUrl":"https://u:p@mcp.example.com"}`, "serverUrl must not carry credentials"},
		{"bad authType", `{` + valid + `,"authType":"basic"}`, `authType must be one of "bearer", "none", "oauth2", got "basic"`},
		{"bearer without token", `{` + valid + `,"authType":"bearer"}`, `bearerToken is required when authType is "bearer"`},
		{"token with none", `{` + valid + `,"authType":"none","bearerToken":"t"}`, `bearerToken must not be set when authType is "none"`},
		{"token with default none", `{` + valid + `,"bearerToken":"t"}`, `bearerToken must not be set when authType is "none"`},
		{"empty token", `{` + valid + `,"authType":"bearer","bearerToken":""}`, "bearerToken must not be empty"},
		{"token with space", `{` + valid + `,"authType":"bearer","bearerToken":"a b"}`, "bearerToken must contain only printable ASCII"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a.t = t
			a.do("POST", "/api/mcp-connections", tt.body).expectError(t, http.StatusBadRequest, tt.want)
		})
	}
	a.t = t
	var list contract.ConnectionList
	a.do("GET", "/api/mcp-connections", nil).expect(t, http.StatusOK, &list)
	if len(list.Data) != 0 {
		t.Fatalf("rejected requests stored %d connections", len(list.Data))
	}
}

func TestMalformedID(t *testing.T) {
	t.Parallel()
	a := newAPI(t, apitest.Start(t))
	for _, id := range []string{"x", "123", strings.ToUpper(uuid.NewString())[:35], "{" + uuid.NewString() + "}"} {
		want := `invalid MCP connection id "` + id + `": must be a UUID`
		a.do("GET", "/api/mcp-connections/"+id, nil).expectError(t, http.StatusBadRequest, want)
		a.do("PATCH", "/api/mcp-connections/"+id, `{"name":"n"}`).expectError(t, http.StatusBadRequest, want)
		a.do("DELETE", "/api/mcp-connections/"+id, nil).expectError(t, http.StatusBadRequest, want)
	}
	a.do("GET", "/api/mcp-connections/"+uuid.NewString(), nil).expectError(t, http.StatusNotFound, "MCP connection not found")
}

func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t)
	a, b := twoTenants(t, s)

	mine := a.create(map[string]any{"name": "shared name", "serverUrl": "https://a.example/mcp"})
	theirs := b.create(map[string]any{"name": "shared name", "serverUrl": "https://b.example/mcp"})
	if theirs.TenantID == mine.TenantID {
		t.Fatal("both tenants got the same tenantId")
	}

	path := "/api/mcp-connections/" + theirs.ID
	a.expectHidden(t, path, "MCP connection not found", (*response).expectError)

	if ids := listedIDs(a, "/api/mcp-connections", "data"); !reflect.DeepEqual(ids, []string{mine.ID}) {
		t.Fatalf("tenant A lists %v, want only its own connection", ids)
	}
	if ids := listedIDs(a, "/api/mcp-connections?name=shared+name", "data"); !reflect.DeepEqual(ids, []string{mine.ID}) {
		t.Fatalf("name filter crosses tenants: %v", ids)
	}

	var still contract.Connection
	b.do("GET", path, nil).expect(t, http.StatusOK, &still)
	if !reflect.DeepEqual(still, theirs) {
		t.Fatalf("other tenant's connection changed: %+v, was %+v", still, theirs)
	}
}

func TestDuplicateName(t *testing.T) {
	t.Parallel()
	a := newAPI(t, apitest.Start(t))
	a.create(map[string]any{"name": "OMS", "serverUrl": "https://a.example/mcp"})
	other := a.create(map[string]any{"name": "Inventory", "serverUrl": "https://b.example/mcp"})

	a.do("POST", "/api/mcp-connections", map[string]any{"name": "OMS", "serverUrl": "https://c.example/mcp"}).
		expectError(t, http.StatusConflict, `an MCP connection named "OMS" already exists`)
	a.do("PATCH", "/api/mcp-connections/"+other.ID, map[string]any{"name": "OMS"}).
		expectError(t, http.StatusConflict, `an MCP connection named "OMS" already exists`)

	// renaming to its own name is not a clash
	a.do("PATCH", "/api/mcp-connections/"+other.ID, map[string]any{"name": "Inventory"}).expect(t, http.StatusOK, nil)
}

// health fills a connection's health fields the way a passing check would,
// so the PATCH tests can see what a change resets.
// patchChecked creates a connection from body and start, gives it a passing
// check, and PATCHes it with patch, expecting status (and wantErr when it
// is not 200). It returns the connection, as it was before the PATCH and
// after it; a refused PATCH must have changed nothing.
func (a *api) patchChecked(s *apitest.Server, body, start map[string]any, patch any, status int, wantErr string) (c, before, after contract.Connection) {
	t := a.t
	t.Helper()
	for k, v := range start {
		body[k] = v
	}
	c = a.create(body)
	health(t, s, c.ID)
	a.do("GET", "/api/mcp-connections/"+c.ID, nil).expect(t, http.StatusOK, &before)
	resp := a.do("PATCH", "/api/mcp-connections/"+c.ID, patch)
	if status == http.StatusOK {
		resp.expect(t, http.StatusOK, &after)
		return c, before, after
	}
	resp.expectError(t, status, wantErr)
	a.do("GET", "/api/mcp-connections/"+c.ID, nil).expect(t, http.StatusOK, &after)
	if !reflect.DeepEqual(after, before) {
		t.Fatalf("rejected PATCH changed the connection: %+v, was %+v", after, before)
	}
	return c, before, after
}

func health(t *testing.T, s *apitest.Server, id string) {
	t.Helper()
	at := time.Now().UTC().Truncate(time.Millisecond)
	_, err := s.Store.UpdateConnection(context.Background(), s.TenantID, uuid.MustParse(id), func(c *store.Connection) error {
		c.Status = string(contract.ConnectionActive)
		c.LastHealthCheckAt = &at
		c.Instructions = ptr("use me")
		c.LastError = nil
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// storedToken opens the connection's sealed token; "" when there is none.
func storedToken(t *testing.T, s *apitest.Server, id string) string {
	t.Helper()
	c, err := s.Store.GetConnection(context.Background(), s.TenantID, uuid.MustParse(id))
	if err != nil {
		t.Fatal(err)
	}
	if c.TokenCiphertext == nil {
		if c.TokenKeyID != nil {
			t.Fatal("key id without ciphertext")
		}
		return ""
	}
	plain, err := s.Secrets.Get(context.Background(), secrets.Ref{KeyID: *c.TokenKeyID, Data: c.TokenCiphertext}, store.ConnectionTokenAAD(c.ID))
	if err != nil {
		t.Fatal(err)
	}
	return string(plain)
}

func TestPatchSemantics(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t)
	a := newAPI(t, s)
	const url = "https://mcp.example.com/oms"

	tests := []struct {
		name      string
		start     map[string]any // created, then given a passing health check
		patch     string
		status    int
		wantErr   string
		wantReset bool
		wantAuth  contract.AuthType
		wantToken string
	}{
		{name: "rename keeps health",
			start: map[string]any{"authType": "bearer", "bearerToken": "t1"}, patch: `{"name":"renamed"}`,
			status: 200, wantAuth: "bearer", wantToken: "t1"},
		{name: "empty patch changes nothing",
			start: map[string]any{"authType": "bearer", "bearerToken": "t1"}, patch: `{}`,
			status: 200, wantAuth: "bearer", wantToken: "t1"},
		{name: "same serverUrl is no change",
			start: map[string]any{}, patch: `{"serverUrl":"` + url + `"}`,
			status: 200, wantAuth: "none"},
		{name: "new serverUrl resets",
			start: map[string]any{}, patch: `{"serverUrl":"https://other.example/mcp"}`,
			status: 200, wantReset: true, wantAuth: "none"},
		{name: "bearer without token keeps stored token",
			start: map[string]any{"authType": "bearer", "bearerToken": "t1"}, patch: `{"authType":"bearer"}`,
			status: 200, wantAuth: "bearer", wantToken: "t1"},
		{name: "same token is no change",
			start: map[string]any{"authType": "bearer", "bearerToken": "t1"}, patch: `{"bearerToken":"t1"}`,
			status: 200, wantAuth: "bearer", wantToken: "t1"},
		{name: "new token resets",
			start: map[string]any{"authType": "bearer", "bearerToken": "t1"}, patch: `{"bearerToken":"t2"}`,
			status: 200, wantReset: true, wantAuth: "bearer", wantToken: "t2"},
		{name: "switching to none deletes token",
			start: map[string]any{"authType": "bearer", "bearerToken": "t1"}, patch: `{"authType":"none"}`,
			status: 200, wantReset: true, wantAuth: "none"},
		{name: "none to bearer with token",
			start: map[string]any{}, patch: `{"authType":"bearer","bearerToken":"t3"}`,
			status: 200, wantReset: true, wantAuth: "bearer", wantToken: "t3"},
		{name: "none to bearer needs token",
			start: map[string]any{}, patch: `{"authType":"bearer"}`,
			status: 400, wantErr: `bearerToken is required when changing authType to "bearer"`, wantAuth: "none"},
		{name: "token while none",
			start: map[string]any{}, patch: `{"bearerToken":"t4"}`,
			status: 400, wantErr: `bearerToken must not be set while authType is "none"`, wantAuth: "none"},
		{name: "token with authType none",
			start: map[string]any{"authType": "bearer", "bearerToken": "t1"}, patch: `{"authType":"none","bearerToken":"t4"}`,
			status: 400, wantErr: `bearerToken must not be set when authType is "none"`, wantAuth: "bearer", wantToken: "t1"},
		{name: "null serverUrl",
			start: map[string]any{}, patch: `{"serverUrl":null}`,
			status: 400, wantErr: `field "serverUrl" cannot be null`, wantAuth: "none"},
		{name: "null bearerToken",
			start: map[string]any{"authType": "bearer", "bearerToken": "t1"}, patch: `{"bearerToken":null}`,
			status: 400, wantErr: `field "bearerToken" cannot be null`, wantAuth: "bearer", wantToken: "t1"},
		{name: "invalid serverUrl",
			start: map[string]any{}, patch: `{"serverUrl":"ftp://x.example"}`,
			status: 400, wantErr: "serverUrl must be an absolute http or https URL", wantAuth: "none"},
		{name: "empty name",
			start: map[string]any{}, patch: `{"name":" "}`,
			status: 400, wantErr: "name must not be empty", wantAuth: "none"},
		{name: "bad authType",
			start: map[string]any{}, patch: `{"authType":"oauth"}`,
			status: 400, wantErr: `authType must be one of "bearer", "none", "oauth2", got "oauth"`, wantAuth: "none"},
		{name: "unknown field",
			start: map[string]any{}, patch: `{"status":"active"}`,
			status: 400, wantErr: `unknown field "status"`, wantAuth: "none"},
		{name: "empty body",
			start: map[string]any{}, patch: ``,
			status: 400, wantErr: "request body is empty", wantAuth: "none"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a.t = t
			body := map[string]any{"name": "c" + string(rune('a'+i)), "serverUrl": url}
			c, before, after := a.patchChecked(s, body, tt.start, tt.patch, tt.status, tt.wantErr)
			if after.AuthType != tt.wantAuth {
				t.Errorf("authType = %q, want %q", after.AuthType, tt.wantAuth)
			}
			if got := storedToken(t, s, c.ID); got != tt.wantToken {
				t.Errorf("stored token = %q, want %q", got, tt.wantToken)
			}
			if tt.wantReset {
				if after.Status != contract.ConnectionUnknown || after.LastHealthCheckAt != nil || after.Instructions != nil || after.LastError != nil {
					t.Errorf("not reset: %+v", after)
				}
			} else {
				if after.Status != contract.ConnectionActive || after.LastHealthCheckAt == nil || *after.LastHealthCheckAt != *before.LastHealthCheckAt ||
					after.Instructions == nil || *after.Instructions != "use me" {
					t.Errorf("health not kept: %+v, was %+v", after, before)
				}
			}
		})
	}
}

func TestListFiltersAndPagination(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t)
	a := newAPI(t, s)

	var empty contract.ConnectionList
	r := a.do("GET", "/api/mcp-connections", nil).expect(t, http.StatusOK, &empty)
	if got := string(r.body); !strings.Contains(got, `"data":[]`) || !strings.Contains(got, `"nextCursor":null`) {
		t.Fatalf("empty list = %s, want data [] and nextCursor null", got)
	}

	byLetter := map[string]string{}
	for i := range 7 {
		name := "conn " + string(rune('a'+i))
		byLetter[name] = a.create(map[string]any{"name": name, "serverUrl": "https://a.example/mcp"}).ID
	}
	health(t, s, byLetter["conn c"])

	// the order is (createdAt, id); connections created within one
	// millisecond sort by id, so the reference order is the unpaged list's
	var all contract.ConnectionList
	a.do("GET", "/api/mcp-connections?unknown=1", nil).expect(t, http.StatusOK, &all)
	if len(all.Data) != 7 || all.NextCursor != nil {
		t.Fatalf("default page: %d items, nextCursor %v", len(all.Data), all.NextCursor)
	}
	var ids []string
	for i, c := range all.Data {
		ids = append(ids, c.ID)
		if i > 0 && c.CreatedAt.Before(all.Data[i-1].CreatedAt.Time) {
			t.Errorf("list not ordered by createdAt: %v before %v", all.Data[i-1].CreatedAt, c.CreatedAt)
		}
	}

	var seen []string
	cursor := ""
	pages := 0
	for {
		path := "/api/mcp-connections?limit=3"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		var page contract.ConnectionList
		a.do("GET", path, nil).expect(t, http.StatusOK, &page)
		pages++
		for _, c := range page.Data {
			seen = append(seen, c.ID)
		}
		if page.NextCursor == nil {
			break
		}
		if len(page.Data) != 3 {
			t.Fatalf("page %d has %d items and a next cursor", pages, len(page.Data))
		}
		cursor = *page.NextCursor
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
	}
	if pages != 3 || strings.Join(seen, ",") != strings.Join(ids, ",") {
		t.Fatalf("paged %d pages: %v, want 3 pages: %v", pages, seen, ids)
	}

	var byName contract.ConnectionList
	a.do("GET", "/api/mcp-connections?name=conn+d", nil).expect(t, http.StatusOK, &byName)
	if len(byName.Data) != 1 || byName.Data[0].ID != byLetter["conn d"] {
		t.Fatalf("?name=conn d: %+v", byName.Data)
	}
	a.do("GET", "/api/mcp-connections?name=conn", nil).expect(t, http.StatusOK, &byName)
	if len(byName.Data) != 0 {
		t.Fatalf("?name is an exact match, got %+v", byName.Data)
	}

	var active, unknown contract.ConnectionList
	a.do("GET", "/api/mcp-connections?status=active", nil).expect(t, http.StatusOK, &active)
	a.do("GET", "/api/mcp-connections?status=unknown", nil).expect(t, http.StatusOK, &unknown)
	if len(active.Data) != 1 || active.Data[0].ID != byLetter["conn c"] || len(unknown.Data) != 6 {
		t.Fatalf("status filter: %d active, %d unknown", len(active.Data), len(unknown.Data))
	}

	for _, tt := range []struct{ query, want string }{
		{"status=ok", `status must be one of "active", "error", "unknown", got "ok"`},
		{"limit=0", `limit must be an integer from 1 to 100, got "0"`},
		{"limit=101", `limit must be an integer from 1 to 100, got "101"`},
		{"limit=abc", `limit must be an integer from 1 to 100, got "abc"`},
		{"limit=-1", `limit must be an integer from 1 to 100`},
		{"cursor=bogus", "invalid cursor"},
		{"cursor=" + strings.Repeat("A", 34), "invalid cursor"},
	} {
		a.do("GET", "/api/mcp-connections?"+tt.query, nil).expectError(t, http.StatusBadRequest, tt.want)
	}
	var hundred contract.ConnectionList
	a.do("GET", "/api/mcp-connections?limit=100", nil).expect(t, http.StatusOK, &hundred)
	a.do("GET", "/api/mcp-connections?limit=1", nil).expect(t, http.StatusOK, &hundred)
	if len(hundred.Data) != 1 || hundred.NextCursor == nil {
		t.Fatalf("limit=1: %d items, nextCursor %v", len(hundred.Data), hundred.NextCursor)
	}
}

func TestHealthCheckRoute(t *testing.T) {
	t.Parallel()
	without := apitest.Start(t)
	a := newAPI(t, without)
	c := a.create(map[string]any{"name": "n", "serverUrl": "https://a.example/mcp"})
	a.do("POST", "/api/mcp-connections/"+c.ID+"/health-check", nil).expectError(t, http.StatusNotFound, "no route")

	// The real checker against a real MCP server.
	mcp := mcptest.StartHTTP(t, mcptest.Config{Instructions: "Look up orders by order_id.", Tools: true, BearerToken: "route-token"})
	srv := apitest.Start(t, apitest.WithProbes())
	b := newAPI(t, srv)
	c = b.create(map[string]any{"name": "n", "serverUrl": mcp.URL, "authType": "bearer", "bearerToken": "route-token"})
	var checked contract.Connection
	b.do("POST", "/api/mcp-connections/"+c.ID+"/health-check", nil).expect(t, http.StatusOK, &checked)
	if checked.Status != contract.ConnectionActive || checked.LastHealthCheckAt == nil || !checked.UpdatedAt.Equal(checked.LastHealthCheckAt.Time) ||
		checked.LastError != nil || checked.Instructions == nil || *checked.Instructions != "Look up orders by order_id." {
		t.Fatalf("checked = %+v", checked)
	}
	var got contract.Connection
	b.do("GET", "/api/mcp-connections/"+c.ID, nil).expect(t, http.StatusOK, &got)
	if got.Status != contract.ConnectionActive || !got.UpdatedAt.Equal(checked.UpdatedAt.Time) {
		t.Fatalf("stored = %+v, want the checked result", got)
	}

	// A wrong token is a failed check reported in the object, not an API error.
	var failed contract.Connection
	b.do("PATCH", "/api/mcp-connections/"+c.ID, map[string]any{"bearerToken": "wrong-token"}).expect(t, http.StatusOK, &failed)
	b.do("POST", "/api/mcp-connections/"+c.ID+"/health-check", nil).expect(t, http.StatusOK, &failed)
	if failed.Status != contract.ConnectionError || failed.LastError == nil || !strings.Contains(*failed.LastError, "401") {
		t.Fatalf("wrong token: %+v", failed)
	}
	if strings.Contains(*failed.LastError, "wrong-token") {
		t.Fatalf("lastError leaks the token: %q", *failed.LastError)
	}

	b.do("POST", "/api/mcp-connections/"+uuid.NewString()+"/health-check", nil).expectError(t, http.StatusNotFound, "MCP connection not found")
	b.do("POST", "/api/mcp-connections/nope/health-check", nil).expectError(t, http.StatusBadRequest, "must be a UUID")
	b.as("").do("POST", "/api/mcp-connections/"+c.ID+"/health-check", nil).expectError(t, http.StatusUnauthorized, "missing API key")
	// another tenant's connection is not found
	_, otherKey := srv.NewTenant(t, "other")
	b.as(otherKey).do("POST", "/api/mcp-connections/"+c.ID+"/health-check", nil).expectError(t, http.StatusNotFound, "MCP connection not found")
}
