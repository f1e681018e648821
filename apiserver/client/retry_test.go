package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/client"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/internal/mcptest"
)

// flakyServer is a real HTTP peer that answers the first `failures` requests
// with `status` (and its headers), then like the API would.
type flakyServer struct {
	*httptest.Server
	attempts atomic.Int32
	mu       sync.Mutex
	bodies   []string
	headers  []http.Header
}

// expectAttempts fails t unless the server saw want attempts; why, if
// not empty, says why that many.
func (s *flakyServer) expectAttempts(t *testing.T, want int32, why string) {
	t.Helper()
	if got := s.attempts.Load(); got != want {
		if why != "" {
			why = ": " + why
		}
		t.Errorf("attempts = %d, want %d%s", got, want, why)
	}
}

func newFlakyServer(t *testing.T, failures int, status int, header http.Header) *flakyServer {
	t.Helper()
	fs := &flakyServer{}
	fs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(fs.attempts.Add(1))
		body, _ := io.ReadAll(r.Body)
		fs.mu.Lock()
		fs.bodies = append(fs.bodies, string(body))
		fs.headers = append(fs.headers, r.Header.Clone())
		fs.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if n <= failures {
			for k, v := range header {
				w.Header()[k] = v
			}
			w.WriteHeader(status)
			_ = json.NewEncoder(w).Encode(contract.ErrorBody{Error: fmt.Sprintf("try again later (attempt %d)", n)})
			return
		}
		conn := contract.Connection{ID: "3f0b8a52-6a0e-4a39-9d7a-0b5d3f0c1a11", Name: "ok", Status: contract.ConnectionUnknown}
		if r.Method == http.MethodPost {
			w.WriteHeader(http.StatusCreated)
		}
		_ = json.NewEncoder(w).Encode(conn)
	}))
	t.Cleanup(fs.Close)
	return fs
}

func fastClient(t *testing.T, url string, opts ...client.Option) *client.Client {
	t.Helper()
	opts = append([]client.Option{client.WithRetryWait(time.Millisecond, 5*time.Millisecond), client.WithRetryMax(3)}, opts...)
	c, err := client.New(url, "mcp_test_key", opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func TestRetryTransientStatusThenSucceed(t *testing.T) {
	tests := []struct {
		name   string
		status int
		post   bool
	}{
		{"GET after 503", http.StatusServiceUnavailable, false},
		{"GET after 502", http.StatusBadGateway, false},
		{"GET after 504", http.StatusGatewayTimeout, false},
		{"GET after 429", http.StatusTooManyRequests, false},
		{"POST after 429", http.StatusTooManyRequests, true},
		{"POST after 503", http.StatusServiceUnavailable, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFlakyServer(t, 2, tt.status, nil)
			c := fastClient(t, srv.URL)
			var err error
			if tt.post {
				_, err = c.CreateConnection(context.Background(), contract.CreateConnectionRequest{Name: "n", ServerURL: "https://mcp.example.com/mcp"})
			} else {
				_, err = c.GetConnection(context.Background(), "3f0b8a52-6a0e-4a39-9d7a-0b5d3f0c1a11")
			}
			if err != nil {
				t.Fatalf("call failed after transient errors: %v", err)
			}
			srv.expectAttempts(t, 3, "")
			if tt.post {
				// The body is rewound for every attempt.
				for i, b := range srv.bodies {
					if !strings.Contains(b, `"name":"n"`) {
						t.Errorf("attempt %d body = %q, want the full request", i+1, b)
					}
				}
			}
		})
	}
}

func TestPostNotRetriedOnAmbiguousGatewayError(t *testing.T) {
	for _, status := range []int{http.StatusBadGateway, http.StatusGatewayTimeout} {
		srv := newFlakyServer(t, 5, status, nil)
		c := fastClient(t, srv.URL)
		_, err := c.CreateConnection(context.Background(), contract.CreateConnectionRequest{Name: "n", ServerURL: "https://mcp.example.com/mcp"})
		if !errors.Is(err, client.ErrUnavailable) {
			t.Fatalf("status %d: err = %v, want ErrUnavailable", status, err)
		}
		srv.expectAttempts(t, 1, fmt.Sprintf("status %d: a gateway error is ambiguous, so a create must not be repeated", status))
	}
}

func TestRetriesAreBoundedAndKeepTheAPIMessage(t *testing.T) {
	srv := newFlakyServer(t, 100, http.StatusServiceUnavailable, nil)
	c := fastClient(t, srv.URL)
	_, err := c.GetConnection(context.Background(), "3f0b8a52-6a0e-4a39-9d7a-0b5d3f0c1a11")
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %v (%T), want *APIError", err, err)
	}
	if apiErr.StatusCode != http.StatusServiceUnavailable || !strings.Contains(apiErr.Message, "try again later") {
		t.Errorf("APIError = %+v, want 503 with the server's message", apiErr)
	}
	if !errors.Is(err, client.ErrUnavailable) {
		t.Errorf("errors.Is(err, ErrUnavailable) = false for %v", err)
	}
	srv.expectAttempts(t, 4, "1 + 3 retries")
}

