package probe

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

// Post sends one JSON-RPC message, body, to t's Streamable HTTP endpoint as
// a session's request goes there: on the prober's session transport, with
// t's credentials (to the endpoint's origin only, never to another host a
// redirect names) and through the address guard, its answer bounded as a
// session's is. header holds the MCP headers to send (Accept,
// Mcp-Protocol-Version, Mcp-Method ...); Content-Type and the credentials
// are Post's own. It is for a caller that passes messages through as they
// are (the gateway's stateless calls) rather than speak MCP itself.
//
// The caller closes the response's body; ctx bounds the whole exchange. An
// endpoint that must not be dialled is a *ConnectError; a failure on the
// wire names the server's URL, never the token.
func (p *Prober) Post(ctx context.Context, t Target, body []byte, header http.Header) (*http.Response, error) {
	if t.Transport != contract.TransportHTTP {
		return nil, &ConnectError{Kind: contract.ErrorUnreachable, Message: fmt.Sprintf("a message is posted only to a Streamable HTTP endpoint, not over %q", t.Transport)}
	}
	u, kind, msg := p.endpoint(t)
	if msg != "" {
		return nil, &ConnectError{Kind: kind, Message: msg}
	}
	hc, _ := p.newHTTPClient(ctx, u, t, &rawCapture{}, rawLink)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.URL, bytes.NewReader(body))
	if err != nil {
		return nil, &ConnectError{Kind: contract.ErrorUnreachable, Message: "server URL cannot be used for a request: check its syntax"}
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		var ae *authError
		if errors.As(err, &ae) {
			// The token endpoint or discovery failed: the message already says what to change.
			return nil, &ConnectError{Kind: ae.kind, Message: p.redact(ae.msg, t)}
		}
		msg := p.redact(err.Error(), t)
		return nil, fmt.Errorf("cannot reach %s: %s", redactURL(t.URL), strings.ReplaceAll(msg, t.URL, redactURL(t.URL)))
	}
	return resp, nil
}
