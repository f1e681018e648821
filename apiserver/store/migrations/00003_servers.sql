-- +goose Up
-- Projects group a tenant's MCP servers. Ids are "proj_"/"mcp_" plus random
-- base62 characters, assigned by the application.

CREATE TABLE projects (
    id          text        PRIMARY KEY CHECK (id ~ '^proj_[A-Za-z0-9]{1,64}$'),
    tenant_id   uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name        text        NOT NULL CHECK (name <> ''),
    description text,
    created_at  timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
    updated_at  timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
    CONSTRAINT projects_tenant_id_name_key UNIQUE (tenant_id, name),
    -- The target of mcp_servers' tenant-scoped foreign key.
    CONSTRAINT projects_tenant_id_id_key UNIQUE (tenant_id, id)
);

CREATE INDEX projects_list_idx ON projects (tenant_id, created_at, id);

CREATE TABLE mcp_servers (
    -- Assigned by the caller: the sealed token's associated data names the row.
    id                text        PRIMARY KEY CHECK (id ~ '^mcp_[A-Za-z0-9]{1,64}$'),
    tenant_id         uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    project_id        text        NOT NULL,
    name              text        NOT NULL CHECK (name <> ''),
    description       text,
    url               text,
    transport_type    text        NOT NULL CHECK (transport_type IN ('stdio', 'http', 'sse')),
    connection_type   text        NOT NULL DEFAULT 'direct' CHECK (connection_type IN ('direct', 'proxy')),
    command           text,
    args              text[],
    token_ciphertext  bytea,
    token_key_id      text,
    status            text        NOT NULL DEFAULT 'connecting'
                                  CHECK (status IN ('connecting', 'connected', 'disconnected', 'error')),
    -- {"tools":bool,"resources":bool,"prompts":bool} from the last successful handshake.
    capabilities      jsonb,
    server_name       text,
    server_version    text,
    last_error        text,
    last_connected_at timestamptz,
    -- When the health scheduler should probe the row next (it never claims
    -- disconnected rows); new rows are due at once.
    next_check_at     timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
    created_at        timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
    updated_at        timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
    -- The project must be the same tenant's. NO ACTION rather than RESTRICT,
    -- so deleting a tenant (which cascades to both tables) is not refused;
    -- deleting a project that still has servers is.
    CONSTRAINT mcp_servers_project_fkey FOREIGN KEY (tenant_id, project_id)
        REFERENCES projects (tenant_id, id) ON DELETE NO ACTION,
    -- tenant_id first: a clash must never be decided against another
    -- tenant's row, or a name check would reveal what that tenant has.
    CONSTRAINT mcp_servers_project_id_name_key UNIQUE (tenant_id, project_id, name),
    -- url is for http and sse only; command and args for stdio only.
    CONSTRAINT mcp_servers_transport_fields_check CHECK (
        CASE WHEN transport_type = 'stdio'
            THEN url IS NULL AND command IS NOT NULL AND args IS NOT NULL
            ELSE url IS NOT NULL AND command IS NULL AND args IS NULL
        END),
    CONSTRAINT mcp_servers_token_pair_check CHECK ((token_ciphertext IS NULL) = (token_key_id IS NULL)),
    -- A token is only ever sent over HTTP.
    CONSTRAINT mcp_servers_token_transport_check CHECK (token_ciphertext IS NULL OR transport_type <> 'stdio'),
    CONSTRAINT mcp_servers_capabilities_check CHECK (capabilities IS NULL OR jsonb_typeof(capabilities) = 'object')
);

CREATE INDEX mcp_servers_list_idx ON mcp_servers (tenant_id, created_at, id);
-- The scheduler claims due rows that are not disconnected.
CREATE INDEX mcp_servers_next_check_at_idx ON mcp_servers (next_check_at) WHERE status <> 'disconnected';

-- +goose Down
DROP TABLE mcp_servers;
DROP TABLE projects;