func TestRetryAfterBeyondBudgetGivesUp(t *testing.T) {
	srv := newFlakyServer(t, 100, http.StatusTooManyRequests, http.Header{"Retry-After": {"3600"}})
	c := fastClient(t, srv.URL, client.WithRetryMaxElapsed(time.Minute))
	_, err := c.ListConnections(context.Background(), client.ConnectionListOptions{})
	if !errors.Is(err, client.ErrRateLimited) {
		t.Fatalf("err = %v, want ErrRateLimited", err)
	}
	srv.expectAttempts(t, 1, "a Retry-After of an hour exceeds the budget, so the client must stop at once")
}

func TestRetryAfterWithinBudgetIsRetried(t *testing.T) {
	srv := newFlakyServer(t, 1, http.StatusTooManyRequests, http.Header{"Retry-After": {"0"}})
	c := fastClient(t, srv.URL)
	if _, err := c.ListConnections(context.Background(), client.ConnectionListOptions{}); err != nil {
		t.Fatalf("ListConnections: %v", err)
	}
	srv.expectAttempts(t, 2, "")
}

func TestRetryMaxZeroDisablesRetries(t *testing.T) {
	srv := newFlakyServer(t, 100, http.StatusServiceUnavailable, nil)
	c := fastClient(t, srv.URL, client.WithRetryMax(0))
	if _, err := c.ListConnections(context.Background(), client.ConnectionListOptions{}); !errors.Is(err, client.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	srv.expectAttempts(t, 1, "")
}

func TestConnectionRefused(t *testing.T) {
	c := fastClient(t, mcptest.ClosedURL(t))
	for name, call := range map[string]func() error{
		"get": func() error {
			_, err := c.GetConnection(context.Background(), "3f0b8a52-6a0e-4a39-9d7a-0b5d3f0c1a11")
			return err
		},
		// A refused dial never reached a server, so even a create is retried.
		"create": func() error {
			_, err := c.CreateConnection(context.Background(), contract.CreateConnectionRequest{Name: "n"})
			return err
		},
	} {
		err := call()
		if !errors.Is(err, client.ErrUnreachable) {
			t.Fatalf("%s: err = %v, want ErrUnreachable", name, err)
		}
		if !strings.Contains(err.Error(), "connection refused") || !strings.Contains(err.Error(), "after 4 attempt(s)") {
			t.Errorf("%s: err = %q, want the cause and the attempt count", name, err)
		}
		var apiErr *client.APIError
		if errors.As(err, &apiErr) {
			t.Errorf("%s: a transport failure must not look like an API answer: %v", name, err)
		}
	}
}

// TestResetMidRequest drops the connection after reading the request: the
// server may have acted, so a create is not repeated but a read is.
func TestResetMidRequest(t *testing.T) {
	var attempts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		attempts.Add(1)
		_, _ = io.ReadAll(r.Body)
		hj, ok := w.(http.Hijacker)
		if !ok {
			t.Error("the test server's ResponseWriter cannot hijack")
			return
		}
		conn, _, err := hj.Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	t.Cleanup(srv.Close)
	c := fastClient(t, srv.URL)

	_, err := c.CreateConnection(context.Background(), contract.CreateConnectionRequest{Name: "n", ServerURL: "https://mcp.example.com/mcp"})
	if !errors.Is(err, client.ErrUnreachable) {
		t.Fatalf("create: err = %v, want ErrUnreachable", err)
	}
	if got := attempts.Swap(0); got != 1 {
		t.Errorf("create reached the server %d times, want 1", got)
	}
	if _, err := c.GetConnection(context.Background(), "3f0b8a52-6a0e-4a39-9d7a-0b5d3f0c1a11"); !errors.Is(err, client.ErrUnreachable) {
		t.Fatalf("get: err = %v, want ErrUnreachable", err)
	}
	if got := attempts.Load(); got != 4 {
		t.Errorf("get reached the server %d times, want 4", got)
	}
}

func TestHeadersAndLogging(t *testing.T) {
	srv := newFlakyServer(t, 1, http.StatusServiceUnavailable, nil)
	var (
		mu    sync.Mutex
		lines []string
	)
	logf := func(_ context.Context, msg string, fields map[string]any) {
		b, _ := json.Marshal(fields)
		mu.Lock()
		lines = append(lines, msg+" "+string(b))
		mu.Unlock()
	}
	c := fastClient(t, srv.URL, client.WithUserAgent("terraform-provider-mcp/9.9.9"), client.WithLogger(logf))
	if _, err := c.GetConnection(context.Background(), "3f0b8a52-6a0e-4a39-9d7a-0b5d3f0c1a11"); err != nil {
		t.Fatal(err)
	}
	for i, h := range srv.headers {
		if got := h.Get("Authorization"); got != "Bearer mcp_test_key" {
			t.Errorf("attempt %d Authorization = %q", i+1, got)
		}
		if got := h.Get("User-Agent"); got != "terraform-provider-mcp/9.9.9" {
			t.Errorf("attempt %d User-Agent = %q", i+1, got)
		}
	}
	if len(lines) < 3 {
		t.Errorf("log lines = %q, want two responses and one retry", lines)
	}
	for _, l := range lines {
		if strings.Contains(l, "mcp_test_key") {
			t.Errorf("the API key leaked into the log: %q", l)
		}
	}
}

func TestNonJSONErrorAndRedirect(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/old/api/mcp-connections" {
			http.Redirect(w, r, "https://new.example.com/api/mcp-connections", http.StatusMovedPermanently)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, "<html>\n<h1>Nothing here</h1></html>")
	}))
	t.Cleanup(srv.Close)

	c := fastClient(t, srv.URL)
	_, err := c.ListConnections(context.Background(), client.ConnectionListOptions{})
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) || !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("err = %v, want a 404 APIError", err)
	}
	if !strings.Contains(apiErr.Message, "Nothing here") || strings.Contains(apiErr.Message, "\n") {
		t.Errorf("message = %q, want a one-line summary of the body", apiErr.Message)
	}

	c = fastClient(t, srv.URL+"/old")
	_, err = c.ListConnections(context.Background(), client.ConnectionListOptions{})
	if err == nil || !strings.Contains(err.Error(), "redirected to https://new.example.com") {
		t.Errorf("err = %v, want the redirect target named", err)
	}
}

