-- +goose Up
-- The secret store (SPEC §11). The sealed columns now hold a secrets.Ref:
-- with the builtin backend the ciphertext and key id exactly as before, with
-- Infisical where the secret lives there (key id 'infisical'). A fingerprint
-- (a keyed hash of the value) lets a PATCH that resends the same secret skip
-- the backend; rows written before it have none and are compared by opening.

ALTER TABLE mcp_connections
    ADD COLUMN token_fingerprint        bytea,
    ADD COLUMN auth_secrets_fingerprint bytea;

ALTER TABLE mcp_servers
    ADD COLUMN token_fingerprint        bytea,
    ADD COLUMN auth_secrets_fingerprint bytea;

-- secret_cleanup is the outbox of secrets outside the database that no row
-- may point at any more. A write queues the secret it is about to Put as
-- pending before the Put and removes the entry in the transaction that points
-- its row at it, so a crash in between leaves the entry; replacing or deleting
-- a row queues its old secret in the same transaction. The cleanup worker
-- deletes what is due (pending entries only once they are older than any
-- write can take) and then the entry.
CREATE TABLE secret_cleanup (
    id         bigserial   PRIMARY KEY,
    key_id     text        NOT NULL,
    data       bytea       NOT NULL,
    pending    boolean     NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    due_at     timestamptz NOT NULL DEFAULT now(),
    attempts   integer     NOT NULL DEFAULT 0,
    last_error text
);

CREATE INDEX secret_cleanup_due_at_idx ON secret_cleanup (due_at);

-- +goose Down
DROP TABLE secret_cleanup;

ALTER TABLE mcp_servers
    DROP COLUMN auth_secrets_fingerprint,
    DROP COLUMN token_fingerprint;

ALTER TABLE mcp_connections
    DROP COLUMN auth_secrets_fingerprint,
    DROP COLUMN token_fingerprint;
