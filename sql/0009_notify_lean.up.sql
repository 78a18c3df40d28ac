-- 0009 notify lean: the notify trigger function without its check of the real-time mode.
--
-- sql/0007 made the function return at once when its table was in publication
-- chatgenius_realtime_<schema> (logical mode): a catalog query (pg_publication_rel joined to
-- pg_publication) on every INSERT, UPDATE and DELETE statement of the real-time tables, in
-- notify mode too, where it always finds nothing. Measured (bench/realtime.ts; server-side loop,
-- one committed single-row INSERT per iteration): the function with its commit cost the writer
-- 26 us a statement with the check, 16 us without it.
--
-- The check is no longer what keeps logical mode quiet: `chatgenius-db realtime use logical`
-- disables the notify triggers in the same transaction that creates the publication, and
-- `realtime use notify` enables them in the one that drops it, so every writer sees either
-- notify mode or logical mode, never a mix. A notify trigger enabled by hand in logical mode now
-- notifies (as a trigger on a new table not yet in the publication always did), and
-- `chatgenius-db realtime status` lists it.
--
-- Everything else is 0007's function, unchanged: the payload contract, the up-front checks and
-- their WARNINGs, the EXCEPTION block on the dynamic branch only, the pinned search_path.
CREATE OR REPLACE FUNCTION chatgenius_notify() RETURNS TRIGGER
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    channel TEXT;
    head TEXT;
    tail TEXT;
    argv TEXT;
BEGIN
    channel := 'chatgenius_' OPERATOR(pg_catalog.||) TG_TABLE_NAME::TEXT;
    IF TG_LEVEL OPERATOR(pg_catalog.<>) 'STATEMENT' OR pg_catalog.octet_length(channel) OPERATOR(pg_catalog.>) 63 THEN
        -- The same WARNING as when these failed inside the old EXCEPTION block (sql/0005),
        -- with the SQLSTATE the failure would have had.
        RAISE WARNING 'chatgenius_notify: no notification for %.% (%): %', TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP,
            CASE WHEN TG_LEVEL OPERATOR(pg_catalog.<>) 'STATEMENT'
                 THEN 'attach it FOR EACH STATEMENT with REFERENCING NEW TABLE (OLD TABLE for DELETE) AS changed_rows [SQLSTATE P0001]'
                 ELSE 'channel name too long [SQLSTATE 22023]' END;
        RETURN NULL;
    END IF;
    -- {"schema":"public","table":"messages","op":"INSERT","ids": ... ,"at":"2026-01-10T12:00:00.123456+00:00"}
    head := '{"schema":' OPERATOR(pg_catalog.||) pg_catalog.to_json(TG_TABLE_SCHEMA::TEXT)::TEXT
        OPERATOR(pg_catalog.||) ',"table":' OPERATOR(pg_catalog.||) pg_catalog.to_json(TG_TABLE_NAME::TEXT)::TEXT
        OPERATOR(pg_catalog.||) ',"op":"' OPERATOR(pg_catalog.||) TG_OP OPERATOR(pg_catalog.||) '","ids":';
    tail := ',"at":' OPERATOR(pg_catalog.||) pg_catalog.to_json(pg_catalog.clock_timestamp())::TEXT OPERATOR(pg_catalog.||) '}';
    -- The id columns as text (comparing TG_ARGV arrays costs more than a one-row notification).
    argv := pg_catalog.array_to_string(TG_ARGV, ',');
    IF argv OPERATOR(pg_catalog.=) 'id,channel_id,user_id' THEN
        PERFORM pg_catalog.pg_notify(channel, head OPERATOR(pg_catalog.||) pg_catalog.row_to_json(x)::TEXT OPERATOR(pg_catalog.||) tail)
           FROM (SELECT r.id, r.channel_id, r.user_id FROM changed_rows r) x;
    ELSIF argv OPERATOR(pg_catalog.=) 'id,message_id,user_id' THEN
        PERFORM pg_catalog.pg_notify(channel, head OPERATOR(pg_catalog.||) pg_catalog.row_to_json(x)::TEXT OPERATOR(pg_catalog.||) tail)
           FROM (SELECT r.id, r.message_id, r.user_id FROM changed_rows r) x;
    ELSIF argv OPERATOR(pg_catalog.=) 'channel_id,user_id' THEN
        PERFORM pg_catalog.pg_notify(channel, head OPERATOR(pg_catalog.||) pg_catalog.row_to_json(x)::TEXT OPERATOR(pg_catalog.||) tail)
           FROM (SELECT r.channel_id, r.user_id FROM changed_rows r) x;
    ELSIF argv OPERATOR(pg_catalog.=) 'message_id,user_id' THEN
        PERFORM pg_catalog.pg_notify(channel, head OPERATOR(pg_catalog.||) pg_catalog.row_to_json(x)::TEXT OPERATOR(pg_catalog.||) tail)
           FROM (SELECT r.message_id, r.user_id FROM changed_rows r) x;
    ELSIF argv OPERATOR(pg_catalog.=) 'id' THEN
        PERFORM pg_catalog.pg_notify(channel, head OPERATOR(pg_catalog.||) pg_catalog.row_to_json(x)::TEXT OPERATOR(pg_catalog.||) tail)
           FROM (SELECT r.id FROM changed_rows r) x;
    ELSIF argv OPERATOR(pg_catalog.=) 'user_id' THEN
        PERFORM pg_catalog.pg_notify(channel, head OPERATOR(pg_catalog.||) pg_catalog.row_to_json(x)::TEXT OPERATOR(pg_catalog.||) tail)
           FROM (SELECT r.user_id FROM changed_rows r) x;
    ELSE
        -- Other id columns (another table's trigger): dynamic SQL, where a bad column name can
        -- really fail; the block keeps that failure from failing the write.
        BEGIN
            EXECUTE 'SELECT pg_catalog.count(pg_catalog.pg_notify($1, $2 OPERATOR(pg_catalog.||) pg_catalog.row_to_json(x)::TEXT OPERATOR(pg_catalog.||) $3)) FROM (SELECT '
                OPERATOR(pg_catalog.||) (SELECT pg_catalog.string_agg(pg_catalog.format('r.%I', c), ', ') FROM pg_catalog.unnest(TG_ARGV) AS c)
                OPERATOR(pg_catalog.||) ' FROM changed_rows r) x'
                USING channel, head, tail;
        EXCEPTION WHEN OTHERS THEN
            RAISE WARNING 'chatgenius_notify: no notification for %.% (%): % [SQLSTATE %]',
                TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP, SQLERRM, SQLSTATE;
        END;
    END IF;
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION chatgenius_notify() IS
    'Real-time trigger (FOR EACH STATEMENT, transition table changed_rows): one pg_notify(chatgenius_<table>, {schema, table, op, ids, at}) per changed row; arguments name the id columns; its triggers are disabled in logical mode (chatgenius-db realtime use logical); never fails the write';
