-- 0003 integrity: ULID keys, enum CHECKs, non-negative sizes and deliberate ON DELETE rules.
--
-- Online: every CHECK and foreign key is added NOT VALID (a catalog update: new rows are checked
-- at once, existing rows are not scanned under a lock that blocks writes), then VALIDATEd
-- (a scan under SHARE UPDATE EXCLUSIVE: reads and writes go on). On a database that holds rows
-- the engine runs each statement in a transaction of its own; on a fresh one, the whole file
-- in one transaction. Every statement can run again (a crash in the middle resumes cleanly).
--
-- Functions here never depend on the caller's search_path: every built-in is schema-qualified
-- (pg_catalog.*) and nothing from an extension is used (gen_random_uuid() is core since
-- PostgreSQL 13), so the default works in any schema (public, test, ...) whatever the session's
-- search_path is.

-- A ULID: 26 characters of upper-case Crockford base32. 10 characters of time (milliseconds
-- since the epoch from clock_timestamp(), 48 bits, so the first character is 0-7) and
-- 16 characters (80 bits) of randomness taken from the fully random bytes of a version-4 UUID.
CREATE OR REPLACE FUNCTION chatgenius_ulid() RETURNS TEXT
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    alphabet CONSTANT TEXT := '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
    ms BIGINT := pg_catalog.floor(pg_catalog.date_part('epoch', pg_catalog.clock_timestamp()) * 1000)::BIGINT;
    -- bytes 0-4 and 11-15 of a v4 UUID are random (byte 6 carries the version, byte 8 the variant)
    r BYTEA := pg_catalog.uuid_send(pg_catalog.gen_random_uuid());
    hi BIGINT := (pg_catalog.get_byte(r, 0)::BIGINT << 32) | (pg_catalog.get_byte(r, 1)::BIGINT << 24)
               | (pg_catalog.get_byte(r, 2)::BIGINT << 16) | (pg_catalog.get_byte(r, 3)::BIGINT << 8)
               | pg_catalog.get_byte(r, 4)::BIGINT;
    lo BIGINT := (pg_catalog.get_byte(r, 11)::BIGINT << 32) | (pg_catalog.get_byte(r, 12)::BIGINT << 24)
               | (pg_catalog.get_byte(r, 13)::BIGINT << 16) | (pg_catalog.get_byte(r, 14)::BIGINT << 8)
               | pg_catalog.get_byte(r, 15)::BIGINT;
    result TEXT := '';
    i INT;
BEGIN
    FOR i IN 0..9 LOOP
        result := result || pg_catalog.substr(alphabet, ((ms >> (45 - 5 * i)) & 31)::INT + 1, 1);
    END LOOP;
    FOR i IN 0..7 LOOP
        result := result || pg_catalog.substr(alphabet, ((hi >> (35 - 5 * i)) & 31)::INT + 1, 1);
    END LOOP;
    FOR i IN 0..7 LOOP
        result := result || pg_catalog.substr(alphabet, ((lo >> (35 - 5 * i)) & 31)::INT + 1, 1);
    END LOOP;
    RETURN result;
END
$$;

COMMENT ON FUNCTION chatgenius_ulid() IS 'A new ULID (26 chars, Crockford base32, millisecond time + 80 random bits): the default of every id column';

-- Every id is a ULID: a default that makes one, and a CHECK that refuses anything else.
-- (*_id columns that reference an id are covered by their foreign key.)
ALTER TABLE users
    ALTER COLUMN id SET DEFAULT chatgenius_ulid(),
    DROP CONSTRAINT IF EXISTS users_id_ulid_check,
    ADD CONSTRAINT users_id_ulid_check CHECK (id ~ '^[0-7][0-9A-HJKMNP-TV-Z]{25}$') NOT VALID;
ALTER TABLE channels
    ALTER COLUMN id SET DEFAULT chatgenius_ulid(),
    DROP CONSTRAINT IF EXISTS channels_id_ulid_check,
    ADD CONSTRAINT channels_id_ulid_check CHECK (id ~ '^[0-7][0-9A-HJKMNP-TV-Z]{25}$') NOT VALID;
ALTER TABLE messages
    ALTER COLUMN id SET DEFAULT chatgenius_ulid(),
    DROP CONSTRAINT IF EXISTS messages_id_ulid_check,
    ADD CONSTRAINT messages_id_ulid_check CHECK (id ~ '^[0-7][0-9A-HJKMNP-TV-Z]{25}$') NOT VALID;
ALTER TABLE reactions
    ALTER COLUMN id SET DEFAULT chatgenius_ulid(),
    DROP CONSTRAINT IF EXISTS reactions_id_ulid_check,
    ADD CONSTRAINT reactions_id_ulid_check CHECK (id ~ '^[0-7][0-9A-HJKMNP-TV-Z]{25}$') NOT VALID;
ALTER TABLE files
    ALTER COLUMN id SET DEFAULT chatgenius_ulid(),
    DROP CONSTRAINT IF EXISTS files_id_ulid_check,
    ADD CONSTRAINT files_id_ulid_check CHECK (id ~ '^[0-7][0-9A-HJKMNP-TV-Z]{25}$') NOT VALID;
ALTER TABLE sync_state
    ALTER COLUMN id SET DEFAULT chatgenius_ulid(),
    DROP CONSTRAINT IF EXISTS sync_state_id_ulid_check,
    ADD CONSTRAINT sync_state_id_ulid_check CHECK (id ~ '^[0-7][0-9A-HJKMNP-TV-Z]{25}$') NOT VALID;

-- Enums as CHECKs, sizes non-negative.
ALTER TABLE channel_members
    DROP CONSTRAINT IF EXISTS channel_members_role_check,
    ADD CONSTRAINT channel_members_role_check CHECK (role IN ('owner', 'admin', 'member')) NOT VALID;
