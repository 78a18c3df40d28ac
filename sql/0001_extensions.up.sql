-- 0001 extensions: the three the spec lists, in schema public (shared by every schema of the
-- database; the test schema's search_path is `test, public`).
--
-- This file never names the target schema: the runner sets `search_path TO <schema>, public`
-- and wraps the file in a transaction.
--
-- chatgenius_extensions (in the target schema) records which extensions THIS migration created,
-- so that 0001's down drops only those, and only when nothing else still uses them.
-- Extensions that existed before are never recorded, so never dropped.

CREATE TABLE chatgenius_extensions (
    name TEXT PRIMARY KEY,
    created_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP
);

COMMENT ON TABLE chatgenius_extensions IS
    'chatgenius-db bookkeeping: extensions created by migration 0001 of this schema (dropped by its down when unused)';

DO $$
DECLARE
    ext TEXT;
BEGIN
    FOREACH ext IN ARRAY ARRAY['citext', 'pgcrypto', 'uuid-ossp'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = ext) THEN
            BEGIN
                EXECUTE pg_catalog.format('CREATE EXTENSION %I SCHEMA public', ext);
                INSERT INTO chatgenius_extensions (name) VALUES (ext);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                -- Another session (another schema's install) created it at the same moment: not ours.
                NULL;
            END;
        END IF;
    END LOOP;
END
$$;
