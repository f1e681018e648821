package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/apitest"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/httpapi"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
	"github.com/mcpconn/terraform-provider-mcp/internal/logbuf"
)

// The fuzz targets send their input through the real handler, with its real
// store on PostgreSQL, so that what validation lets through also has to
// survive the database. The invariant everywhere: no panic, no 5xx, and every
// 4xx is a JSON {"error": "..."} with a message. Their seed corpora (the f.Add
// calls and testdata/fuzz/<Name>/) run in every `go test`; bench/fuzz.sh runs
// them for a bounded time with -fuzz.

// fuzzServer is the handler of a server started for one fuzz target. Requests
// go straight to the handler: the network would only slow the fuzzer down.
type fuzzServer struct {
	*apitest.Server
	handler http.Handler
	logs    *logbuf.Buffer
}

func newFuzzServer(f *testing.F) *fuzzServer {
	f.Helper()
	logs := &logbuf.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelError}))
	s := apitest.Start(f, apitest.WithLogger(log))
	return &fuzzServer{
		Server:  s,
		handler: httpapi.New(httpapi.Config{Store: s.Store, Keyring: s.Keyring, Logger: log}),
		logs:    logs,
	}
}

// request builds a request as the server's tenant.
func (fs *fuzzServer) request(method, target string, body []byte) *http.Request {
	req := httptest.NewRequest(method, target, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+fs.APIKey)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

// do serves req and checks the invariant every response must meet.
func (fs *fuzzServer) do(t *testing.T, req *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	fs.logs.Reset()
	rec := httptest.NewRecorder()
	fs.handler.ServeHTTP(rec, req)
	checkResponse(t, req, rec, fs.logs)
	return rec
}

func (fs *fuzzServer) serve(t *testing.T, method, target string, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	return fs.do(t, fs.request(method, target, body))
}

// checkResponse enforces the invariant every response must meet. Errors of
// /api/mcp-connections are {"error": ...}; those of the enveloped families
// (/api/mcp/servers, /api/projects) are {"success": false, "error": ...}.
func checkResponse(t *testing.T, req *http.Request, rec *httptest.ResponseRecorder, logs *logbuf.Buffer) {
	t.Helper()
	body := rec.Body.Bytes()
	if rec.Code >= 500 {
		t.Fatalf("%s %q: status %d, body %s; server log:\n%s", req.Method, req.URL, rec.Code, body, logs)
	}
	if !json.Valid(body) {
		t.Fatalf("status %d with a body that is not JSON: %q", rec.Code, body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("status %d with Content-Type %q", rec.Code, ct)
	}
	enveloped := strings.HasPrefix(req.URL.Path, "/api/mcp/") || strings.HasPrefix(req.URL.Path, "/api/projects")
	var e map[string]any
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("status %d: body %s is not an object: %v", rec.Code, body, err)
	}
	if enveloped && e["success"] != (rec.Code < 400) {
		t.Fatalf("status %d with \"success\": %v", rec.Code, e["success"])
	}
	if rec.Code < 400 {
		return
	}
	keys := 1
	if enveloped {
		keys = 2
	}
	if msg, _ := e["error"].(string); strings.TrimSpace(msg) == "" || len(e) != keys {
		t.Fatalf("status %d: error body %s, want a non-empty \"error\" and nothing else but the envelope", rec.Code, body)
	}
}

// checkConnection checks a connection the API returned against the rules
// of the contract and against what a GET of it returns now.
func (fs *fuzzServer) checkConnection(t *testing.T, raw []byte) contract.Connection {
	t.Helper()
	var c contract.Connection
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("connection %s: %v", raw, err)
	}
	if err := contract.ValidateName(c.Name); err != nil {
		t.Errorf("returned name %q: %v", c.Name, err)
	}
	if err := contract.ValidateServerURL(c.ServerURL); err != nil {
		t.Errorf("returned serverUrl %q: %v", c.ServerURL, err)
	}
	if !c.AuthType.Valid() || !c.Status.Valid() || c.TenantID != fs.TenantID.String() {
		t.Errorf("returned %s", raw)
	}
	if (c.Status == contract.ConnectionUnknown) != (c.LastHealthCheckAt == nil) {
		t.Errorf("status %q with lastHealthCheckAt %v", c.Status, c.LastHealthCheckAt)
	}
	if bytes.Contains(raw, []byte("bearerToken")) {
		t.Errorf("response carries the token field: %s", raw)
	}

	// What was returned is what was stored: the database took the values
	// as they were, without truncating or re-encoding them.
	got := fs.serve(t, "GET", "/api/mcp-connections/"+c.ID, nil)
	if got.Code != http.StatusOK {
		t.Fatalf("GET of the returned connection: %d %s", got.Code, got.Body)
	}
	if !bytes.Equal(got.Body.Bytes(), raw) {
		t.Fatalf("GET returned %s, want %s", got.Body, raw)
	}

	// A stored token exists exactly when authType is bearer.
	row, err := fs.Store.GetConnection(context.Background(), fs.TenantID, uuid.MustParse(c.ID))
	if err != nil {
		t.Fatal(err)
	}
	if (row.TokenCiphertext != nil) != (c.AuthType == contract.AuthBearer) {
		t.Fatalf("authType %q with a stored token: %t", c.AuthType, row.TokenCiphertext != nil)
	}
	return c
}

