-- +goose Up
-- What a check reads back (SPEC §8): the negotiated protocol, why a check
-- failed for machines, the tool catalog with its hashes, the history of
-- checks and of catalog changes. Both record kinds get the same columns;
-- the side tables name their record by one of two foreign keys, so a
-- record's rows go with it.

ALTER TABLE mcp_connections
    ADD COLUMN protocol_version    text,
    ADD COLUMN last_error_kind     text,
    ADD COLUMN capabilities        jsonb,
    ADD COLUMN server_name         text,
    ADD COLUMN server_version      text,
    ADD COLUMN tool_count          integer,
    ADD COLUMN tools_hash          text,
    ADD COLUMN tools_changed_at    timestamptz,
    ADD COLUMN approved_tools_hash text,
    -- The stored catalog (catalogs.content_hash) the last passing check saw,
    -- and when; an unchanged catalog only moves catalog_observed_at.
    ADD COLUMN catalog_hash        text,
    ADD COLUMN catalog_observed_at timestamptz,
    -- Checks recorded so far: the sequence number of the newest history row.
    ADD COLUMN check_seq           bigint NOT NULL DEFAULT 0,
    ADD CONSTRAINT mcp_connections_last_error_kind_check CHECK (last_error_kind IN
        ('unreachable', 'timeout', 'tls', 'auth', 'blocked', 'protocol', 'server_error')),
    ADD CONSTRAINT mcp_connections_capabilities_check CHECK (capabilities IS NULL OR jsonb_typeof(capabilities) = 'object');

ALTER TABLE mcp_servers
    ADD COLUMN protocol_version    text,
    ADD COLUMN last_error_kind     text,
    ADD COLUMN tool_count          integer,
    ADD COLUMN tools_hash          text,
    ADD COLUMN tools_changed_at    timestamptz,
    ADD COLUMN approved_tools_hash text,
    ADD COLUMN catalog_hash        text,
    ADD COLUMN catalog_observed_at timestamptz,
    ADD COLUMN check_seq           bigint NOT NULL DEFAULT 0,
    ADD CONSTRAINT mcp_servers_last_error_kind_check CHECK (last_error_kind IN
        ('unreachable', 'timeout', 'tls', 'auth', 'blocked', 'protocol', 'server_error'));

-- One row per distinct catalog a record has had: a catalog seen again is not
-- written again, and approved_tools_hash can be checked against (and later
-- enforced from) the catalogs a record really had.
CREATE TABLE catalogs (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    connection_id uuid        REFERENCES mcp_connections (id) ON DELETE CASCADE,
    server_id     text        REFERENCES mcp_servers (id) ON DELETE CASCADE,
    content_hash  text        NOT NULL,
    tools_hash    text        NOT NULL,
    -- json, not jsonb: schemas are served back exactly as the server sent them.
    body          json        NOT NULL,
    first_seen_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
    CONSTRAINT catalogs_record_check CHECK (num_nonnulls(connection_id, server_id) = 1)
);
CREATE UNIQUE INDEX catalogs_connection_idx ON catalogs (connection_id, content_hash) WHERE connection_id IS NOT NULL;
CREATE UNIQUE INDEX catalogs_server_idx ON catalogs (server_id, content_hash) WHERE server_id IS NOT NULL;
CREATE INDEX catalogs_connection_tools_idx ON catalogs (connection_id, tools_hash) WHERE connection_id IS NOT NULL;
CREATE INDEX catalogs_server_tools_idx ON catalogs (server_id, tools_hash) WHERE server_id IS NOT NULL;

-- One row per check, numbered per record; the oldest beyond the kept count
-- are deleted by number through the index, never by scanning.
CREATE TABLE check_history (
    connection_id    uuid        REFERENCES mcp_connections (id) ON DELETE CASCADE,
    server_id        text        REFERENCES mcp_servers (id) ON DELETE CASCADE,
    seq              bigint      NOT NULL,
    at               timestamptz NOT NULL,
    ok               boolean     NOT NULL,
    duration_ms      integer     NOT NULL,
    protocol_version text,
    error_kind       text,
    error            text,
    tools_hash       text,
    CONSTRAINT check_history_record_check CHECK (num_nonnulls(connection_id, server_id) = 1)
);
CREATE UNIQUE INDEX check_history_connection_idx ON check_history (connection_id, seq) WHERE connection_id IS NOT NULL;
CREATE UNIQUE INDEX check_history_server_idx ON check_history (server_id, seq) WHERE server_id IS NOT NULL;

CREATE TABLE catalog_changes (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    connection_id uuid        REFERENCES mcp_connections (id) ON DELETE CASCADE,
    server_id     text        REFERENCES mcp_servers (id) ON DELETE CASCADE,
    at            timestamptz NOT NULL,
    from_hash     text,
    to_hash       text        NOT NULL,
    tools_added   text[]      NOT NULL,
    tools_removed text[]      NOT NULL,
    tools_changed text[]      NOT NULL,
    CONSTRAINT catalog_changes_record_check CHECK (num_nonnulls(connection_id, server_id) = 1)
);
CREATE INDEX catalog_changes_connection_idx ON catalog_changes (connection_id, id) WHERE connection_id IS NOT NULL;
CREATE INDEX catalog_changes_server_idx ON catalog_changes (server_id, id) WHERE server_id IS NOT NULL;

-- +goose Down
DROP TABLE catalog_changes;
DROP TABLE check_history;
DROP TABLE catalogs;
ALTER TABLE mcp_servers
    DROP COLUMN protocol_version, DROP COLUMN last_error_kind, DROP COLUMN tool_count,
    DROP COLUMN tools_hash, DROP COLUMN tools_changed_at, DROP COLUMN approved_tools_hash,
    DROP COLUMN catalog_hash, DROP COLUMN catalog_observed_at, DROP COLUMN check_seq;
ALTER TABLE mcp_connections
    DROP COLUMN protocol_version, DROP COLUMN last_error_kind, DROP COLUMN capabilities,
    DROP COLUMN server_name, DROP COLUMN server_version, DROP COLUMN tool_count,
    DROP COLUMN tools_hash, DROP COLUMN tools_changed_at, DROP COLUMN approved_tools_hash,
    DROP COLUMN catalog_hash, DROP COLUMN catalog_observed_at, DROP COLUMN check_seq;
