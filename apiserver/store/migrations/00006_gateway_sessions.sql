-- +goose Up
-- The gateway's stateful MCP sessions (SPEC §10, "Replicas"), shared by
-- every replica: the one that opened a session writes its row, any other
-- that receives a request of it reads the row and continues the session on
-- an upstream session of its own. A row lives until the client deletes the
-- session or it idles out (MCP_API_GATEWAY_SESSION_IDLE), whichever comes first.
CREATE TABLE gateway_sessions (
    -- The Mcp-Session-Id the client holds: the SDK's random text.
    id                text        PRIMARY KEY CHECK (id <> ''),
    tenant_id         uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    -- The endpoint it was opened on: /mcp/servers/{id} or /mcp/agents/{id}.
    endpoint_kind     text        NOT NULL CHECK (endpoint_kind IN ('server', 'agent')),
    endpoint_id       text        NOT NULL CHECK (endpoint_id <> ''),
    -- Who opened it: an API key, or an agent through one of its tokens. A
    -- request of anyone else naming this id is answered as for an unknown id.
    api_key_id        uuid,
    agent_id          uuid,
    token_id          uuid,
    -- The client's initialize params (protocol version, capabilities,
    -- clientInfo), which a replica continuing the session opens its
    -- upstream session with.
    initialize_params jsonb       NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    -- Updated at most every few seconds by the replicas serving it, not on
    -- every request.
    last_seen_at      timestamptz NOT NULL DEFAULT now()
);

-- The sweep of idle sessions.
CREATE INDEX gateway_sessions_last_seen_idx ON gateway_sessions (last_seen_at);

-- +goose Down
DROP TABLE gateway_sessions;
