package probe

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

// OAuth 2.0 client credentials (RFC 6749 §4.4) for a target: the access
// token is fetched from the token endpoint (configured, or discovered, see
// discovery.go), cached per record and per prober (so per replica) until
// shortly before it expires, fetched once by however many sessions want it
// at the same time, and fetched again once when the MCP server answers 401.

const (
	// defaultTokenLifetime is how long a token whose answer has no
	// expires_in is cached: RFC 6749 lets the server leave it out, and a
	// short guess costs one token request every few minutes, while a 401
	// after a silent expiry still fetches a fresh one at once.
	defaultTokenLifetime = 5 * time.Minute
	// tokenMargin is how long before its expiry a cached token is no longer
	// used, so that a request does not reach the server with a token that
	// expires on the way; a lifetime shorter than twice the margin is cut
	// by half instead.
	tokenMargin = 30 * time.Second
	// maxAuthBody bounds a token or metadata answer.
	maxAuthBody = 64 << 10
	// maxTokenEntries bounds the cache; past it, it starts afresh.
	maxTokenEntries = 10000
)

// tokenCache holds one entry per record (Target.Key).
type tokenCache struct {
	mu      sync.Mutex
	entries map[string]*tokenEntry
}

// tokenEntry is a record's cached access token, and the token endpoint it
// came from (the discovered one is kept with it).
type tokenEntry struct {
	// hash is of the whole OAuth 2.0 configuration (secret included) and
	// the endpoint URL: a changed configuration starts a new entry.
	hash string

	mu       sync.Mutex
	token    string
	expires  time.Time
	tokenURL string
	// call is the fetch in flight, which every caller waits for.
	call *tokenCall
}

type tokenCall struct {
	done  chan struct{}
	token string
	err   error
}

// entry is the cache entry of t, made anew when t's configuration changed.
func (c *tokenCache) entry(t Target) *tokenEntry {
	o := t.OAuth2
	sum := sha256.New()
	for _, s := range append([]string{t.URL, o.TokenURL, o.ClientID, o.ClientSecret, o.Audience, o.Resource, o.AuthMethod}, o.Scopes...) {
		sum.Write([]byte(s))
		sum.Write([]byte{0})
	}
	hash := hex.EncodeToString(sum.Sum(nil))
	key := t.Key
	if key == "" {
		key = hash
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[key]; ok && e.hash == hash {
		return e
	}
	if c.entries == nil || len(c.entries) >= maxTokenEntries {
		c.entries = map[string]*tokenEntry{}
	}
	e := &tokenEntry{hash: hash}
	c.entries[key] = e
	return e
}

// current is the cached token, for redaction; "" when none.
func (e *tokenEntry) current() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.token
}

// oauthClient fetches and caches the access tokens of one target.
type oauthClient struct {
	p        *Prober
	cfg      OAuth2
	endpoint *url.URL
	entry    *tokenEntry
	// roots verifies the token endpoint and discovery; nil: the system's.
	roots *tls.Config
	// refreshed is set once a token was fetched again after a 401, so a
	// second 401 is described as the token being refused.
	mu        sync.Mutex
	refreshed bool
}

func (p *Prober) oauthFor(t Target, endpoint *url.URL, s *tlsSettings) *oauthClient {
	c := &oauthClient{p: p, cfg: *t.OAuth2, endpoint: endpoint, entry: p.tokens.entry(t)}
	if pool := authRoots(s); pool != nil {
		c.roots = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return c
}

// token is the access token to send: the cached one unless it is stale
// (the one a 401 answered), else a fresh one. challenge is the 401's
// WWW-Authenticate values. It is "" without error when the token endpoint
// is still to be discovered and no 401 has said where: the first request
// goes without a token and its 401 starts discovery.
func (c *oauthClient) token(ctx context.Context, stale string, challenge []string) (string, error) {
	e := c.entry
	e.mu.Lock()
	if stale != "" && e.token == stale {
		e.token = ""
	}
	if e.token != "" && time.Now().Before(e.expires) {
		tok := e.token
		e.mu.Unlock()
		return tok, nil
	}
	if c.cfg.TokenURL == "" && e.tokenURL == "" && challenge == nil {
		e.mu.Unlock()
		return "", nil
	}
	call := e.call
	if call == nil {
		call = &tokenCall{done: make(chan struct{})}
		e.call = call
		known := e.tokenURL
		// The fetch is the first caller's for all: it is not cut short when
		// that caller's request ends, only by the prober's timeout.
		fetchCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.p.timeout)
		go func() {
			defer cancel()
			tok, lifetime, tokenURL, err := c.fetch(fetchCtx, known, challenge)
			e.mu.Lock()
			if err == nil {
				e.token, e.expires, e.tokenURL = tok, time.Now().Add(lifetime), tokenURL
			}
			e.call = nil
			e.mu.Unlock()
			call.token, call.err = tok, err
			close(call.done)
		}()
	}
	e.mu.Unlock()
	select {
	case <-call.done:
		if call.err == nil {
			c.mu.Lock()
			c.refreshed = c.refreshed || stale != ""
			c.mu.Unlock()
		}
		return call.token, call.err
	case <-ctx.Done():
		where := "the token endpoint"
		if u := c.cfg.TokenURL; u != "" {
			where += " " + redactURL(u)
		}
		return "", &authError{kind: contract.ErrorTimeout, msg: where + " did not answer in time for the check: check that it is up and reachable from the API server"}
	}
}

