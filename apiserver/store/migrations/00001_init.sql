-- +goose Up
-- Timestamps are truncated to milliseconds when written, because the API
-- returns millisecond precision and what it returns must equal what is stored.

CREATE TABLE tenants (
    id         uuid        PRIMARY KEY,
    name       text        NOT NULL CHECK (name <> ''),
    created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now())
);

CREATE TABLE api_keys (
    id         uuid        PRIMARY KEY,
    tenant_id  uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    key_hash   bytea       NOT NULL CONSTRAINT api_keys_key_hash_key UNIQUE,
    created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
    revoked_at timestamptz
);

CREATE INDEX api_keys_tenant_id_idx ON api_keys (tenant_id);

CREATE TABLE mcp_connections (
    -- Assigned by the caller: the sealed token's associated data names the
    -- row, so the id must be known before the INSERT.
    id                   uuid        PRIMARY KEY,
    tenant_id            uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name                 text        NOT NULL,
    server_url           text        NOT NULL,
    auth_type            text        NOT NULL CHECK (auth_type IN ('bearer', 'none')),
    token_ciphertext     bytea,
    token_key_id         text,
    status               text        NOT NULL DEFAULT 'unknown' CHECK (status IN ('active', 'error', 'unknown')),
    instructions         text,
    last_error           text,
    last_health_check_at timestamptz,
    -- When the health scheduler should check the row next; new rows are due at once.
    next_check_at        timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
    created_at           timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
    updated_at           timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
    CONSTRAINT mcp_connections_tenant_id_name_key UNIQUE (tenant_id, name),
    -- A ciphertext is useless without the id of the key that sealed it.
    CONSTRAINT mcp_connections_token_pair_check CHECK ((token_ciphertext IS NULL) = (token_key_id IS NULL)),
    -- bearer needs a token to send; none must not keep a stale one around.
    CONSTRAINT mcp_connections_token_auth_check CHECK ((auth_type = 'bearer') = (token_ciphertext IS NOT NULL))
);

-- Keyset pagination walks (created_at, id) within a tenant.
CREATE INDEX mcp_connections_list_idx ON mcp_connections (tenant_id, created_at, id);
-- The scheduler claims rows whose next_check_at has passed.
CREATE INDEX mcp_connections_next_check_at_idx ON mcp_connections (next_check_at);

-- +goose Down
DROP TABLE mcp_connections;
DROP TABLE api_keys;
DROP TABLE tenants;
