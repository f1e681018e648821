package gateway

import (
	"context"
	"net/http"

	"github.com/google/uuid"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
)

// Agent is a stand-in, until the agent endpoint lands, that serves no
// agent: the merger deletes this file.
func (g *Gateway) Agent(_ context.Context, _ Caller, _ uuid.UUID) (http.Handler, error) {
	return nil, store.ErrNotFound
}