ALTER TABLE user_status
    DROP CONSTRAINT IF EXISTS user_status_status_check,
    ADD CONSTRAINT user_status_status_check CHECK (status IN ('online', 'away', 'busy', 'offline')) NOT VALID;
ALTER TABLE user_settings
    DROP CONSTRAINT IF EXISTS user_settings_theme_check,
    ADD CONSTRAINT user_settings_theme_check CHECK (theme IN ('light', 'dark', 'system')) NOT VALID;
ALTER TABLE sync_state
    DROP CONSTRAINT IF EXISTS sync_state_sync_type_check,
    ADD CONSTRAINT sync_state_sync_type_check CHECK (sync_type IN ('full', 'incremental')) NOT VALID;
ALTER TABLE files
    DROP CONSTRAINT IF EXISTS files_size_check,
    ADD CONSTRAINT files_size_check CHECK (size >= 0) NOT VALID;

-- Deliberate ON DELETE rules (same constraint names as the spec's, so the down restores them).
--   Messages are never removed by a cascade: messages -> channels and messages -> users keep
--   the spec's NO ACTION on purpose, so deleting a user or a channel that still has messages is
--   refused with SQLSTATE 23503 (foreign_key_violation) on every PostgreSQL version (RESTRICT
--   reports 23001 on recent ones). Soft delete (deleted_at) is the way.
--   Everything hanging off a user, a channel or a message goes with it (CASCADE):
--   memberships, reactions, files, settings, status, read receipts, sync state.
ALTER TABLE channel_members
    DROP CONSTRAINT IF EXISTS channel_members_channel_id_fkey,
    ADD CONSTRAINT channel_members_channel_id_fkey FOREIGN KEY (channel_id) REFERENCES channels(id) ON DELETE CASCADE NOT VALID,
    DROP CONSTRAINT IF EXISTS channel_members_user_id_fkey,
    ADD CONSTRAINT channel_members_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE NOT VALID;
ALTER TABLE reactions
    DROP CONSTRAINT IF EXISTS reactions_message_id_fkey,
    ADD CONSTRAINT reactions_message_id_fkey FOREIGN KEY (message_id) REFERENCES messages(id) ON DELETE CASCADE NOT VALID,
    DROP CONSTRAINT IF EXISTS reactions_user_id_fkey,
    ADD CONSTRAINT reactions_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE NOT VALID;
ALTER TABLE files
    DROP CONSTRAINT IF EXISTS files_message_id_fkey,
    ADD CONSTRAINT files_message_id_fkey FOREIGN KEY (message_id) REFERENCES messages(id) ON DELETE CASCADE NOT VALID;
ALTER TABLE user_settings
    DROP CONSTRAINT IF EXISTS user_settings_user_id_fkey,
    ADD CONSTRAINT user_settings_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE NOT VALID;
ALTER TABLE user_status
    DROP CONSTRAINT IF EXISTS user_status_user_id_fkey,
    ADD CONSTRAINT user_status_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE NOT VALID;
ALTER TABLE message_reads
    DROP CONSTRAINT IF EXISTS message_reads_message_id_fkey,
    ADD CONSTRAINT message_reads_message_id_fkey FOREIGN KEY (message_id) REFERENCES messages(id) ON DELETE CASCADE NOT VALID,
    DROP CONSTRAINT IF EXISTS message_reads_user_id_fkey,
    ADD CONSTRAINT message_reads_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE NOT VALID;
ALTER TABLE sync_state
    DROP CONSTRAINT IF EXISTS sync_state_user_id_fkey,
    ADD CONSTRAINT sync_state_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE NOT VALID;

-- Now check the rows that were there before (reads and writes go on meanwhile).
ALTER TABLE users VALIDATE CONSTRAINT users_id_ulid_check;
ALTER TABLE channels VALIDATE CONSTRAINT channels_id_ulid_check;
ALTER TABLE messages VALIDATE CONSTRAINT messages_id_ulid_check;
ALTER TABLE reactions VALIDATE CONSTRAINT reactions_id_ulid_check;
ALTER TABLE files VALIDATE CONSTRAINT files_id_ulid_check;
ALTER TABLE sync_state VALIDATE CONSTRAINT sync_state_id_ulid_check;
ALTER TABLE channel_members VALIDATE CONSTRAINT channel_members_role_check;
ALTER TABLE user_status VALIDATE CONSTRAINT user_status_status_check;
ALTER TABLE user_settings VALIDATE CONSTRAINT user_settings_theme_check;
ALTER TABLE sync_state VALIDATE CONSTRAINT sync_state_sync_type_check;
ALTER TABLE files VALIDATE CONSTRAINT files_size_check;
ALTER TABLE channel_members VALIDATE CONSTRAINT channel_members_channel_id_fkey;
ALTER TABLE channel_members VALIDATE CONSTRAINT channel_members_user_id_fkey;
ALTER TABLE reactions VALIDATE CONSTRAINT reactions_message_id_fkey;
ALTER TABLE reactions VALIDATE CONSTRAINT reactions_user_id_fkey;
ALTER TABLE files VALIDATE CONSTRAINT files_message_id_fkey;
ALTER TABLE user_settings VALIDATE CONSTRAINT user_settings_user_id_fkey;
ALTER TABLE user_status VALIDATE CONSTRAINT user_status_user_id_fkey;
ALTER TABLE message_reads VALIDATE CONSTRAINT message_reads_message_id_fkey;
ALTER TABLE message_reads VALIDATE CONSTRAINT message_reads_user_id_fkey;
ALTER TABLE sync_state VALIDATE CONSTRAINT sync_state_user_id_fkey;
