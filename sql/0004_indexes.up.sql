-- 0004 indexes: the queries a chat makes, plus a read cursor per member for unread counts.
--
-- Online: every index on a table that may hold rows is built CONCURRENTLY (reads and writes go
-- on; the engine runs each statement on its own, outside a transaction, and drops a half-built
-- INVALID index left by an interrupted build before building it again). On a fresh database the
-- engine runs the file plainly in one transaction. Every statement can run again.
--
-- Soft delete: users, channels and messages are never hard-deleted by the app; it sets
-- deleted_at. Active-row indexes are partial (WHERE deleted_at IS NULL): a soft-deleted row stays
-- in its table but drops out of them, so the hot queries never wade through deleted rows.

-- Messages of a channel, newest first, among the not deleted; keyset pagination:
--   SELECT ... FROM messages WHERE channel_id = $1 AND deleted_at IS NULL
--    AND (created_at, id) < ($2, $3) ORDER BY created_at DESC, id DESC LIMIT 50;
CREATE INDEX CONCURRENTLY IF NOT EXISTS messages_channel_active_idx ON messages (channel_id, created_at DESC, id DESC)
    WHERE deleted_at IS NULL;
-- Messages changed since a sync point (offline clients), deleted ones included so that clients
-- learn about soft deletes; also serves the RESTRICT check when a channel is deleted.
CREATE INDEX CONCURRENTLY IF NOT EXISTS messages_channel_updated_idx ON messages (channel_id, updated_at, id);
-- A user's messages; also serves the RESTRICT check when a user is deleted.
CREATE INDEX CONCURRENTLY IF NOT EXISTS messages_user_id_idx ON messages (user_id);

-- A user by e-mail, case-insensitive: WHERE lower(email) = lower($1).
CREATE INDEX CONCURRENTLY IF NOT EXISTS users_email_lower_idx ON users (pg_catalog.lower(email));
-- Active users by name (mentions, search).
CREATE INDEX CONCURRENTLY IF NOT EXISTS users_active_username_idx ON users (pg_catalog.lower(username))
    WHERE deleted_at IS NULL;
-- Active channels by name (channel list, search).
CREATE INDEX CONCURRENTLY IF NOT EXISTS channels_active_name_idx ON channels (pg_catalog.lower(name))
    WHERE deleted_at IS NULL;

-- Members of a channel: the primary key (channel_id, user_id). Channels of a user:
CREATE INDEX CONCURRENTLY IF NOT EXISTS channel_members_user_idx ON channel_members (user_id, channel_id);
-- Reactions by message: the unique (message_id, user_id, emoji). Reactions by user (cascade):
CREATE INDEX CONCURRENTLY IF NOT EXISTS reactions_user_id_idx ON reactions (user_id);
-- Files by message (and the cascade from messages).
CREATE INDEX CONCURRENTLY IF NOT EXISTS files_message_id_idx ON files (message_id);
-- Read receipts by user (and the cascade from users); by message: the primary key.
CREATE INDEX CONCURRENTLY IF NOT EXISTS message_reads_user_idx ON message_reads (user_id, read_at DESC);
-- Sync state by user.
CREATE INDEX CONCURRENTLY IF NOT EXISTS sync_state_user_idx ON sync_state (user_id, sync_type, last_sync DESC);

-- Unread counts. One row per (user, channel): the newest message the user has read in the
-- channel, kept by a trigger on message_reads. The unread count is then an index-only scan of
-- messages_channel_active_idx:
--   SELECT count(*) FROM messages m
--    WHERE m.channel_id = $channel AND m.deleted_at IS NULL
--      AND (m.created_at, m.id) > (SELECT last_read_at, last_read_message_id
--                                    FROM channel_read_cursors WHERE user_id = $user AND channel_id = $channel);
CREATE TABLE IF NOT EXISTS channel_read_cursors (
    user_id VARCHAR(26) NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    channel_id VARCHAR(26) NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    last_read_at TIMESTAMPTZ NOT NULL,
    last_read_message_id VARCHAR(26) NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (user_id, channel_id)
);
CREATE INDEX IF NOT EXISTS channel_read_cursors_channel_idx ON channel_read_cursors (channel_id);

