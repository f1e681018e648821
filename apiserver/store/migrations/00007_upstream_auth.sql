-- +goose Up
-- Upstream authentication beyond a bearer token (SPEC §9): extra headers,
-- OAuth 2.0 client credentials and TLS settings. upstream_auth holds what is
-- not secret ({"headerNames": [...], "oauth2": {...}, "tls": {...}}); the
-- secrets (header values, the client secret, the TLS client key) are sealed
-- together, as one JSON object, in auth_secrets_ciphertext, bound to the row
-- as the bearer token is.

ALTER TABLE mcp_connections
    ADD COLUMN upstream_auth           jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN auth_secrets_ciphertext bytea,
    ADD COLUMN auth_secrets_key_id     text,
    DROP CONSTRAINT mcp_connections_auth_type_check,
    ADD CONSTRAINT mcp_connections_auth_type_check CHECK (auth_type IN ('bearer', 'none', 'oauth2')),
    ADD CONSTRAINT mcp_connections_upstream_auth_check CHECK (jsonb_typeof(upstream_auth) = 'object'),
    ADD CONSTRAINT mcp_connections_auth_secrets_pair_check
        CHECK ((auth_secrets_ciphertext IS NULL) = (auth_secrets_key_id IS NULL)),
    -- oauth2 needs its settings; no other auth type keeps stale ones.
    ADD CONSTRAINT mcp_connections_oauth2_auth_check CHECK ((auth_type = 'oauth2') = (upstream_auth ? 'oauth2'));

-- Servers gain auth_type: bearer where a token is stored, none elsewhere.
ALTER TABLE mcp_servers
    ADD COLUMN auth_type               text  NOT NULL DEFAULT 'none',
    ADD COLUMN upstream_auth           jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN auth_secrets_ciphertext bytea,
    ADD COLUMN auth_secrets_key_id     text;

UPDATE mcp_servers SET auth_type = 'bearer' WHERE token_ciphertext IS NOT NULL;

ALTER TABLE mcp_servers
    ADD CONSTRAINT mcp_servers_auth_type_check CHECK (auth_type IN ('bearer', 'none', 'oauth2')),
    ADD CONSTRAINT mcp_servers_token_auth_check CHECK ((auth_type = 'bearer') = (token_ciphertext IS NOT NULL)),
    ADD CONSTRAINT mcp_servers_upstream_auth_check CHECK (jsonb_typeof(upstream_auth) = 'object'),
    ADD CONSTRAINT mcp_servers_auth_secrets_pair_check
        CHECK ((auth_secrets_ciphertext IS NULL) = (auth_secrets_key_id IS NULL)),
    ADD CONSTRAINT mcp_servers_oauth2_auth_check CHECK ((auth_type = 'oauth2') = (upstream_auth ? 'oauth2')),
    -- Credentials are only ever sent over HTTP.
    ADD CONSTRAINT mcp_servers_auth_transport_check CHECK (transport_type <> 'stdio'
        OR (auth_type = 'none' AND upstream_auth = '{}' AND auth_secrets_ciphertext IS NULL));

-- +goose Down
ALTER TABLE mcp_servers
    DROP CONSTRAINT mcp_servers_auth_transport_check,
    DROP CONSTRAINT mcp_servers_oauth2_auth_check,
    DROP CONSTRAINT mcp_servers_auth_secrets_pair_check,
    DROP CONSTRAINT mcp_servers_upstream_auth_check,
    DROP CONSTRAINT mcp_servers_token_auth_check,
    DROP CONSTRAINT mcp_servers_auth_type_check,
    DROP COLUMN auth_secrets_key_id,
    DROP COLUMN auth_secrets_ciphertext,
    DROP COLUMN upstream_auth,
    DROP COLUMN auth_type;

ALTER TABLE mcp_connections
    DROP CONSTRAINT mcp_connections_oauth2_auth_check,
    DROP CONSTRAINT mcp_connections_auth_secrets_pair_check,
    DROP CONSTRAINT mcp_connections_upstream_auth_check,
    DROP CONSTRAINT mcp_connections_auth_type_check;
-- The old schema has no oauth2: such connections are left without credentials.
UPDATE mcp_connections SET auth_type = 'none' WHERE auth_type = 'oauth2';
ALTER TABLE mcp_connections
    ADD CONSTRAINT mcp_connections_auth_type_check CHECK (auth_type IN ('bearer', 'none')),
    DROP COLUMN auth_secrets_key_id,
    DROP COLUMN auth_secrets_ciphertext,
    DROP COLUMN upstream_auth;
