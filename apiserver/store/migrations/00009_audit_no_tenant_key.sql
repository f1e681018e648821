-- +goose Up
-- The audit log is append-only and outlives what it names: 00005 gave it
-- no foreign key to records, tokens or keys for that reason, and its tenant
-- key was the one exception. The API never deletes a tenant, and checking
-- the key cost PostgreSQL a trigger and an index probe on every row, about
-- a quarter of its CPU per gateway call audited (bench/README.md).
ALTER TABLE audit_events DROP CONSTRAINT IF EXISTS audit_events_tenant_id_fkey;

-- +goose Down
ALTER TABLE audit_events ADD CONSTRAINT audit_events_tenant_id_fkey
    FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE;