// requestFields reads the fields of a body the API accepted, to compare the
// result with what was asked.
func requestFields(t *testing.T, body []byte) map[string]string {
	t.Helper()
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatalf("the API accepted %q, which is not an object: %v", body, err)
	}
	// the string fields; headers, oauth2 and tls are objects
	m := map[string]string{}
	for k, v := range raw {
		var s string
		if json.Unmarshal(v, &s) == nil {
			m[k] = s
		}
	}
	return m
}

var createSeeds = []string{
	`{"name":"Order Management System","serverUrl":"https://mcp.example.com/oms"}`,
	`{"name":"n","serverUrl":"http://127.0.0.1:8080/mcp","authType":"none"}`,
	`{"name":"b","serverUrl":"https://a.example/mcp","authType":"bearer","bearerToken":"tok-123"}`,
	`{"name":"b","serverUrl":"https://a.example/mcp","authType":"bearer"}`,
	`{"name":"b","serverUrl":"https://a.example/mcp","bearerToken":"tok"}`,
	`{"name":"b","serverUrl":"https://a.example/mcp","authType":"basic"}`,
	`{"name":"","serverUrl":"https://a.example/mcp"}`,
	`{"name":"\u0000","serverUrl":"https://a.example/mcp"}`,
	`{"name":"\ud800","serverUrl":"https://a.example/mcp"}`,
	`{"name":"n","serverUrl":"https://a.example/\u0000"}`,
	`{"name":"n","serverUrl":"https://u:p@a.example/"}`,
	`{"name":"n","serverUrl":"ftp://a.example/"}`,
	`{"name":"n","serverUrl":"https://a.example/","bearerToken":null}`,
	`{"name":"n","serverUrl":"https://a.example/","extra":1}`,
	`{"Name":"n","serverUrl":"https://a.example/"}`,
	`{"name":1,"serverUrl":"https://a.example/"}`,
	`{"name":"n","serverUrl":"https://a.example/"} {}`,
	`{"name":"n","serverUrl":"https://a.example/"`,
	`[]`,
	`null`,
	`"x"`,
	`{}`,
	``,
	`{"name":"n","name":"m","serverUrl":"https://a.example/"}`,
	`{"name":"h","serverUrl":"https://a.example/","headers":{"X-Api-Key":"k","X-Tenant":"t"}}`,
	`{"name":"h","serverUrl":"https://a.example/","headers":{"Host":"h","x y":"\r\n"}}`,
	`{"name":"h","serverUrl":"https://a.example/","headers":{"X-A":null}}`,
	`{"name":"h","serverUrl":"https://a.example/","headers":[]}`,
	`{"name":"o","serverUrl":"https://a.example/","authType":"oauth2","oauth2":{"clientId":"c","clientSecret":"s","scopes":["a"]}}`,
	`{"name":"o","serverUrl":"https://a.example/","authType":"oauth2"}`,
	`{"name":"o","serverUrl":"https://a.example/","authType":"oauth2","oauth2":{"clientId":"c","tokenUrl":"http://x/","scopes":[1]}}`,
	`{"name":"o","serverUrl":"https://a.example/","oauth2":{}}`,
	`{"name":"t","serverUrl":"https://a.example/","tls":{"caBundle":"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}}`,
	`{"name":"t","serverUrl":"https://a.example/","tls":{"clientKey":"k"}}`,
	`{"name":"t","serverUrl":"https://a.example/","tls":{}}`,
	`{"headers":{}}`,
	`{"authType":"oauth2","oauth2":{"clientId":"c"}}`,
}

