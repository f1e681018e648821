package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"sync"
	"testing"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/apitest"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

// burst sends n requests at once, each from its own goroutine released
// together, and returns the responses in request order. body(i) is the JSON
// body of request i.
func burst(t *testing.T, s *apitest.Server, n int, method, path string, body func(i int) any) []*response {
	t.Helper()
	// enough idle connections that the burst is not serialised on a few
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n, MaxConnsPerHost: n}}
	t.Cleanup(client.CloseIdleConnections)
	out := make([]*response, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		raw, err := json.Marshal(body(i))
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			req, err := http.NewRequest(method, s.URL+path, bytes.NewReader(raw))
			if err != nil {
				errs[i] = err
				return
			}
			req.Header.Set("Authorization", "Bearer "+s.APIKey)
			req.Header.Set("Content-Type", "application/json")
			<-start
			resp, err := client.Do(req)
			if err != nil {
				errs[i] = err
				return
			}
			defer resp.Body.Close()
			data, err := io.ReadAll(resp.Body)
			out[i], errs[i] = &response{status: resp.StatusCode, header: resp.Header, body: data}, err
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	return out
}

// TestConcurrentCreateSameName races 50 creates of one name: the unique
// index, not a check-then-insert in the handler, must decide, so exactly one
// wins and the others get the same 409 as a sequential duplicate.
func TestConcurrentCreateSameName(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t)
	const n = 50
	resps := burst(t, s, n, "POST", "/api/mcp-connections", func(i int) any {
		return map[string]string{"name": "contended", "serverUrl": fmt.Sprintf("https://h%d.example/mcp", i)}
	})
	var created []contract.Connection
	for i, r := range resps {
		switch r.status {
		case http.StatusCreated:
			var c contract.Connection
			r.expect(t, http.StatusCreated, &c)
			if c.ServerURL != fmt.Sprintf("https://h%d.example/mcp", i) {
				t.Errorf("request %d created %+v", i, c)
			}
			created = append(created, c)
		case http.StatusConflict:
			r.expectError(t, http.StatusConflict, `an MCP connection named "contended" already exists`)
		default:
			t.Errorf("request %d: status %d, body %s", i, r.status, r.body)
		}
	}
	if len(created) != 1 {
		t.Fatalf("%d creates succeeded, want exactly 1", len(created))
	}

	var list contract.ConnectionList
	newAPI(t, s).do("GET", "/api/mcp-connections?name=contended", nil).expect(t, http.StatusOK, &list)
	if len(list.Data) != 1 || !reflect.DeepEqual(list.Data[0], created[0]) {
		t.Fatalf("stored %+v, want only %+v", list.Data, created[0])
	}
}

// TestConcurrentPatchOneConnection races 200 PATCHes of one connection, each
// setting every field to values of its own. Updates must apply whole and one
// at a time: the final row is exactly one request's, never a mix, and it is
// what that request's response said.
func TestConcurrentPatchOneConnection(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t)
	a := newAPI(t, s)
	c := a.create(map[string]any{"name": "start", "serverUrl": "https://start.example/mcp"})

	const n = 200
	// odd requests switch to bearer with a token of their own, even ones to none
	fields := func(i int) map[string]string {
		req := map[string]string{
			"name":      fmt.Sprintf("patch %d", i),
			"serverUrl": fmt.Sprintf("https://h%d.example/mcp", i),
			"authType":  "none",
		}
		if i%2 == 1 {
			req["authType"], req["bearerToken"] = "bearer", fmt.Sprintf("tok-%d", i)
		}
		return req
	}
	body := func(i int) any { return fields(i) }
	resps := burst(t, s, n, "PATCH", "/api/mcp-connections/"+c.ID, body)
	byName := map[string]*response{}
	for i, r := range resps {
		var got contract.Connection
		r.expect(t, http.StatusOK, &got)
		want := fields(i)
		if got.Name != want["name"] || got.ServerURL != want["serverUrl"] || string(got.AuthType) != want["authType"] {
			t.Errorf("request %d answered %+v, want its own values %v", i, got, want)
		}
		byName[got.Name] = r
	}

	final := a.do("GET", "/api/mcp-connections/"+c.ID, nil)
	var got contract.Connection
	final.expect(t, http.StatusOK, &got)
	winner, ok := byName[got.Name]
	if !ok {
		t.Fatalf("final row %+v is no request's", got)
	}
	if !bytes.Equal(final.body, winner.body) {
		t.Fatalf("final row\n%s\ndiffers from the response of the request that named it\n%s", final.body, winner.body)
	}
	var i int
	if _, err := fmt.Sscanf(got.Name, "patch %d", &i); err != nil {
		t.Fatal(err)
	}
	want := fields(i)
	if got.ServerURL != want["serverUrl"] || string(got.AuthType) != want["authType"] {
		t.Fatalf("final row %+v mixes requests; request %d asked for %v", got, i, want)
	}
	if token := storedToken(t, s, c.ID); token != want["bearerToken"] {
		t.Fatalf("final row holds token %q, want request %d's %q", token, i, want["bearerToken"])
	}
}
