package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

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