func FuzzCreateConnection(f *testing.F) {
	fs := newFuzzServer(f)
	for _, s := range createSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := fs.serve(t, "POST", "/api/mcp-connections", body)
		switch rec.Code {
		case http.StatusCreated:
			c := fs.checkConnection(t, rec.Body.Bytes())
			asked := requestFields(t, body)
			if c.Name != asked["name"] || c.ServerURL != asked["serverUrl"] || c.Status != contract.ConnectionUnknown {
				t.Fatalf("asked for %s, got %s", body, rec.Body)
			}
		case http.StatusBadRequest, http.StatusConflict, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	})
}

var updateSeeds = []string{
	`{"name":"renamed"}`,
	`{"name":"taken"}`,
	`{"serverUrl":"https://b.example/mcp"}`,
	`{"authType":"none"}`,
	`{"authType":"bearer"}`,
	`{"authType":"bearer","bearerToken":"tok-new"}`,
	`{"bearerToken":"tok-new"}`,
	`{"authType":"none","bearerToken":"tok"}`,
	`{"name":"x","serverUrl":"https://c.example/","authType":"bearer","bearerToken":"t"}`,
	`{"status":"active"}`,
	`{"name":null}`,
	`{"bearerToken":"a b"}`,
	`{"serverUrl":""}`,
}

