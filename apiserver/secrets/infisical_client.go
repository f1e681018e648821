package secrets

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// This file is a small REST client for Infisical: Universal Auth login and
// token renewal, and JSON requests with bounded timeouts and retries where a
// retry is safe. The routes and shapes are Infisical's documented API
// (api-reference/endpoints: universal-auth/login, token/renew, v4 secrets,
// v2 folders).

// Infisical's defaults and our bounds.
const (
	defaultRequestTimeout = 10 * time.Second
	defaultLoginBackoff   = 30 * time.Second
	maxLoginBackoff       = 10 * time.Minute
	defaultRetryWait      = 200 * time.Millisecond
	// maxRetryAfter caps a Retry-After we are willing to sleep through
	// inside one call; longer waits are handed back to the caller.
	maxRetryAfter = 2 * time.Second
	// attempts bounds tries of an idempotent request (GET, DELETE).
	attempts = 3
	// maxBody bounds what we read of any answer.
	maxBody = 1 << 20
	// lockoutWait is how long Infisical locks a Universal Auth identity
	// after too many failed logins, by default.
	lockoutWait = 5 * time.Minute
)

// apiError is an answer from Infisical other than 2xx, with what it said.
type apiError struct {
	op      string // "POST /api/v4/secrets/{name}"
	status  int
	name    string // Infisical's error name, such as "PermissionDenied"
	message string
	reqID   string
}

func (e *apiError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Infisical answered %d to %s", e.status, e.op)
	if e.message != "" {
		fmt.Fprintf(&b, ": %s", e.message)
	}
	if e.reqID != "" {
		fmt.Fprintf(&b, " (Infisical request id %s)", e.reqID)
	}
	return b.String()
}

// parseAPIError reads Infisical's error body ({statusCode, message, error,
// reqId}; message is a list of issues for validation errors).
func parseAPIError(op string, status int, body []byte) *apiError {
	e := &apiError{op: op, status: status}
	var raw struct {
		Message json.RawMessage `json:"message"`
		Error   string          `json:"error"`
		ReqID   string          `json:"reqId"`
	}
	if json.Unmarshal(body, &raw) != nil {
		e.message = strings.TrimSpace(string(truncate(body, 200)))
		return e
	}
	e.name, e.reqID = raw.Error, raw.ReqID
	var s string
	if json.Unmarshal(raw.Message, &s) == nil {
		e.message = s
	} else if len(raw.Message) > 0 {
		e.message = string(truncate(raw.Message, 500))
	}
	return e
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return append(b[:n:n], "…"...)
	}
	return b
}

// callState is what one Store call has done so far: at most one login per
// call, whatever happens.
type callState struct {
	loginTried bool
}

// request is one JSON request to Infisical.
type request struct {
	method string
	path   string // "/api/v4/secrets/NAME"
	route  string // for messages: "/api/v4/secrets/{name}"
	query  url.Values
	body   any
	// idempotent requests (GET, DELETE) are retried on network errors,
	// 429 and 5xx; others are sent once.
	idempotent bool
}

