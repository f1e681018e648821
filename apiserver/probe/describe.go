package probe

import (
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"

	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"
	"unicode"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/netguard"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// How failures are classified. Result.ErrorKind (contract.ErrorKind) says, for machines, why a check
// failed; Result.Err says it for people. Every failure path of the probe maps to exactly one kind (SPEC §8,
// lastErrorKind); a passing check has none ("").
//
// Decisions where the SPEC leaves room:
//   - A target that cannot be reached as configured (unparseable or non-http
//     URL, URL credentials, unknown transport, no stdio command, a command
//     that is not found or cannot be executed) is contract.ErrorUnreachable.
//   - A stdio child that exits before completing the handshake is
//     contract.ErrorUnreachable: like a refused port, there is no server to talk to.
//     A child that answers with something that is not MCP is contract.ErrorProtocol.
//   - A peer that accepts the connection and closes it without an HTTP
//     answer is contract.ErrorUnreachable; one that answers, but not MCP, is contract.ErrorProtocol.
//   - A check cancelled by its caller is contract.ErrorTimeout: it did not finish in
//     the time it was given.
//   - A refused redirect is contract.ErrorBlocked when the guard refused its address,
//     contract.ErrorProtocol otherwise (too many redirects, a non-http scheme).
//   - HTTP 429 is contract.ErrorServer with the 5xx answers: the server is there
//     but will not serve now, and the remedy is the same (retry later).
//   - A wire-level cause outranks the step it broke: a tools/list answered
//     with HTTP 503 is contract.ErrorServer, with HTTP 401 contract.ErrorAuth; a listing
//     that fails on the MCP level (JSON-RPC error, bad shape, a looping
//     cursor, an answer over the size limit) is contract.ErrorProtocol.

// describeHTTP turns a failed HTTP or SSE check into a message a person can
// act on, and its kind. The recorder's view of the wire comes first: the SDK
// reports most HTTP failures as bare status text ("Unauthorized"), without the code.
func describeHTTP(ctx context.Context, err error, rec *recorder, t Target, endpoint *url.URL, timeout time.Duration) (contract.ErrorKind, string) {
	wp := rec.problem()

	// After a redirect, say where to: the failure is about the new place.
	prefix := ""
	if wp != nil && wp.url != nil && origin(wp.url) != origin(endpoint) {
		prefix = fmt.Sprintf("the server redirected to %s: ", redactURL(wp.url.String()))
	}

	// The token endpoint, discovery or the TLS settings failed before the
	// server was asked anything: their message already says what to change.
	var ae *authError
	if wp != nil && errors.As(wp.err, &ae) || errors.As(err, &ae) {
		return ae.kind, ae.msg
	}

	// A refusal by the address guard explains whatever followed it.
	var re *netguard.RedirectError
	if wp != nil && errors.As(wp.err, &re) {
		kind := contract.ErrorProtocol
		if re.Err != nil {
			kind = contract.ErrorBlocked
		}
		return kind, fmt.Sprintf("the server redirected to %s and the redirect was refused: %s", re.Location, re.Reason)
	}
	var be *netguard.BlockedError
	if wp != nil && errors.As(wp.err, &be) {
		return contract.ErrorBlocked, prefix + be.Error()
	}
	if errors.As(err, &be) {
		return contract.ErrorBlocked, be.Error()
	}
	if errors.Is(err, errTooLarge) {
		return contract.ErrorProtocol, describeTooLarge(err)
	}

	if kind, msg, ok := describeContext(ctx, err, hostPort(endpoint), timeout); ok {
		return kind, msg
	}

	if wp != nil {
		if wp.err != nil {
			kind, msg := describeNetError(wp.err, hostPort(wp.url))
			if kind == contract.ErrorTLS {
				if m, ok := describeTLS(wp.err, hostPort(wp.url), rec.tls); ok {
					msg = m
				}
			}
			return kind, prefix + msg
		}
		kind, msg := describeStatus(wp, t, rec.oauth)
		return kind, prefix + msg
	}
	return contract.ErrorProtocol, describeProtocol(err, t)
}

// describeContext reports a check that ran out of time or was cancelled.
func describeContext(ctx context.Context, err error, who string, timeout time.Duration) (contract.ErrorKind, string, bool) {
	var (
		pe *pingError
		le *listingError
	)
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded) && errors.As(err, &pe):
		return contract.ErrorTimeout, fmt.Sprintf("%s completed the MCP handshake but did not answer ping within %s", who, timeout), true
	case errors.Is(ctx.Err(), context.DeadlineExceeded) && errors.As(err, &le):
		return contract.ErrorTimeout, fmt.Sprintf("%s completed the MCP handshake but did not answer %s within %s", who, le.method, timeout), true
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return contract.ErrorTimeout, fmt.Sprintf("no answer within %s from %s: the MCP handshake did not complete in time", timeout, who), true
	case ctx.Err() != nil:
		return contract.ErrorTimeout, "the check was cancelled before it finished", true
	}
	return "", "", false
}