func FuzzUpdateConnection(f *testing.F) {
	fs := newFuzzServer(f)
	ctx := context.Background()
	taken := store.Connection{Key: store.Key[uuid.UUID]{ID: uuid.New(), TenantID: fs.TenantID}, Name: "taken", ServerURL: "https://a.example/mcp", AuthType: "none"}
	if err := fs.Store.CreateConnection(ctx, &taken); err != nil {
		f.Fatal(err)
	}
	addWriteSeeds(f, updateSeeds...)
	f.Fuzz(func(t *testing.T, body []byte, bearer bool) {
		// Each input starts from a fresh, checked connection, so an input
		// means the same thing whenever the fuzzer replays it.
		start := store.Connection{Key: store.Key[uuid.UUID]{ID: uuid.New(), TenantID: fs.TenantID}, Name: "start " + uuid.NewString(), ServerURL: "https://a.example/mcp", AuthType: "none"}
		if bearer {
			ct, keyID, err := fs.Keyring.Seal([]byte("tok-start"), store.ConnectionTokenAAD(start.ID))
			if err != nil {
				t.Fatal(err)
			}
			start.AuthType, start.TokenCiphertext, start.TokenKeyID = "bearer", ct, &keyID
		}
		if err := fs.Store.CreateConnection(ctx, &start); err != nil {
			t.Fatal(err)
		}
		health(t, fs.Server, start.ID.String())

		rec := fs.serve(t, "PATCH", "/api/mcp-connections/"+start.ID.String(), body)
		switch rec.Code {
		case http.StatusOK:
			c := fs.checkConnection(t, rec.Body.Bytes())
			asked := requestFields(t, body)
			if v, ok := asked["name"]; ok && c.Name != v {
				t.Fatalf("asked for name %q, got %q", v, c.Name)
			}
			if v, ok := asked["serverUrl"]; ok && c.ServerURL != v {
				t.Fatalf("asked for serverUrl %q, got %q", v, c.ServerURL)
			}
			token := storedToken(t, fs.Server, c.ID)
			if v, ok := asked["bearerToken"]; ok && token != v {
				t.Fatalf("asked for token %q, stored %q", v, token)
			}
			endpointChanged := c.ServerURL != start.ServerURL || string(c.AuthType) != start.AuthType ||
				(bearer && token != "tok-start")
			if endpointChanged != (c.Status == contract.ConnectionUnknown) {
				t.Fatalf("endpoint changed: %t, but status is %q", endpointChanged, c.Status)
			}
		case http.StatusBadRequest, http.StatusConflict, http.StatusRequestEntityTooLarge:
			// a refused PATCH changes nothing
			row, err := fs.Store.GetConnection(ctx, fs.TenantID, start.ID)
			if err != nil {
				t.Fatal(err)
			}
			if row.Name != start.Name || row.ServerURL != start.ServerURL || row.AuthType != start.AuthType ||
				row.Status != string(contract.ConnectionActive) {
				t.Fatalf("refused PATCH (%d) changed the row to %+v", rec.Code, row)
			}
		default:
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	})
}

func FuzzListQuery(f *testing.F) {
	fs := newFuzzServer(f)
	ctx := context.Background()
	for i, name := range []string{"a", "b", "c", "d", "e"} {
		c := store.Connection{Key: store.Key[uuid.UUID]{ID: uuid.New(), TenantID: fs.TenantID}, Name: name, ServerURL: "https://a.example/mcp", AuthType: "none"}
		if err := fs.Store.CreateConnection(ctx, &c); err != nil {
			f.Fatal(err)
		}
		if i%2 == 0 {
			_, err := fs.Store.UpdateConnection(ctx, fs.TenantID, c.ID, func(c *store.Connection) error {
				c.Status = string(contract.ConnectionError)
				c.LastError = ptr("refused")
				return nil
			})
			if err != nil {
				f.Fatal(err)
			}
		}
	}
	project := fs.newProject(f, "p")
	fs.newProject(f, "q")
	fs.newServer(f, project, "a")
	fs.newServer(f, project, "b")
	page, _, err := fs.Store.ListConnections(ctx, store.ListConnectionsParams{TenantID: fs.TenantID, Limit: 2})
	if err != nil || len(page) != 2 {
		f.Fatalf("list: %v", err)
	}
	cursor := store.Cursor{CreatedAt: page[1].CreatedAt, ID: page[1].ID.String()}.Encode()
	for _, q := range []string{
		"", "limit=1", "limit=100", "limit=0", "limit=101", "limit=-1", "limit=1e2", "limit=%2B5", "limit= 5",
		"status=active", "status=error", "status=unknown", "status=ACTIVE", "status=",
		"name=a", "name=%ff", "name=%00", "name=a&name=b", "name=" + strings.Repeat("x", 300),
		"cursor=" + cursor, "limit=1&cursor=" + cursor, "cursor=AQ", "cursor=" + strings.Repeat("A", 34),
		"cursor=%zz", "unknown=1", "&&&", "limit=2&status=error&name=c",
		"projectId=" + project, "projectId=proj_", "projectId=%00", "status=connecting", "%ff=1", "name=%C3%28",
	} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, query string) {
		// the same query on the enveloped families' lists, which share the
		// paging and the name filter
		for _, path := range []string{"/api/mcp/servers", "/api/projects"} {
			req := fs.request("GET", path, nil)
			req.URL.RawQuery = query
			if rec := fs.do(t, req); rec.Code != http.StatusOK && rec.Code != http.StatusBadRequest {
				t.Fatalf("GET %s?%s: status %d: %s", path, query, rec.Code, rec.Body)
			}
		}

		req := fs.request("GET", "/api/mcp-connections", nil)
		req.URL.RawQuery = query
		rec := fs.do(t, req)
		switch rec.Code {
		case http.StatusOK:
		case http.StatusBadRequest:
			return
		default:
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		if !bytes.HasPrefix(rec.Body.Bytes(), []byte(`{"data":[`)) {
			t.Fatalf("list body %s", rec.Body)
		}
		var list contract.ConnectionList
		if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil {
			t.Fatal(err)
		}
		q, _ := url.ParseQuery(query)
		limit := contract.DefaultPageLimit
		if n, err := strconv.Atoi(q.Get("limit")); err == nil {
			limit = n
		}
		if len(list.Data) > limit {
			t.Fatalf("%d rows for limit %d", len(list.Data), limit)
		}
		for _, c := range list.Data {
			if c.TenantID != fs.TenantID.String() {
				t.Fatalf("row of another tenant: %+v", c)
			}
			if v := q.Get("status"); v != "" && string(c.Status) != v {
				t.Fatalf("status filter %q returned %+v", v, c)
			}
			if v := q.Get("name"); v != "" && c.Name != v {
				t.Fatalf("name filter %q returned %+v", v, c)
			}
		}
	})
}