// token returns an access token for call, renewing it once two thirds of its
// life have passed and logging in when there is none. It logs in at most once
// per call and never sooner than the backoff after a failed login: Infisical
// locks a machine identity after three failed logins.
func (c *Infisical) token(ctx context.Context, call *callState) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	select {
	case c.authSem <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-c.authSem }()
	a := &c.auth
	now := c.cfg.Now()
	if a.token != "" && (a.renewAt.IsZero() || now.Before(a.renewAt)) {
		return a.token, nil
	}
	if a.token != "" && now.Before(a.expires) && (a.maxAt.IsZero() || now.Before(a.maxAt)) {
		err := c.renew(ctx, now)
		if err == nil {
			return a.token, nil
		}
		if _, temporary := RetryAfter(err); temporary {
			// The token still works until it expires; use it, and renew
			// on a later call.
			return a.token, nil
		}
		// Infisical refused the renewal (revoked, past its max TTL): log in.
		a.token = ""
	}
	if a.token != "" && now.Before(a.expires) {
		return a.token, nil
	}
	a.token = ""
	if call.loginTried {
		return "", &UnavailableError{After: c.cfg.LoginBackoff, Err: errors.New("Infisical refused a fresh access token during this call; not logging in again within one call")}
	}
	if now.Before(a.nextLogin) {
		wait := a.nextLogin.Sub(now)
		why := ""
		if a.failures > 0 {
			why = " (Infisical locks a machine identity after three failed logins)"
		}
		return "", &UnavailableError{After: wait, Err: fmt.Errorf("not logging in to Infisical again for %s after a failed login%s: %w", wait.Round(time.Second), why, a.lastErr)}
	}
	call.loginTried = true
	if err := c.login(ctx, now); err != nil {
		if ctx.Err() != nil {
			// The caller gave up; that says nothing about the credentials.
			return "", err
		}
		if after, temporary := RetryAfter(err); temporary {
			// Infisical was not reached or failed (5xx, 429): no
			// credentials were judged, so this does not count toward a
			// lockout, and only a short pause keeps calls from piling up.
			wait := min(after, time.Second)
			a.nextLogin, a.lastErr = now.Add(wait), err
			return "", err
		}
		a.failures++
		backoff := c.cfg.LoginBackoff << min(a.failures-1, 10)
		backoff = min(backoff, maxLoginBackoff)
		if isLockout(err) {
			backoff = max(backoff, lockoutWait)
		}
		a.nextLogin, a.lastErr = now.Add(backoff), err
		return "", &UnavailableError{After: backoff, Err: err}
	}
	a.failures, a.nextLogin, a.lastErr = 0, time.Time{}, nil
	return a.token, nil
}

// invalidate drops tok if it is still the current token, after Infisical
// refused it.
func (c *Infisical) invalidate(tok string) {
	c.authSem <- struct{}{}
	if c.auth.token == tok {
		c.auth.token = ""
	}
	<-c.authSem
}

// tokenAnswer is what login and renew return.
type tokenAnswer struct {
	AccessToken       string `json:"accessToken"`
	ExpiresIn         int64  `json:"expiresIn"`
	AccessTokenMaxTTL int64  `json:"accessTokenMaxTTL"`
	TokenType         string `json:"tokenType"`
}

// login is one Universal Auth login, never retried.
func (c *Infisical) login(ctx context.Context, now time.Time) error {
	var ans tokenAnswer
	err := c.send(ctx, request{method: http.MethodPost, path: "/api/v1/auth/universal-auth/login", route: "/api/v1/auth/universal-auth/login",
		body: map[string]string{"clientId": c.cfg.ClientID, "clientSecret": c.cfg.ClientSecret}}, "", &ans)
	if err != nil {
		return loginError(err)
	}
	if ans.AccessToken == "" {
		return errors.New("the Universal Auth login at Infisical answered without an access token; check that INFISICAL_URL points at Infisical itself")
	}
	c.setToken(ans, now, true)
	return nil
}

// renew extends the current token (POST /api/v1/auth/token/renew).
func (c *Infisical) renew(ctx context.Context, now time.Time) error {
	var ans tokenAnswer
	err := c.send(ctx, request{method: http.MethodPost, path: "/api/v1/auth/token/renew", route: "/api/v1/auth/token/renew",
		body: map[string]string{"accessToken": c.auth.token}}, "", &ans)
	if err != nil {
		return err
	}
	if ans.AccessToken == "" {
		return errors.New("the token renewal at Infisical answered without an access token")
	}
	c.auth.renews++
	c.setToken(ans, now, false)
	return nil
}

func (c *Infisical) setToken(ans tokenAnswer, now time.Time, fresh bool) {
	a := &c.auth
	a.token = ans.AccessToken
	if ans.ExpiresIn <= 0 {
		// A token without expiry: never renewed.
		a.expires, a.renewAt = time.Time{}.Add(1<<63-1), time.Time{}
	} else {
		ttl := time.Duration(ans.ExpiresIn) * time.Second
		a.expires = now.Add(ttl)
		a.renewAt = now.Add(ttl * 2 / 3)
	}
	if fresh {
		a.maxAt = time.Time{}
		if ans.AccessTokenMaxTTL > 0 {
			a.maxAt = now.Add(time.Duration(ans.AccessTokenMaxTTL) * time.Second)
		}
	}
}

