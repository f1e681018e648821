-- +goose Up
-- The gateway's records (SPEC §10): agents, their ordered assignments of
-- connections and proxied servers, their tokens, and the audit log of API
-- writes and gateway calls.

-- What a server's last passing check returned from the handshake, as for
-- connections: an agent's instructions are composed from it.
ALTER TABLE mcp_servers ADD COLUMN instructions text;

-- The targets of the assignments' tenant-scoped foreign keys, so that an
-- assignment can only ever name a record of its agent's own tenant.
ALTER TABLE mcp_connections ADD CONSTRAINT mcp_connections_tenant_id_id_key UNIQUE (tenant_id, id);
ALTER TABLE mcp_servers ADD CONSTRAINT mcp_servers_tenant_id_id_key UNIQUE (tenant_id, id);

CREATE TABLE agents (
    -- A version 7 UUID assigned by the application, as for connections.
    id          uuid        PRIMARY KEY,
    tenant_id   uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name        text        NOT NULL CHECK (name <> ''),
    description text,
    created_at  timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
    updated_at  timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
    CONSTRAINT agents_tenant_id_name_key UNIQUE (tenant_id, name),
    CONSTRAINT agents_tenant_id_id_key UNIQUE (tenant_id, id)
);

CREATE INDEX agents_list_idx ON agents (tenant_id, created_at, id);

-- Deleting an assigned connection or server removes its assignments
-- (ON DELETE CASCADE): the record is gone, so is the agent's use of it, and
-- the agent keeps its other assignments. Refusing the delete instead would
-- make every record removal in Terraform depend on editing agents first.
CREATE TABLE agent_assignments (
    tenant_id     uuid    NOT NULL,
    agent_id      uuid    NOT NULL,
    -- The assignment's place in the agent's list, from 0.
    position      integer NOT NULL CHECK (position >= 0),
    connection_id uuid,
    server_id     text,
    prefix        text    NOT NULL CHECK (prefix ~ '^[a-z0-9_]{1,32}$' AND strpos(prefix, '__') = 0),
    -- NULL: every tool of the record.
    allowed_tools text[],
    PRIMARY KEY (agent_id, position),
    CONSTRAINT agent_assignments_agent_fkey FOREIGN KEY (tenant_id, agent_id)
        REFERENCES agents (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT agent_assignments_connection_fkey FOREIGN KEY (tenant_id, connection_id)
        REFERENCES mcp_connections (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT agent_assignments_server_fkey FOREIGN KEY (tenant_id, server_id)
        REFERENCES mcp_servers (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT agent_assignments_prefix_key UNIQUE (agent_id, prefix),
    CONSTRAINT agent_assignments_record_check CHECK (num_nonnulls(connection_id, server_id) = 1)
);

-- The cascades and the "is this server assigned" check look assignments up by record.
CREATE INDEX agent_assignments_connection_idx ON agent_assignments (connection_id) WHERE connection_id IS NOT NULL;
CREATE INDEX agent_assignments_server_idx ON agent_assignments (server_id) WHERE server_id IS NOT NULL;

CREATE TABLE agent_tokens (
    id         uuid        PRIMARY KEY,
    tenant_id  uuid        NOT NULL,
    agent_id   uuid        NOT NULL,
    name       text        NOT NULL CHECK (name <> ''),
    -- SHA-256 of the token, as for API keys: the token itself is never stored.
    token_hash bytea       NOT NULL CONSTRAINT agent_tokens_token_hash_key UNIQUE,
    expires_at timestamptz,
    -- Revoked tokens are kept, so audit events still name a token that existed.
    revoked_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
    CONSTRAINT agent_tokens_agent_fkey FOREIGN KEY (tenant_id, agent_id)
        REFERENCES agents (tenant_id, id) ON DELETE CASCADE
);

CREATE INDEX agent_tokens_list_idx ON agent_tokens (agent_id, created_at, id);

-- No foreign keys: an event outlives the records, tokens and keys it names.
CREATE TABLE audit_events (
    id          uuid        PRIMARY KEY,
    tenant_id   uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    at          timestamptz NOT NULL,
    action      text        NOT NULL CHECK (action <> ''),
    agent_id    uuid,
    token_id    uuid,
    api_key_id  uuid,
    record_kind text,
    record_id   text,
    tool        text,
    outcome     text        NOT NULL CHECK (outcome IN ('ok', 'error', 'blocked', 'unavailable')),
    duration_ms bigint,
    error       text
);

-- Newest first, by keyset; the filters narrow it per agent and per record.
CREATE INDEX audit_events_list_idx ON audit_events (tenant_id, at DESC, id DESC);
CREATE INDEX audit_events_agent_idx ON audit_events (tenant_id, agent_id, at DESC, id DESC) WHERE agent_id IS NOT NULL;
CREATE INDEX audit_events_record_idx ON audit_events (tenant_id, record_id, at DESC, id DESC) WHERE record_id IS NOT NULL;

-- +goose Down
DROP TABLE audit_events;
DROP TABLE agent_tokens;
DROP TABLE agent_assignments;
DROP TABLE agents;
ALTER TABLE mcp_servers DROP CONSTRAINT mcp_servers_tenant_id_id_key;
ALTER TABLE mcp_connections DROP CONSTRAINT mcp_connections_tenant_id_id_key;
ALTER TABLE mcp_servers DROP COLUMN instructions;