func FuzzConnectionID(f *testing.F) {
	fs := newFuzzServer(f)
	c := store.Connection{Key: store.Key[uuid.UUID]{ID: uuid.New(), TenantID: fs.TenantID}, Name: "n", ServerURL: "https://a.example/mcp", AuthType: "none"}
	if err := fs.Store.CreateConnection(context.Background(), &c); err != nil {
		f.Fatal(err)
	}
	id := c.ID.String()
	for _, s := range []string{
		id, strings.ToUpper(id), "{" + id + "}", "urn:uuid:" + id, strings.ReplaceAll(id, "-", ""),
		uuid.NewString(), "", "x", id + "/", id + "/health-check", "../" + id, "%00", "\x00", "\xff",
		strings.Repeat("a", 1000),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		// set after parsing: ids that are not valid in a URL still reach the router
		req := fs.request("GET", "/api/mcp-connections/x", nil)
		req.URL.Path = "/api/mcp-connections/" + raw
		rec := fs.do(t, req)
		switch rec.Code {
		case http.StatusOK:
			var got contract.Connection
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || got.ID != id {
				t.Fatalf("GET %q returned %s", raw, rec.Body)
			}
		case http.StatusBadRequest, http.StatusNotFound, http.StatusMethodNotAllowed:
		default:
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	})
}

// The enveloped families get the same invariant. Their records' own rules are
// tested beside their handlers; here each accepted write must at least read
// back exactly as it was answered.

// checkReadBack GETs path and compares its record with the one in answer,
// both under key ("server" or "project").
func (fs *fuzzServer) checkReadBack(t *testing.T, path, key string, answer []byte) {
	t.Helper()
	var wrote, read map[string]json.RawMessage
	if err := json.Unmarshal(answer, &wrote); err != nil {
		t.Fatal(err)
	}
	var rec struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(wrote[key], &rec); err != nil || rec.ID == "" {
		t.Fatalf("answer %s has no %s id (%v)", answer, key, err)
	}
	got := fs.serve(t, "GET", path+"/"+rec.ID, nil)
	if got.Code != http.StatusOK {
		t.Fatalf("GET of the written %s: %d %s", key, got.Code, got.Body)
	}
	if err := json.Unmarshal(got.Body.Bytes(), &read); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(read[key], wrote[key]) {
		t.Fatalf("GET returned %s, want %s", read[key], wrote[key])
	}
}

// newProject creates a project through the API and returns its id.
func (fs *fuzzServer) newProject(t testing.TB, name string) string {
	t.Helper()
	return fs.newRecord(t, "/api/projects", "project", fmt.Sprintf(`{"name":%q}`, name))
}

// newServer creates an http MCP server in project through the API and
// returns its id.
func (fs *fuzzServer) newServer(t testing.TB, project, name string) string {
	t.Helper()
	return fs.newRecord(t, "/api/mcp/servers", "server", fmt.Sprintf(
		`{"projectId":%q,"name":%q,"transportType":"http","url":"https://a.example/mcp"}`, project, name))
}

// newRecord POSTs body to the envelope family's collection at path and
// returns the id of the record its answer holds under key.
func (fs *fuzzServer) newRecord(t testing.TB, path, key, body string) string {
	t.Helper()
	rec := httptest.NewRecorder()
	fs.handler.ServeHTTP(rec, fs.request("POST", path, []byte(body)))
	var env map[string]json.RawMessage
	var created struct{ ID string }
	if rec.Code != http.StatusCreated || json.Unmarshal(rec.Body.Bytes(), &env) != nil || json.Unmarshal(env[key], &created) != nil {
		t.Fatalf("create %s: %d %s", key, rec.Code, rec.Body)
	}
	return created.ID
}

var projectSeeds = []string{
	`{"name":"Payments"}`,
	`{"name":"Payments","description":"the payment agents' servers"}`,
	`{"name":"taken"}`,
	`{"name":""}`,
	`{"name":"p","description":""}`,
	`{"name":"p","description":"line\nbreak\ttab"}`,
	`{"name":"p","description":"\u0000"}`,
	`{"name":"p\u0085"}`,
	`{"name":"p","id":"proj_x"}`,
	`{"description":"no name"}`,
	`{"name":null}`,
	`{"name":["p"]}`,
}

func FuzzProjectWrites(f *testing.F) {
	fs := newFuzzServer(f)
	fs.newProject(f, "taken")
	addWriteSeeds(f, projectSeeds...)
	fs.fuzzWrites(f, "/api/projects", "project", func(t *testing.T) string { return fs.newProject(t, "start "+uuid.NewString()) })
}

