package probe

import (
	"net/http"
	"sort"
	"strings"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

// Upstream authentication (SPEC §9): what a target's requests carry besides
// MCP — the bearer token, extra headers, an OAuth 2.0 access token — and the
// rule that none of it leaves the endpoint's origin or reaches a message.

// authError is a failure to authenticate to the endpoint before or beside
// MCP (the token endpoint, discovery, the TLS settings): its message is for
// a person and already names what to change, its kind is the check's.
// The transport returns it, so the SDK's error wraps it.
type authError struct {
	kind contract.ErrorKind
	msg  string
}

func (e *authError) Error() string { return e.msg }

// secrets are the values of t that must never appear in a message: the
// bearer token, every header value, the OAuth 2.0 client secret and the TLS
// client key. Longest first, so that one secret holding another is redacted whole.
func (t Target) secrets() []string {
	var s []string
	add := func(v string) {
		if v != "" {
			s = append(s, v)
		}
	}
	add(t.BearerToken)
	for _, v := range t.Headers {
		add(v)
	}
	if t.OAuth2 != nil {
		add(t.OAuth2.ClientSecret)
	}
	if t.TLS != nil {
		add(t.TLS.ClientKey)
	}
	sort.Slice(s, func(i, j int) bool { return len(s[i]) > len(s[j]) })
	return s
}

// redact replaces every secret of t, and every access token in tokens, in msg.
func redact(msg string, t Target, tokens ...string) string {
	for _, v := range append(t.secrets(), tokens...) {
		if v != "" {
			msg = strings.ReplaceAll(msg, v, "[redacted]")
		}
	}
	return msg
}

// setCredentials puts what out's endpoint asks for on a request to the
// endpoint's origin: the extra headers, then the bearer token (an
// Authorization header among the extra ones is the API's to refuse; the
// token wins here).
func setCredentials(h http.Header, headers map[string]string, token string) {
	for k, v := range headers {
		h.Set(k, v)
	}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
}

// credentialHint is what a message about a refused request tells a person to
// check, by what t sends.
func credentialHint(t Target) string {
	switch {
	case t.OAuth2 != nil:
		return "the OAuth 2.0 settings (clientId, clientSecret, scopes, audience, resource)"
	case t.BearerToken != "" && len(t.Headers) > 0:
		return "the bearer token and the headers (" + headerNames(t.Headers) + ")"
	case t.BearerToken != "":
		return "the bearer token"
	case len(t.Headers) > 0:
		return "the headers (" + headerNames(t.Headers) + ")"
	}
	return ""
}

// headerNames are the names of h, sorted and comma-joined.
func headerNames(h map[string]string) string {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, http.CanonicalHeaderKey(k))
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
