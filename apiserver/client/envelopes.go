package client

import (
	"context"
	"fmt"
)

// envelopeCall performs cl for the servers and projects families, whose
// answers are {"success":true,...} envelopes, and decodes the answer into out.
// ok reports whether the decoded out is a successful envelope (with its
// record); a 2xx answer that is not is rejected, since only a wrong endpoint
// (or a broken proxy) gives one.
func (c *Client) envelopeCall(ctx context.Context, cl call, out any, ok func() bool) error {
	if err := c.do(ctx, cl, out); err != nil {
		return err
	}
	if !ok() {
		return fmt.Errorf("%s %s: the response is not the MCP API's success envelope (is the endpoint %s right?)",
			cl.method, cl.path, c.base)
	}
	return nil
}

// fetchEnvelope performs cl and decodes the answer into a new envelope E;
// ok reports whether it is a successful one.
func fetchEnvelope[E any](ctx context.Context, c *Client, cl call, ok func(*E) bool) (*E, error) {
	var out E
	if err := c.envelopeCall(ctx, cl, &out, func() bool { return ok(&out) }); err != nil {
		return nil, err
	}
	return &out, nil
}