var serverSeeds = []string{
	`{"projectId":"$P","name":"Orders","transportType":"http","url":"https://orders.example/mcp"}`,
	`{"projectId":"$P","name":"Orders","transportType":"sse","url":"https://orders.example/sse","connectionType":"proxy"}`,
	`{"projectId":"$P","name":"Local","transportType":"stdio","command":"mcp-server","args":["--flag"]}`,
	`{"projectId":"$P","name":"Orders","transportType":"http","url":"https://orders.example/mcp","description":"d"}`,
	`{"projectId":"$P","name":"Orders","transportType":"http"}`,
	`{"projectId":"$P","name":"Orders","transportType":"http","url":"ftp://x/"}`,
	`{"projectId":"$P","name":"Orders","transportType":"http","url":"https://a.example/","command":"x"}`,
	`{"projectId":"$P","name":"Orders","transportType":"tcp","url":"https://a.example/"}`,
	`{"projectId":"$P","name":"Orders","transportType":"http","url":"https://a.example/","connectionType":"tunnel"}`,
	`{"projectId":"proj_doesnotexist","name":"Orders","transportType":"http","url":"https://a.example/"}`,
	`{"projectId":"nope","name":"Orders","transportType":"http","url":"https://a.example/"}`,
	`{"projectId":"$P","name":"taken","transportType":"http","url":"https://a.example/"}`,
	`{"projectId":"$P","name":"Orders","transportType":"stdio","command":"x","args":["\u0000"]}`,
	`{"projectId":"$P","name":"Orders","transportType":"stdio","command":"x","args":null}`,
	`{"projectId":"$P","name":"Orders","transportType":"http","url":"https://a.example/","status":"connected"}`,
	`{"name":"renamed"}`,
	`{"url":"https://b.example/mcp"}`,
	`{"transportType":"stdio"}`,
	`{"description":""}`,
	`{"projectId":"$P","name":"Orders","url":"https://a.example/","authType":"oauth2","oauth2":{"clientId":"c","clientSecret":"s"},"headers":{"X-K":"v"}}`,
	`{"projectId":"$P","name":"Orders","transportType":"stdio","command":"x","headers":{"X-K":"v"}}`,
	`{"projectId":"$P","name":"Orders","url":"https://a.example/","authType":"bearer"}`,
	`{"authType":"oauth2"}`,
	`{"bearerToken":""}`,
	`{"tls":{"caBundle":"x"},"transportType":"stdio","command":"x"}`,
}

func FuzzServerWrites(f *testing.F) {
	fs := newFuzzServer(f)
	project := fs.newProject(f, "fuzz")
	fs.newServer(f, project, "taken")
	seeds := slices.Clone(serverSeeds)
	for i, s := range seeds {
		seeds[i] = strings.ReplaceAll(s, "$P", project)
	}
	addWriteSeeds(f, seeds...)
	fs.fuzzWrites(f, "/api/mcp/servers", "server", func(t *testing.T) string { return fs.newServer(t, project, "start "+uuid.NewString()) },
		http.StatusNotFound)
}

// emptyBodies are seeds of every write: an empty object, an array, nothing.
var emptyBodies = []string{`{}`, `[]`, ``}

// addWriteSeeds adds seeds, and emptyBodies, to f's corpus both as a POST's
// body and as a PATCH's.
func addWriteSeeds(f *testing.F, seeds ...string) {
	for _, s := range append(seeds, emptyBodies...) {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
}

// fuzzWrites fuzzes the writes of the collection at path: given patch, it
// PATCHes a record fresh makes with the body, otherwise it POSTs the body.
// A write that succeeds must read back as the key it answered; any other
// must be a 400, 409, 413 or one of the statuses in also.
func (fs *fuzzServer) fuzzWrites(f *testing.F, path, key string, fresh func(*testing.T) string, also ...int) {
	refused := append([]int{http.StatusBadRequest, http.StatusConflict, http.StatusRequestEntityTooLarge}, also...)
	f.Fuzz(func(t *testing.T, body []byte, patch bool) {
		target, method, ok := path, "POST", http.StatusCreated
		if patch {
			target, method, ok = path+"/"+fresh(t), "PATCH", http.StatusOK
		}
		rec := fs.serve(t, method, target, body)
		switch {
		case rec.Code == ok:
			fs.checkReadBack(t, path, key, rec.Body.Bytes())
		case slices.Contains(refused, rec.Code):
		default:
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	})
}