// isLockout reports whether Infisical said the identity is locked out.
func isLockout(err error) bool {
	ae, ok := errors.AsType[*apiError](err)
	return ok && strings.Contains(strings.ToLower(ae.message), "locked")
}

// loginError says what to change after a failed login.
func loginError(err error) error {
	ae, ok := errors.AsType[*apiError](err)
	switch {
	case !ok:
		return err
	case isLockout(err):
		return fmt.Errorf("%w; the machine identity's Universal Auth is locked after failed logins: correct INFISICAL_CLIENT_SECRET (and INFISICAL_CLIENT_ID), then wait for the lockout to end or clear it in Infisical under the identity's Universal Auth settings", err)
	case ae.status == http.StatusUnauthorized || ae.status == http.StatusForbidden || ae.status == http.StatusNotFound:
		return fmt.Errorf("%w; check INFISICAL_CLIENT_ID and INFISICAL_CLIENT_SECRET: they must be a Universal Auth client id and client secret of a machine identity (and the client secret must not be expired, revoked or used up)", err)
	case ae.status == http.StatusBadRequest || ae.status == http.StatusUnprocessableEntity:
		return fmt.Errorf("%w; check INFISICAL_CLIENT_ID and INFISICAL_CLIENT_SECRET", err)
	}
	return err
}

// do sends r with a token, logging in or renewing as needed, and decodes a
// 2xx answer into out. A refused token is replaced once (which may log in,
// within the one login per call); idempotent requests are retried on network
// errors, 429 and 5xx.
func (c *Infisical) do(ctx context.Context, call *callState, r request, out any) error {
	refreshed := false
	for attempt := 1; ; attempt++ {
		tok, err := c.token(ctx, call)
		if err != nil {
			return err
		}
		err = c.send(ctx, r, tok, out)
		ae, isAPI := errors.AsType[*apiError](err)
		if isAPI && !refreshed && (ae.status == http.StatusUnauthorized || ae.status == http.StatusForbidden && ae.name == "TokenError") {
			// Expired early or revoked: one fresh token, then give up.
			refreshed = true
			c.invalidate(tok)
			attempt--
			continue
		}
		after, temporary := RetryAfter(err)
		if !temporary || !r.idempotent || attempt >= attempts {
			return err
		}
		wait := c.cfg.RetryWait << (attempt - 1)
		if after > wait && after <= maxRetryAfter {
			wait = after
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return err
		}
	}
}

// send is one HTTP exchange with Infisical, bounded by the request timeout.
// Network errors, 429 and 5xx come back as *UnavailableError, other non-2xx
// answers as *apiError.
func (c *Infisical) send(ctx context.Context, r request, tok string, out any) error {
	op := r.method + " " + r.route
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
	defer cancel()
	u := c.base.JoinPath(r.path)
	u.RawQuery = r.query.Encode()
	var body io.Reader
	if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			return fmt.Errorf("encode %s: %w", op, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u.String(), body)
	if err != nil {
		return fmt.Errorf("build %s: %w", op, err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if perr := parent.Err(); perr != nil {
			return fmt.Errorf("%s to Infisical: %w", op, perr)
		}
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("no answer within %s", c.cfg.RequestTimeout)
		}
		// url.Error names the method and URL (never a body or header).
		return &UnavailableError{After: 5 * time.Second, Err: fmt.Errorf("cannot reach Infisical at %s for %s: %w; check INFISICAL_URL and that Infisical is up", c.cfg.URL, op, unwrapURLError(err))}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return &UnavailableError{After: 5 * time.Second, Err: fmt.Errorf("read Infisical's answer to %s: %w", op, err)}
	}
	if resp.StatusCode/100 == 2 {
		if out == nil {
			return nil
		}
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("the answer of Infisical to %s is not the JSON expected (%v); check that INFISICAL_URL points at Infisical itself", op, err)
		}
		return nil
	}
	ae := parseAPIError(op, resp.StatusCode, data)
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
		after := 5 * time.Second
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			after = time.Duration(s) * time.Second
		}
		return &UnavailableError{After: after, Err: ae}
	}
	return ae
}

// unwrapURLError keeps the cause of a *url.Error, whose own text repeats the
// whole URL with its query.
func unwrapURLError(err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		return ue.Err
	}
	return err
}
