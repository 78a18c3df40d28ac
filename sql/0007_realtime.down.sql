-- 0007 realtime, down: the notify function of sql/0005 again (its EXCEPTION block, no logical
-- mode), with the search_path sql/0006 pinned. Run `chatgenius-db realtime use notify` first
-- if the schema is in logical mode: this refuses while publication chatgenius_realtime_<schema>
-- exists, since without 0007 the triggers would notify AND the publication would publish.
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_catalog.pg_publication
                WHERE pubname OPERATOR(pg_catalog.=) pg_catalog.left('chatgenius_realtime_' OPERATOR(pg_catalog.||) pg_catalog.current_schema()::TEXT, 63)) THEN
        RAISE EXCEPTION 'schema % is in logical real-time mode', pg_catalog.current_schema()
            USING HINT = 'Run chatgenius-db realtime use notify first (it drops publication chatgenius_realtime_' OPERATOR(pg_catalog.||) pg_catalog.current_schema() OPERATOR(pg_catalog.||) ').';
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION chatgenius_notify() RETURNS TRIGGER
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
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