func TestContextCancelStopsRetrying(t *testing.T) {
	srv := newFlakyServer(t, 100, http.StatusServiceUnavailable, http.Header{"Retry-After": {"20"}})
	c := fastClient(t, srv.URL)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for srv.attempts.Load() == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	_, err := c.ListConnections(ctx, client.ConnectionListOptions{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestNewRejectsBadInput(t *testing.T) {
	tests := []struct{ url, key, want string }{
		{"127.0.0.1:8080", "k", "absolute http or https URL"},
		{"ftp://host", "k", "absolute http or https URL"},
		{"http://", "k", "absolute http or https URL"},
		{"http://user:pw@host", "k", "credentials"},
		{"http://host?x=1", "k", "query"},
		{"http://host", "", "must not be empty"},
		{"http://host", "a key", "printable ASCII"},
	}
	for _, tt := range tests {
		_, err := client.New(tt.url, tt.key)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("New(%q, %q) = %v, want an error containing %q", tt.url, tt.key, err, tt.want)
		}
	}
	c, err := client.New("https://api.example.com/prefix/", "k")
	if err != nil || c.Endpoint() != "https://api.example.com/prefix" {
		t.Errorf("New with a path prefix: %v, endpoint %q", err, c.Endpoint())
	}
}

func TestEmptyIDNeverReachesTheNetwork(t *testing.T) {
	c := fastClient(t, mcptest.ClosedURL(t))
	for _, id := range []string{"", ".", ".."} {
		if _, err := c.GetConnection(context.Background(), id); !errors.Is(err, client.ErrBadRequest) {
			t.Errorf("GetConnection(%q) = %v, want ErrBadRequest", id, err)
		}
		if err := c.DeleteConnection(context.Background(), id); !errors.Is(err, client.ErrBadRequest) {
			t.Errorf("DeleteConnection(%q) = %v, want ErrBadRequest", id, err)
		}
	}
}

// TestConnectionsAreReused guards the cost of a large apply: sequential and
// parallel calls ride on kept-alive connections instead of dialling anew.
func TestConnectionsAreReused(t *testing.T) {
	var dials atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(contract.ConnectionList{Data: []contract.Connection{}})
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			dials.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	c := fastClient(t, srv.URL)

	for range 50 {
		if _, err := c.ListConnections(context.Background(), client.ConnectionListOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if got := dials.Load(); got != 1 {
		t.Errorf("50 sequential calls opened %d connections, want 1", got)
	}

	const workers = 10
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range 20 {
				if _, err := c.ListConnections(context.Background(), client.ConnectionListOptions{}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	// Without reuse the 200 parallel calls would open 200 connections. With
	// it, each worker mostly rides its own; net/http may dial a few extra
	// when a response and the next request race for the idle pool, so the
	// bound leaves room for that but not for dialling per call.
	if got, limit := dials.Load(), int32(1+3*workers); got > limit {
		t.Errorf("%d parallel workers opened %d connections in total, want at most %d", workers, got, limit)
	}
}

// TestListAllStopsOnARepeatedCursor guards every ListAll* against an API that
// hands back a cursor it already gave: the listing must end with an error,
// not loop forever.
func TestListAllStopsOnARepeatedCursor(t *testing.T) {
	var pages atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pages.Add(1)
		next := "again"
		if r.URL.Query().Get("cursor") == "" {
			next = "first"
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(contract.ConnectionList{Data: []contract.Connection{}, NextCursor: &next})
	}))
	t.Cleanup(srv.Close)
	c := fastClient(t, srv.URL)

	_, err := c.ListAllConnections(context.Background(), client.ConnectionListOptions{})
	if err == nil || !strings.Contains(err.Error(), `returned the cursor "again" twice`) {
		t.Fatalf("err = %v, want the repeated cursor named", err)
	}
	if got := pages.Load(); got != 3 {
		t.Fatalf("fetched %d pages, want 3 (first, again, again)", got)
	}
}
