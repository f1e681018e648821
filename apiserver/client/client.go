// Package client is the typed Go client of the MCP connections API. It speaks
// the wire types of package contract, retries transient failures with
// go-retryablehttp, and reports API errors as *APIError values that match the
// package's sentinel errors.
package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
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

// Client calls the MCP connections API with one API key. It is safe for
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

// WithHTTPClient replaces the tuned default *http.Client, e.g. for a custom
// TLS configuration. Its redirect policy is kept as given.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) { c.httpClient = hc }
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
	}
	for _, opt := range opts {
		opt(c)
	}
	if c.httpClient == nil {
		c.httpClient = newHTTPClient()
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
}

// do performs c, retrying per the client's policy, and decodes a 2xx body into out.
func (c *Client) do(ctx context.Context, cl call, out any) error {
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

// retrying builds the retry machinery for one call. It is cheap: the
// *http.Client (and so its connection pool) is shared, only the policy
// closures are per call, which is what lets them know the call's deadline.
func (c *Client) retrying(cl call) *retryablehttp.Client {
	deadline := time.Now().Add(c.retryElapsed)
	rc := &retryablehttp.Client{
		HTTPClient:   c.httpClient,
		Logger:       nil, // the library's default logger writes to stderr; see WithLogger
		RetryWaitMin: c.retryWaitMin,
		RetryWaitMax: c.retryWaitMax,
		RetryMax:     c.retryMax,
		CheckRetry:   checkRetry(cl.idempotent, deadline),
		Backoff:      backoff(deadline),
		ErrorHandler: func(resp *http.Response, err error, attempts int) (*http.Response, error) {
			if err == nil && resp != nil {
				// Retries ran out on an HTTP answer: hand it back so its error
				// body reaches the caller as an *APIError.
				return resp, nil
			}
			if resp != nil {
				resp.Body.Close()
			}
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return nil, fmt.Errorf("%s %s: %w", cl.method, cl.path, err)
			}
			return nil, &unreachableError{method: cl.method, path: cl.path, attempts: attempts, err: transportCause(err)}
		},
	}
	if c.log != nil {
		log := c.log
		rc.RequestLogHook = func(_ retryablehttp.Logger, req *http.Request, attempt int) {
			if attempt > 0 {
				log(req.Context(), "retrying MCP API request", map[string]any{
					"method": req.Method, "path": req.URL.Path, "attempt": attempt + 1,
				})
			}
		}
		rc.ResponseLogHook = func(_ retryablehttp.Logger, resp *http.Response) {
			log(resp.Request.Context(), "MCP API response", map[string]any{
				"method": resp.Request.Method, "path": resp.Request.URL.Path, "status": resp.StatusCode,
			})
		}
	}
	return rc
}

// checkRetry decides whether an attempt is worth repeating.
func checkRetry(idempotent bool, deadline time.Time) retryablehttp.CheckRetry {
	return func(ctx context.Context, resp *http.Response, err error) (bool, error) {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		if time.Now().After(deadline) {
			return false, nil
		}
		if err != nil {
			if permanentTransportError(err) {
				return false, nil
			}
			// A refused or unresolvable dial never reached the server, so even
			// a create can be repeated; a reset mid-request might have.
			return idempotent || notSent(err), nil
		}
		switch resp.StatusCode {
		case http.StatusTooManyRequests, http.StatusServiceUnavailable:
			// The API answers these before acting on the request.
		case http.StatusBadGateway, http.StatusGatewayTimeout:
			// A gateway may have forwarded the request before failing.
			if !idempotent {
				return false, nil
			}
		default:
			return false, nil
		}
		if wait, ok := retryAfter(resp); ok && time.Now().Add(wait).After(deadline) {
			// Waiting less than the server asked would only earn another
			// refusal; give up with the server's answer instead.
			return false, nil
		}
		return true, nil
	}
}

// backoff waits what Retry-After asks for, otherwise an exponentially
// growing, jittered delay, never past the call's deadline.
func backoff(deadline time.Time) retryablehttp.Backoff {
	return func(minWait, maxWait time.Duration, attempt int, resp *http.Response) time.Duration {
		wait, ok := retryAfter(resp)
		if !ok {
			wait = maxWait
			if attempt < 30 {
				wait = min(minWait<<attempt, maxWait)
			}
			// Jitter in [wait/2, wait] keeps parallel callers from retrying in lockstep.
			if half := wait / 2; half > 0 {
				wait = half + rand.N(half+1)
			}
		}
		return max(min(wait, time.Until(deadline)), 0)
	}
}

// retryAfter parses the Retry-After header (seconds or an HTTP date).
func retryAfter(resp *http.Response) (time.Duration, bool) {
	if resp == nil {
		return 0, false
	}
	v := strings.TrimSpace(resp.Header.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 || secs > int64(24*time.Hour/time.Second) {
			return 0, false
		}
		return time.Duration(secs) * time.Second, true
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(time.Until(at), 0), true
	}
	return 0, false
}

// notSent reports whether err shows the request never left the client.
func notSent(err error) bool {
	var opErr *net.OpError
	return errors.As(err, &opErr) && opErr.Op == "dial"
}

// permanentTransportError reports failures that retrying cannot fix.
func permanentTransportError(err error) bool {
	var (
		certErr      *tls.CertificateVerificationError
		authorityErr x509.UnknownAuthorityError
		hostnameErr  x509.HostnameError
		invalidErr   x509.CertificateInvalidError
	)
	if errors.As(err, &certErr) || errors.As(err, &authorityErr) || errors.As(err, &hostnameErr) || errors.As(err, &invalidErr) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "unsupported protocol scheme") || strings.Contains(msg, "invalid header")
}

// transportCause strips the *url.Error wrapper, whose text repeats the full
// URL, leaving the cause ("dial tcp 127.0.0.1:1: connect: connection refused").
func transportCause(err error) error {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return urlErr.Err
	}
	return err
}

// errorMessage extracts the API's "error" text, or summarises a body that is
// not the API's error shape (a proxy's HTML page, say).
func errorMessage(resp *http.Response, data []byte) string {
	var eb struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(data, &eb) == nil && strings.TrimSpace(eb.Error) != "" {
		return eb.Error
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		if loc := resp.Header.Get("Location"); loc != "" {
			return fmt.Sprintf("the API redirected to %s; set the endpoint to that address", loc)
		}
	}
	msg := http.StatusText(resp.StatusCode)
	if msg == "" {
		msg = "unexpected status " + strconv.Itoa(resp.StatusCode)
	}
	if snippet := summarise(data); snippet != "" {
		msg += ": " + snippet
	}
	return msg
}

// summarise shortens a non-JSON body to one printable line.
func summarise(data []byte) string {
	data = bytes.TrimSpace(data)
	const limit = 200
	s := strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, string(data))
	if r := []rune(s); len(r) > limit {
		s = string(r[:limit]) + "…"
	}
	return s
}
