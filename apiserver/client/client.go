// Package client is the typed Go client of the MCP API: MCP connections
// (/api/mcp-connections), MCP servers (/api/mcp/servers) and projects
// (/api/projects). It speaks the wire types of package contract, retries
// transient failures with go-retryablehttp, and reports API errors as
// *APIError values that match the package's sentinel errors.
package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/hashicorp/go-retryablehttp"
)

// Defaults for New; each has an Option to change it.
const (
	// DefaultUserAgent is sent when WithUserAgent is not used.
	DefaultUserAgent = "terraform-provider-mcp/dev"
	// DefaultRetryMax is how many times a call is retried after the first attempt.
	DefaultRetryMax = 4
	// DefaultRetryWaitMin is the first backoff; it doubles per retry.
	DefaultRetryWaitMin = 250 * time.Millisecond
	// DefaultRetryWaitMax caps one backoff that no Retry-After header asked for.
	DefaultRetryWaitMax = 5 * time.Second
	// DefaultRetryMaxElapsed bounds the time a call spends waiting to retry.
	DefaultRetryMaxElapsed = 30 * time.Second
	// DefaultAttemptTimeout bounds one HTTP attempt; a health check runs the
	// MCP handshake synchronously, so it must outlast the API's probe timeout.
	DefaultAttemptTimeout = 60 * time.Second
)

// maxResponseBytes bounds what is read from one response, so a misdirected
// endpoint cannot make the client buffer an unbounded body.
const maxResponseBytes = 16 << 20

// LogFunc receives the client's request log lines. Fields never include
// headers, bodies or the API key.
type LogFunc func(ctx context.Context, msg string, fields map[string]any)

// Client calls the MCP API with one API key. It is safe for
// concurrent use and reuses connections across calls.
type Client struct {
	base         *url.URL
	apiKey       string
	userAgent    string
	httpClient   *http.Client
	retryMax     int
	retryWaitMin time.Duration
	retryWaitMax time.Duration
	retryElapsed time.Duration
	log          LogFunc
}

// Option configures a Client in New.
type Option func(*Client)

// WithUserAgent sets the User-Agent header, e.g. "terraform-provider-mcp/1.2.3".
func WithUserAgent(ua string) Option {
	return func(c *Client) { c.userAgent = ua }
}

// WithRetryMax sets how many retries follow the first attempt; 0 disables retries.
func WithRetryMax(n int) Option {
	return func(c *Client) { c.retryMax = max(n, 0) }
}

// WithRetryWait sets the exponential backoff bounds used when the API sends no Retry-After.
func WithRetryWait(minWait, maxWait time.Duration) Option {
	return func(c *Client) { c.retryWaitMin, c.retryWaitMax = minWait, max(minWait, maxWait) }
}

// WithRetryMaxElapsed bounds the total time one call may spend retrying;
// a Retry-After beyond it ends the retries instead of being cut short.
func WithRetryMaxElapsed(d time.Duration) Option {
	return func(c *Client) { c.retryElapsed = d }
}

// WithLogger routes request logging (method, path, status, attempt) to fn.
// Without it the client logs nothing.
func WithLogger(fn LogFunc) Option {
	return func(c *Client) { c.log = fn }
}

// New returns a client for the API at baseURL (e.g. "http://127.0.0.1:8080",
// optionally with a path prefix) that authenticates with apiKey.
func New(baseURL, apiKey string, opts ...Option) (*Client, error) {
	base, err := ParseEndpoint(baseURL)
	if err != nil {
		return nil, err
	}
	if apiKey == "" {
		return nil, errors.New("the API key must not be empty")
	}
	for _, r := range apiKey {
		if r > unicode.MaxASCII || r <= ' ' || r == 0x7f {
			return nil, errors.New("the API key must be printable ASCII without spaces; check that it was copied whole")
		}
	}
	c := &Client{
		base:         base,
		apiKey:       apiKey,
		userAgent:    DefaultUserAgent,
		retryMax:     DefaultRetryMax,
		retryWaitMin: DefaultRetryWaitMin,
		retryWaitMax: DefaultRetryWaitMax,
		retryElapsed: DefaultRetryMaxElapsed,
		httpClient:   newHTTPClient(),
	}
	for _, opt := range opts {
		opt(c)
	}
	return c, nil
}