// describeNetError explains a failure to reach hostport at all, and its kind.
func describeNetError(err error, hostport string) (contract.ErrorKind, string) {
	var (
		be      *netguard.BlockedError
		dnsErr  *net.DNSError
		unknown x509.UnknownAuthorityError
		badName x509.HostnameError
		invalid x509.CertificateInvalidError
		recHdr  tls.RecordHeaderError
		alert   tls.AlertError
		netErr  net.Error
	)
	host, _, _ := net.SplitHostPort(hostport)
	switch {
	case errors.As(err, &be):
		return contract.ErrorBlocked, be.Error()
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return contract.ErrorUnreachable, fmt.Sprintf("host %q not found: check the host name in the server URL", dnsErr.Name)
	case errors.As(err, &dnsErr):
		return contract.ErrorUnreachable, fmt.Sprintf("could not resolve host %q: %s", dnsErr.Name, dnsErr.Err)
	case errors.Is(err, syscall.ECONNREFUSED):
		return contract.ErrorUnreachable, fmt.Sprintf("connection refused: nothing is listening at %s", hostport)
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return contract.ErrorUnreachable, fmt.Sprintf("%s is unreachable from the API server", hostport)
	case errors.As(err, &unknown):
		return contract.ErrorTLS, fmt.Sprintf("TLS error: the certificate of %s is not signed by a trusted authority (self-signed or from a private CA)", host)
	case errors.As(err, &badName):
		return contract.ErrorTLS, fmt.Sprintf("TLS error: the certificate of %s is not valid for that name: %s", host, badName.Error())
	case errors.As(err, &invalid):
		return contract.ErrorTLS, fmt.Sprintf("TLS error: the certificate of %s is not valid: %s", host, invalid.Error())
	case errors.As(err, &recHdr), strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return contract.ErrorTLS, fmt.Sprintf("TLS error: %s does not speak TLS; use an http:// URL or the server's TLS port", hostport)
	case errors.As(err, &alert):
		return contract.ErrorTLS, fmt.Sprintf("TLS error: the TLS handshake with %s failed: %s", hostport, alert.Error())
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return contract.ErrorUnreachable, fmt.Sprintf("%s closed the connection without an HTTP answer", hostport)
	case errors.As(err, &netErr) && netErr.Timeout():
		return contract.ErrorTimeout, fmt.Sprintf("timed out talking to %s", hostport)
	}
	kind := contract.ErrorUnreachable
	if isTLSError(err) {
		kind = contract.ErrorTLS
	}
	return kind, fmt.Sprintf("could not reach %s: %s", hostport, err)
}

// isTLSError recognises the TLS failures that have no error type of their
// own: crypto/tls reports most handshake problems as plain "tls: ..." errors.
func isTLSError(err error) bool {
	var (
		verify *tls.CertificateVerificationError
		echErr *tls.ECHRejectionError
	)
	if errors.As(err, &verify) || errors.As(err, &echErr) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "tls: ") || strings.Contains(msg, "x509: ")
}

// describeStatus explains an HTTP answer that was not MCP, and its kind.
// oauth is the check's OAuth 2.0 client, nil without one.
func describeStatus(wp *wireProblem, t Target, oauth *oauthClient) (contract.ErrorKind, string) {
	if oauth != nil && (wp.status == http.StatusUnauthorized || wp.status == http.StatusForbidden) {
		return contract.ErrorAuth, oauthRefusal(wp, oauth)
	}
	return statusKind(wp.status), statusMessage(wp, t)
}

// oauthRefusal explains a 401 or 403 to a request that carried an OAuth 2.0
// access token (or, discovery failing to start, none).
func oauthRefusal(wp *wireProblem, oauth *oauthClient) string {
	head := fmt.Sprintf("the MCP server answered HTTP %d %s", wp.status, http.StatusText(wp.status))
	said := ""
	if d := challengeParam([]string{wp.challenge}, "error_description"); d != "" {
		said = fmt.Sprintf(" (it said: %s)", oneLine(d, 200))
	} else if e := challengeParam([]string{wp.challenge}, "error"); e != "" {
		said = fmt.Sprintf(" (it said: %s)", oneLine(e, 80))
	} else if d := oneLine(wp.snippet, 200); d != "" && wp.contentType != "text/html" {
		said = fmt.Sprintf(" (it said: %s)", d)
	}
	switch {
	case wp.status == http.StatusForbidden:
		return head + said + " to the access token: check scopes, audience and resource, and what the client is allowed at the authorization server"
	case oauth.wasRefreshed():
		return head + said + " to an access token fetched fresh after its first 401: the server does not accept the tokens the authorization server issues for this client; check scopes, audience and resource"
	}
	return head + said + " to the access token: check scopes, audience and resource"
}