// wasRefreshed reports whether a token was fetched again after a 401.
func (c *oauthClient) wasRefreshed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.refreshed
}

// fetch gets a new access token with the client credentials grant, from
// the configured token endpoint, the known discovered one, or one
// discovered now from challenge. It returns the token, how long to cache
// it, and the endpoint it came from.
func (c *oauthClient) fetch(ctx context.Context, known string, challenge []string) (string, time.Duration, string, error) {
	tokenURL := c.cfg.TokenURL
	if tokenURL == "" {
		tokenURL = known
	}
	if tokenURL == "" {
		var err error
		if tokenURL, err = c.discover(ctx, challenge); err != nil {
			return "", 0, "", err
		}
	}
	where := "the token endpoint " + redactURL(tokenURL)
	if err := c.allowedURL(tokenURL, "tokenUrl"); err != nil {
		return "", 0, "", err
	}
	form := url.Values{"grant_type": {"client_credentials"}}
	if len(c.cfg.Scopes) > 0 {
		form.Set("scope", strings.Join(c.cfg.Scopes, " "))
	}
	if c.cfg.Audience != "" {
		form.Set("audience", c.cfg.Audience)
	}
	if c.cfg.Resource != "" {
		form.Set("resource", c.cfg.Resource)
	}
	basic := c.cfg.AuthMethod != contract.ClientSecretPost
	if !basic {
		form.Set("client_id", c.cfg.ClientID)
		form.Set("client_secret", c.cfg.ClientSecret)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, "", &authError{kind: contract.ErrorAuth, msg: "tokenUrl cannot be used for a request: check its syntax"}
	}
	if basic {
		// RFC 6749 §2.3.1: both are form-encoded before they are joined.
		req.SetBasicAuth(url.QueryEscape(c.cfg.ClientID), url.QueryEscape(c.cfg.ClientSecret))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	body, status, ct, err := c.do(req, where)
	if err != nil {
		return "", 0, "", err
	}
	var answer struct {
		AccessToken      string          `json:"access_token"`
		TokenType        string          `json:"token_type"`
		ExpiresIn        json.RawMessage `json:"expires_in"`
		Error            string          `json:"error"`
		ErrorDescription string          `json:"error_description"`
	}
	if ct != "application/json" || json.Unmarshal(body, &answer) != nil {
		return "", 0, "", &authError{kind: contract.ErrorAuth, msg: fmt.Sprintf("%s answered HTTP %d with %s, not an OAuth 2.0 token response: check tokenUrl", where, status, describeContent(ct))}
	}
	if status != http.StatusOK || answer.Error != "" {
		return "", 0, "", &authError{kind: contract.ErrorAuth, msg: c.tokenRefusal(where, status, answer.Error, answer.ErrorDescription)}
	}
	if answer.AccessToken == "" {
		return "", 0, "", &authError{kind: contract.ErrorAuth, msg: where + " answered without an access_token: check tokenUrl"}
	}
	if tt := answer.TokenType; tt != "" && !strings.EqualFold(tt, "bearer") {
		return "", 0, "", &authError{kind: contract.ErrorAuth, msg: fmt.Sprintf("%s issued a token of type %q: only bearer tokens are supported", where, oneLine(tt, 40))}
	}
	return answer.AccessToken, lifetime(answer.ExpiresIn), tokenURL, nil
}

// lifetime is how long a token that expires in raw (seconds, a JSON number
// or, as some servers send it, a string) is cached.
func lifetime(raw json.RawMessage) time.Duration {
	var secs float64
	if json.Unmarshal(raw, &secs) != nil {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return defaultTokenLifetime
		}
		if _, err := fmt.Sscan(s, &secs); err != nil {
			return defaultTokenLifetime
		}
	}
	if secs <= 0 {
		return defaultTokenLifetime
	}
	d := time.Duration(secs * float64(time.Second))
	if d < 2*tokenMargin {
		return d / 2
	}
	return d - tokenMargin
}