// ParseEndpoint checks that raw is an absolute http or https URL with a host
// and no query, fragment or credentials, and returns it without a trailing slash.
func ParseEndpoint(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("the API endpoint must be an absolute http or https URL such as http://127.0.0.1:8080, got %q", raw)
	}
	if u.User != nil {
		return nil, fmt.Errorf("the API endpoint must not contain credentials; pass the API key separately")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("the API endpoint must not have a query or fragment, got %q", raw)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// Endpoint returns the base URL the client calls.
func (c *Client) Endpoint() string {
	return c.base.String()
}

func newHTTPClient() *http.Client {
	transport := &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   10 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2: true,
		// Terraform applies up to 10 resources in parallel (more with
		// -parallelism); keeping that many idle connections per host avoids a
		// new TCP (and TLS) handshake per call.
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{
		Transport: transport,
		Timeout:   DefaultAttemptTimeout,
		// The API never redirects; following one would silently turn a POST
		// into a GET, so a redirect is reported instead.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// call describes one API request.
type call struct {
	method string
	path   string
	query  url.Values
	body   any
	// idempotent calls may be repeated after an ambiguous failure (the
	// request may have reached the server); others only when the server
	// certainly did not act on it.
	idempotent bool
	// err is why the call could not be built (an id that cannot address a
	// record); do returns it without sending anything.
	err error
}

// The calls of each method. path is the collection's, or a record's
// subpath ("/checks") when collection.on addresses the call to a record.
func get(path string, q url.Values) call {
	return call{method: http.MethodGet, path: path, query: q, idempotent: true}
}

// post creates: retried only when the API certainly did not act on it.
func post(path string, body any) call { return call{method: http.MethodPost, path: path, body: body} }

// refresh is a POST that only refreshes stored state (a check, a connect),
// so repeating it is safe.
func refresh(path string) call { return call{method: http.MethodPost, path: path, idempotent: true} }

// patch sets absolute values, so repeating it is harmless.
func patch(body any) call { return call{method: http.MethodPatch, body: body, idempotent: true} }

func del() call { return call{method: http.MethodDelete, idempotent: true} }

// fetch performs cl and decodes the answer into a new T.
func fetch[T any](ctx context.Context, c *Client, cl call) (*T, error) {
	var out T
	if err := c.do(ctx, cl, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// do performs c, retrying per the client's policy, and decodes a 2xx body into out.
func (c *Client) do(ctx context.Context, cl call, out any) error {
	if cl.err != nil {
		return cl.err
	}
	var body []byte
	if cl.body != nil {
		var err error
		if body, err = json.Marshal(cl.body); err != nil {
			return fmt.Errorf("%s %s: encode request: %w", cl.method, cl.path, err)
		}
	}
	u := c.base.JoinPath(cl.path)
	u.RawQuery = cl.query.Encode()

	var rawBody any
	if body != nil {
		rawBody = body
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, cl.method, u.String(), rawBody)
	if err != nil {
		return fmt.Errorf("%s %s: %w", cl.method, cl.path, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.apiKey)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}

	resp, err := c.retrying(cl).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return &unreachableError{method: cl.method, path: cl.path, attempts: 1, err: fmt.Errorf("read response: %w", err)}
	}

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &APIError{StatusCode: resp.StatusCode, Message: errorMessage(resp, data), Method: cl.method, Path: cl.path}
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: the response is not the MCP API's JSON (is the endpoint %s right?): %w",
			cl.method, cl.path, c.base, err)
	}
	return nil
}
