-- 0005 triggers: updated_at kept by the database, and real-time notifications.
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

-- Real-time: after each row change, pg_notify on channel `chatgenius_<table>` with a small JSON
-- payload:
--   {"schema": "public", "table": "messages", "op": "INSERT" | "UPDATE" | "DELETE",
--    "ids": {"id": "01J...", "channel_id": "01J..."}, "at": "2026-01-10T12:00:00.123456+00:00"}
-- "ids" holds the columns named in the trigger's arguments: the row's key (id, or the composite
-- key) and, where a listener needs it to route the event, the channel/message it belongs to.
-- Never message content or any other free text, so the payload is always far below NOTIFY's
-- 8000-byte limit (ids are 26 characters, names at most 63).
--
-- The trigger catches its own errors (RAISE WARNING; the write goes on): a notification is a
-- hint to refresh, never worth losing a message for.
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
    row_json JSONB;
    ids JSONB := '{}'::JSONB;
    col TEXT;
BEGIN
    BEGIN
        IF TG_OP = 'DELETE' THEN
            row_json := pg_catalog.to_jsonb(OLD);
        ELSE
            row_json := pg_catalog.to_jsonb(NEW);
        END IF;
        FOREACH col IN ARRAY TG_ARGV LOOP
            ids := ids || pg_catalog.jsonb_build_object(col, row_json -> col);
        END LOOP;
        PERFORM pg_catalog.pg_notify(
            'chatgenius_' || TG_TABLE_NAME,
            pg_catalog.jsonb_build_object(
                'schema', TG_TABLE_SCHEMA,
                'table', TG_TABLE_NAME,
                'op', TG_OP,
                'ids', ids,
                'at', pg_catalog.clock_timestamp()
            )::TEXT
        );
    EXCEPTION WHEN OTHERS THEN
        RAISE WARNING 'chatgenius_notify: no notification for %.% (%): % [SQLSTATE %]',
            TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP, SQLERRM, SQLSTATE;
    END;
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION chatgenius_notify() IS
    'Real-time trigger: pg_notify(chatgenius_<table>, {schema, table, op, ids, at}); arguments name the id columns; never fails the write';

CREATE TRIGGER messages_notify AFTER INSERT OR UPDATE OR DELETE ON messages
    FOR EACH ROW EXECUTE FUNCTION chatgenius_notify('id', 'channel_id', 'user_id');
CREATE TRIGGER reactions_notify AFTER INSERT OR UPDATE OR DELETE ON reactions
    FOR EACH ROW EXECUTE FUNCTION chatgenius_notify('id', 'message_id', 'user_id');
CREATE TRIGGER channel_members_notify AFTER INSERT OR UPDATE OR DELETE ON channel_members
    FOR EACH ROW EXECUTE FUNCTION chatgenius_notify('channel_id', 'user_id');
CREATE TRIGGER channels_notify AFTER INSERT OR UPDATE OR DELETE ON channels
    FOR EACH ROW EXECUTE FUNCTION chatgenius_notify('id');
CREATE TRIGGER user_status_notify AFTER INSERT OR UPDATE OR DELETE ON user_status
    FOR EACH ROW EXECUTE FUNCTION chatgenius_notify('user_id');
CREATE TRIGGER message_reads_notify AFTER INSERT OR UPDATE OR DELETE ON message_reads
    FOR EACH ROW EXECUTE FUNCTION chatgenius_notify('message_id', 'user_id');
