-- 0005 triggers: updated_at kept by the database, and real-time notifications.
--
-- CREATE TRIGGER takes SHARE ROW EXCLUSIVE on its table (writes wait, reads go on). One LOCK up
-- front takes them all, children before their parents (the order the app's inserts take them),
-- so no insert can hold a table this file still needs while waiting for one it already has.
LOCK TABLE message_reads, channel_read_cursors, reactions, channel_members, user_status, messages, channels, users
    IN SHARE ROW EXCLUSIVE MODE;
--
-- updated_at: a BEFORE UPDATE trigger on every table that has the column (users, channels,
-- messages, channel_read_cursors) sets it to now() whenever the row really changes (an UPDATE
-- that changes nothing leaves it alone). A soft delete (setting deleted_at) is a change too, so
-- "changed since" queries see deletions.
CREATE FUNCTION chatgenius_set_updated_at() RETURNS TRIGGER
LANGUAGE plpgsql
AS $$
BEGIN
    -- *<> compares the rows' stored images: works for every column type (json has no "=")
    IF NEW OPERATOR(pg_catalog.*<>) OLD THEN
        NEW.updated_at := pg_catalog.now();
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER users_set_updated_at BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION chatgenius_set_updated_at();
CREATE TRIGGER channels_set_updated_at BEFORE UPDATE ON channels
    FOR EACH ROW EXECUTE FUNCTION chatgenius_set_updated_at();
CREATE TRIGGER messages_set_updated_at BEFORE UPDATE ON messages
    FOR EACH ROW EXECUTE FUNCTION chatgenius_set_updated_at();
CREATE TRIGGER channel_read_cursors_set_updated_at BEFORE UPDATE ON channel_read_cursors
    FOR EACH ROW EXECUTE FUNCTION chatgenius_set_updated_at();

-- Real-time: after each INSERT, UPDATE or DELETE, one pg_notify per changed row on channel
-- `chatgenius_<table>` with a small JSON payload:
--   {"schema":"public","table":"messages","op":"INSERT" | "UPDATE" | "DELETE",
--    "ids":{"id":"01J...","channel_id":"01J...","user_id":"01J..."},"at":"2026-01-10T12:00:00.123456+00:00"}
-- "ids" holds the columns named in the trigger's arguments: the row's key (id, or the composite
-- key) and, where a listener needs it to route the event, the channel/message it belongs to
-- (UPDATE: the new row's values; DELETE: the old row's). "at" is the time of the change (the
-- end of the statement: the same for every row of one statement).
-- Never message content or any other free text, so the payload is always far below NOTIFY's
-- 8000-byte limit (ids are 26 characters, names at most 63).
--
-- Cheap by design (the trigger runs on every message insert; bench/schema.ts measures it):
-- - statement-level AFTER triggers with a transition table named `changed_rows` (the NEW TABLE
--   for INSERT/UPDATE, the OLD TABLE for DELETE). PostgreSQL allows a transition table only on
--   a trigger with one event, hence three triggers per table. A 500-row INSERT runs the function
--   once, not 500 times;
-- - the payload is built from the id columns alone (row_to_json of just those columns, never a
--   JSON image of the whole row, content included) and a head and tail made once per statement;
-- - the id columns of our tables have static queries (planned once per trigger and session);
--   any other list of id columns works too, through dynamic SQL (planned per statement: slower).
--
-- The trigger catches its own errors (RAISE WARNING; the write goes on): a notification is a
-- hint to refresh, never worth losing a message for. The error block is one subtransaction per
-- statement: if pg_notify fails, no row of that statement notifies, and one WARNING says why.
--
-- To notify on another table (any schema, any search_path):
--   CREATE TRIGGER t_notify AFTER INSERT ON t REFERENCING NEW TABLE AS changed_rows
--       FOR EACH STATEMENT EXECUTE FUNCTION chatgenius_notify('id');
--   (and AFTER UPDATE ... NEW TABLE AS changed_rows, AFTER DELETE ... OLD TABLE AS changed_rows)
--
-- CAVEAT: NOTIFY is queued at the call and delivered at COMMIT. If the server's notification
-- queue is full (a listener that never reads, max 8 GB), the COMMIT itself fails with
-- "too many notifications in the NOTIFY queue" (SQLSTATE 54000). That happens after every
-- trigger has run, so no trigger can catch it: keep listeners reading, and watch
-- pg_notification_queue_usage().
CREATE FUNCTION chatgenius_notify() RETURNS TRIGGER
LANGUAGE plpgsql
AS $$
DECLARE
    channel TEXT := 'chatgenius_' || TG_TABLE_NAME;
    -- The payload around the ids object: {"schema":"public","table":"messages","op":"INSERT","ids":
    -- ... ,"at":"2026-01-10T12:00:00.123456+00:00"} (one time for all rows of the statement).
    head TEXT;
    tail TEXT;
    -- The id columns, e.g. 'id,channel_id,user_id' (text, not TG_ARGV = ARRAY[...]: comparing
    -- arrays here costs more than the whole notification of a one-row insert).
    argv TEXT := pg_catalog.array_to_string(TG_ARGV, ',');
BEGIN
    BEGIN
        IF TG_LEVEL <> 'STATEMENT' THEN
            RAISE EXCEPTION 'attach it FOR EACH STATEMENT with REFERENCING NEW TABLE (OLD TABLE for DELETE) AS changed_rows';
        END IF;
        head := '{"schema":' || pg_catalog.to_json(TG_TABLE_SCHEMA::TEXT)::TEXT
            || ',"table":' || pg_catalog.to_json(TG_TABLE_NAME::TEXT)::TEXT
            || ',"op":"' || TG_OP || '","ids":';
        tail := ',"at":' || pg_catalog.to_json(pg_catalog.clock_timestamp())::TEXT || '}';
        -- ids: row_to_json of the id columns alone ({"id":"01J...","channel_id":"01J...",...}).
        IF argv = 'id,channel_id,user_id' THEN
            PERFORM pg_catalog.pg_notify(channel, head || pg_catalog.row_to_json(x)::TEXT || tail)
               FROM (SELECT r.id, r.channel_id, r.user_id FROM changed_rows r) x;
        ELSIF argv = 'id,message_id,user_id' THEN
            PERFORM pg_catalog.pg_notify(channel, head || pg_catalog.row_to_json(x)::TEXT || tail)
               FROM (SELECT r.id, r.message_id, r.user_id FROM changed_rows r) x;
        ELSIF argv = 'channel_id,user_id' THEN
            PERFORM pg_catalog.pg_notify(channel, head || pg_catalog.row_to_json(x)::TEXT || tail)
               FROM (SELECT r.channel_id, r.user_id FROM changed_rows r) x;
        ELSIF argv = 'message_id,user_id' THEN
            PERFORM pg_catalog.pg_notify(channel, head || pg_catalog.row_to_json(x)::TEXT || tail)
               FROM (SELECT r.message_id, r.user_id FROM changed_rows r) x;
        ELSIF argv = 'id' THEN
            PERFORM pg_catalog.pg_notify(channel, head || pg_catalog.row_to_json(x)::TEXT || tail)
               FROM (SELECT r.id FROM changed_rows r) x;
        ELSIF argv = 'user_id' THEN
            PERFORM pg_catalog.pg_notify(channel, head || pg_catalog.row_to_json(x)::TEXT || tail)
               FROM (SELECT r.user_id FROM changed_rows r) x;
        ELSE
            EXECUTE 'SELECT pg_catalog.count(pg_catalog.pg_notify($1, $2 || pg_catalog.row_to_json(x)::TEXT || $3)) FROM (SELECT '
                || (SELECT pg_catalog.string_agg(pg_catalog.format('r.%I', c), ', ') FROM pg_catalog.unnest(TG_ARGV) AS c)
                || ' FROM changed_rows r) x'
                USING channel, head, tail;
        END IF;
    EXCEPTION WHEN OTHERS THEN
        RAISE WARNING 'chatgenius_notify: no notification for %.% (%): % [SQLSTATE %]',
            TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP, SQLERRM, SQLSTATE;
    END;
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION chatgenius_notify() IS
    'Real-time trigger (FOR EACH STATEMENT, transition table changed_rows): one pg_notify(chatgenius_<table>, {schema, table, op, ids, at}) per changed row; arguments name the id columns; never fails the write';

-- Three triggers per table (a transition table needs a single-event trigger). The INSERT one
-- keeps the name <table>_notify.
CREATE TRIGGER messages_notify AFTER INSERT ON messages REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION chatgenius_notify('id', 'channel_id', 'user_id');
CREATE TRIGGER messages_notify_update AFTER UPDATE ON messages REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION chatgenius_notify('id', 'channel_id', 'user_id');
CREATE TRIGGER messages_notify_delete AFTER DELETE ON messages REFERENCING OLD TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION chatgenius_notify('id', 'channel_id', 'user_id');
CREATE TRIGGER reactions_notify AFTER INSERT ON reactions REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION chatgenius_notify('id', 'message_id', 'user_id');
CREATE TRIGGER reactions_notify_update AFTER UPDATE ON reactions REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION chatgenius_notify('id', 'message_id', 'user_id');
CREATE TRIGGER reactions_notify_delete AFTER DELETE ON reactions REFERENCING OLD TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION chatgenius_notify('id', 'message_id', 'user_id');
CREATE TRIGGER channel_members_notify AFTER INSERT ON channel_members REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION chatgenius_notify('channel_id', 'user_id');
CREATE TRIGGER channel_members_notify_update AFTER UPDATE ON channel_members REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION chatgenius_notify('channel_id', 'user_id');
CREATE TRIGGER channel_members_notify_delete AFTER DELETE ON channel_members REFERENCING OLD TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION chatgenius_notify('channel_id', 'user_id');
CREATE TRIGGER channels_notify AFTER INSERT ON channels REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION chatgenius_notify('id');
CREATE TRIGGER channels_notify_update AFTER UPDATE ON channels REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION chatgenius_notify('id');
CREATE TRIGGER channels_notify_delete AFTER DELETE ON channels REFERENCING OLD TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION chatgenius_notify('id');
CREATE TRIGGER user_status_notify AFTER INSERT ON user_status REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION chatgenius_notify('user_id');
CREATE TRIGGER user_status_notify_update AFTER UPDATE ON user_status REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION chatgenius_notify('user_id');
CREATE TRIGGER user_status_notify_delete AFTER DELETE ON user_status REFERENCING OLD TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION chatgenius_notify('user_id');
CREATE TRIGGER message_reads_notify AFTER INSERT ON message_reads REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION chatgenius_notify('message_id', 'user_id');
CREATE TRIGGER message_reads_notify_update AFTER UPDATE ON message_reads REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION chatgenius_notify('message_id', 'user_id');
CREATE TRIGGER message_reads_notify_delete AFTER DELETE ON message_reads REFERENCING OLD TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION chatgenius_notify('message_id', 'user_id');