// tokenRefusal explains the token endpoint's error answer, quoting its
// error and error_description (RFC 6749 §5.2), and what to change.
func (c *oauthClient) tokenRefusal(where string, status int, code, description string) string {
	hint := ""
	switch code {
	case "invalid_client":
		hint = "check clientId, clientSecret and tokenEndpointAuthMethod (" + c.method() + " was used)"
	case "invalid_scope":
		hint = "check scopes (" + strings.Join(c.cfg.Scopes, " ") + "): the client may not ask for them"
	case "invalid_target":
		hint = "check resource and audience"
	case "unauthorized_client":
		hint = "the client is not allowed the client credentials grant: allow it at the authorization server"
	case "unsupported_grant_type":
		hint = "the authorization server does not offer the client credentials grant"
	case "invalid_request":
		hint = "check the OAuth 2.0 settings"
	case "":
		return fmt.Sprintf("%s answered HTTP %d without an OAuth 2.0 error: check tokenUrl", where, status)
	}
	msg := fmt.Sprintf("%s refused the token request: %s", where, oneLine(code, 80))
	if description != "" {
		msg += fmt.Sprintf(" (%s)", oneLine(description, 200))
	}
	if hint != "" {
		msg += ": " + hint
	}
	return msg
}

func (c *oauthClient) method() string {
	if c.cfg.AuthMethod == contract.ClientSecretPost {
		return contract.ClientSecretPost
	}
	return contract.ClientSecretBasic
}

// do sends an authorization request (token or metadata) through the
// address guard, following no redirect, and reads its bounded answer.
// where names the endpoint in messages.
func (c *oauthClient) do(req *http.Request, where string) ([]byte, int, string, error) {
	tr := c.p.policy.NewTransport()
	tr.TLSClientConfig = c.roots
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, CheckRedirect: func(r *http.Request, _ []*http.Request) error {
		return &authError{kind: contract.ErrorAuth, msg: fmt.Sprintf("%s redirected to %s: redirects are not followed here; use the final URL", where, redactURL(r.URL.String()))}
	}}
	resp, err := hc.Do(req)
	if err != nil {
		var ae *authError
		if errors.As(err, &ae) {
			return nil, 0, "", ae
		}
		if req.Context().Err() != nil {
			return nil, 0, "", &authError{kind: contract.ErrorTimeout, msg: fmt.Sprintf("%s did not answer within %s: check that it is up and reachable from the API server", where, c.p.timeout)}
		}
		u := req.URL
		kind, msg := describeNetError(err, hostPort(u))
		if kind == contract.ErrorTLS {
			// The token endpoint's trust is the system's and the caBundle's.
			if m, ok := describeTLS(err, hostPort(u), nil); ok {
				msg = m
			}
		}
		return nil, 0, "", &authError{kind: kind, msg: where + ": " + msg}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAuthBody+1))
	if err != nil {
		if req.Context().Err() != nil {
			return nil, 0, "", &authError{kind: contract.ErrorTimeout, msg: fmt.Sprintf("%s did not finish its answer within %s", where, c.p.timeout)}
		}
		return nil, 0, "", &authError{kind: contract.ErrorUnreachable, msg: fmt.Sprintf("%s broke off its answer: %v", where, err)}
	}
	if len(body) > maxAuthBody {
		return nil, 0, "", &authError{kind: contract.ErrorAuth, msg: fmt.Sprintf("%s answered with more than %d KiB: check the URL", where, maxAuthBody>>10)}
	}
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return body, resp.StatusCode, ct, nil
}

// describeContent names a Content-Type for a message.
func describeContent(ct string) string {
	switch ct {
	case "":
		return "a body without a Content-Type"
	case "text/html":
		return "an HTML page"
	}
	return "a " + ct + " document"
}

// allowedURL refuses an authorization URL (field names it) that is not
// https: the client secret goes there. Plain http is allowed to loopback
// only, and only where the prober may reach private addresses (tests and
// local setups).
func (c *oauthClient) allowedURL(raw, field string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return &authError{kind: contract.ErrorAuth, msg: fmt.Sprintf("%s %q is not an absolute URL", field, redactURL(raw))}
	}
	if u.User != nil {
		return &authError{kind: contract.ErrorAuth, msg: field + " must not carry credentials in the URL"}
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if c.p.policy.AllowPrivate && isLoopback(u.Hostname()) {
			return nil
		}
	}
	return &authError{kind: contract.ErrorAuth, msg: fmt.Sprintf("%s %s is not https: the client secret is sent only over https (plain http only to loopback, when private targets are allowed)", field, redactURL(raw))}
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}