// statusKind is the kind of failure an HTTP status that was not MCP stands for.
func statusKind(status int) contract.ErrorKind {
	switch {
	case status == http.StatusUnauthorized, status == http.StatusForbidden:
		return contract.ErrorAuth
	case status >= 500, status == http.StatusTooManyRequests:
		return contract.ErrorServer
	}
	return contract.ErrorProtocol
}

// statusMessage explains an HTTP answer that was not MCP.
func statusMessage(wp *wireProblem, t Target) string {
	who := "the MCP server"
	if wp.status >= 200 && wp.status < 300 {
		what := "a " + wp.contentType + " document"
		switch wp.contentType {
		case "":
			what = "a body without a Content-Type"
		case "text/html":
			what = "an HTML page"
		}
		return fmt.Sprintf("not an MCP server: %s answered with %s instead of JSON-RPC; check the URL", hostPort(wp.url), what)
	}
	head := fmt.Sprintf("%s answered HTTP %d %s", who, wp.status, http.StatusText(wp.status))
	switch wp.status {
	case http.StatusUnauthorized:
		if hint := credentialHint(t); hint != "" {
			return head + ": check " + hint
		}
		return head + ": it requires authentication; set a bearer token, headers or OAuth 2.0 client credentials"
	case http.StatusForbidden:
		if hint := credentialHint(t); hint != "" {
			return head + ": check " + hint + " and what they are allowed to do"
		}
		return head + ": it refuses unauthenticated clients; set a bearer token, headers or OAuth 2.0 client credentials"
	case http.StatusNotFound:
		return head + ": check the URL path"
	case http.StatusMethodNotAllowed:
		if t.Transport == "sse" {
			return head + ": the URL does not serve an SSE stream; check the URL path, or use transport http for a Streamable HTTP server"
		}
		return head + ": the URL does not take MCP POST requests; check the URL path, or use transport sse for a legacy HTTP+SSE server"
	}
	detail := ""
	if wp.contentType != "text/html" {
		detail = oneLine(wp.snippet, 200)
	}
	hint := ""
	if wp.status >= 500 {
		hint = "the server failed; check its logs"
	} else if wp.status >= 300 && wp.status < 400 {
		hint = "the redirect was not followed; use the final URL"
	}
	switch {
	case detail != "" && hint != "":
		return head + ": " + hint + ": " + detail
	case detail != "":
		return head + ": " + detail
	case hint != "":
		return head + ": " + hint
	}
	return head
}

// describeProtocol explains a failure the wire did not: the peer answered,
// but not with a usable MCP handshake.
func describeProtocol(err error, t Target) string {
	msg := err.Error()
	var (
		pe *pingError
		le *listingError
	)
	switch {
	case errors.As(err, &pe):
		return "the MCP server completed the handshake but did not answer ping: " + pe.err.Error()
	case errors.As(err, &le):
		return fmt.Sprintf("the MCP server completed the handshake but %s failed: %s", le.method, le.err)
	case strings.Contains(msg, "unsupported protocol version"):
		return fmt.Sprintf("the MCP server offered a protocol version this API does not support (it supports %s): %s",
			strings.Join(mcp.SupportedProtocolVersions(), ", "), msg)
	case strings.Contains(msg, "failed to decode"), strings.Contains(msg, "invalid character"),
		strings.Contains(msg, "invalid message"):
		return "not an MCP server: it answered with JSON that is not JSON-RPC; check the URL"
	case strings.Contains(msg, "unsupported content type"), strings.Contains(msg, "missing endpoint"):
		return "not an MCP server: its answer is not MCP (" + msg + "); check the URL"
	case errors.Is(err, mcp.ErrConnectionClosed), errors.Is(err, io.EOF):
		return "the MCP server closed the connection during the handshake: " + msg
	}
	if t.Transport == "stdio" {
		return "the MCP handshake over stdio failed: " + msg
	}
	return "the MCP handshake failed: " + msg
}

// hostPort is u's host and port, with the scheme's default port filled in.
func hostPort(u *url.URL) string {
	if u == nil {
		return "the server"
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// oneLine squeezes untrusted text into one printable line of at most limit runes.
func oneLine(s string, limit int) string {
	var b strings.Builder
	space := false
	n := 0
	for _, r := range s {
		if unicode.IsSpace(r) || !unicode.IsPrint(r) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			n++
			space = false
		}
		if n >= limit {
			b.WriteString("…")
			break
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}