COMMENT ON TABLE channel_read_cursors IS
    'Per member: newest message read in a channel (created_at, id), kept by a trigger on message_reads; for unread counts';

-- Move the cursor forward (never back) when a read receipt arrives. Works in any schema: the
-- tables are found through the trigger's own schema (TG_TABLE_SCHEMA), not the search_path.
CREATE OR REPLACE FUNCTION chatgenius_advance_read_cursor() RETURNS TRIGGER
LANGUAGE plpgsql
AS $$
BEGIN
    EXECUTE pg_catalog.format(
        'INSERT INTO %1$I.channel_read_cursors AS c (user_id, channel_id, last_read_at, last_read_message_id, updated_at)
         SELECT $1, m.channel_id, m.created_at, m.id, pg_catalog.now() FROM %1$I.messages m WHERE m.id = $2
         ON CONFLICT (user_id, channel_id) DO UPDATE
            SET last_read_at = EXCLUDED.last_read_at,
                last_read_message_id = EXCLUDED.last_read_message_id,
                updated_at = EXCLUDED.updated_at
          WHERE (c.last_read_at, c.last_read_message_id) < (EXCLUDED.last_read_at, EXCLUDED.last_read_message_id)',
        TG_TABLE_SCHEMA)
    USING NEW.user_id, NEW.message_id;
    RETURN NULL;
END
$$;

-- Existing read receipts (a database adopted with baseline): start the cursors from them,
-- BEFORE the trigger exists: nobody else writes cursors yet, so no insert of the app waits on
-- this (long, on a big table) statement's new rows.
INSERT INTO channel_read_cursors AS c (user_id, channel_id, last_read_at, last_read_message_id)
SELECT DISTINCT ON (r.user_id, m.channel_id) r.user_id, m.channel_id, m.created_at, m.id
  FROM message_reads r JOIN messages m ON m.id = r.message_id
 ORDER BY r.user_id, m.channel_id, m.created_at DESC, m.id DESC
ON CONFLICT (user_id, channel_id) DO UPDATE
   SET last_read_at = EXCLUDED.last_read_at, last_read_message_id = EXCLUDED.last_read_message_id
 WHERE (c.last_read_at, c.last_read_message_id) < (EXCLUDED.last_read_at, EXCLUDED.last_read_message_id);

CREATE OR REPLACE TRIGGER message_reads_advance_cursor
    AFTER INSERT OR UPDATE OF message_id, user_id ON message_reads
    FOR EACH ROW EXECUTE FUNCTION chatgenius_advance_read_cursor();

-- Catch up with the receipts that arrived while the fill above ran (its snapshot did not see
-- them): those of the last minutes before it, never moving a cursor back. Few rows, so the app's
-- own cursor updates wait on it for milliseconds at most.
INSERT INTO channel_read_cursors AS c (user_id, channel_id, last_read_at, last_read_message_id)
SELECT DISTINCT ON (r.user_id, m.channel_id) r.user_id, m.channel_id, m.created_at, m.id
  FROM message_reads r JOIN messages m ON m.id = r.message_id
 WHERE r.read_at >= (SELECT COALESCE(pg_catalog.max(x.updated_at), '-infinity'::TIMESTAMPTZ) FROM channel_read_cursors x) - INTERVAL '5 minutes'
 ORDER BY r.user_id, m.channel_id, m.created_at DESC, m.id DESC
ON CONFLICT (user_id, channel_id) DO UPDATE
   SET last_read_at = EXCLUDED.last_read_at, last_read_message_id = EXCLUDED.last_read_message_id
 WHERE (c.last_read_at, c.last_read_message_id) < (EXCLUDED.last_read_at, EXCLUDED.last_read_message_id);
