-- 0007 realtime: the notify trigger function made as cheap as it can be, and able to stand aside
-- when the schema's real-time runs on logical decoding (`chatgenius-db realtime use logical`).
--
-- The payload contract is unchanged (sql/0005): one pg_notify per changed row on channel
-- chatgenius_<table>, payload {"schema","table","op","ids","at"}, never message content.
--
-- What changed, and why (bench/realtime.ts measures it):
-- - No EXCEPTION block on our tables' path. A block is a subtransaction per statement, and it
--   protected against almost nothing: pg_notify only queues the message in the transaction
--   (a full notification queue fails at COMMIT, where no trigger can catch it), and for our
--   tables the channel name (<= 63 bytes) and the payload (ids only, far below 8000 bytes) are
--   known to be valid. What can really go wrong is checked up front without a subtransaction:
--   a channel name too long (a table name over 52 bytes), a trigger attached FOR EACH ROW. Both
--   are a WARNING and no notification; the write goes on.
-- - The one place that can fail at run time is the dynamic branch (id columns other than our
--   tables' sets, named by whoever attached the trigger: a misspelt column fails there): it
--   keeps its EXCEPTION block, so the "never fails the write" promise still holds for it.
-- - The payload's head and tail are built once per statement and the rows' ids set-wise, one
--   row_to_json per row (unchanged).
--
-- Logical mode: the realtime mode is recorded in the database as a publication named
-- chatgenius_realtime_<schema> (see `chatgenius-db realtime status`). When this trigger's table
-- is in that publication, logical decoding carries the change and the trigger returns at once:
-- one catalog index probe (pg_publication_rel by relation), no notification, no commit lock.
-- Dropping the publication (`realtime use notify`) turns the notifications back on in the same
-- commit. The triggers themselves stay enabled in both modes (nothing to forget to re-enable).
--
-- search_path is pinned (as sql/0006 does for every function): pg_catalog, pg_temp. Nothing
-- here needs the target schema (the transition table is not looked up by path).
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
    -- Logical mode for this table's schema: logical decoding delivers the change instead.
    PERFORM FROM pg_catalog.pg_publication_rel r
        JOIN pg_catalog.pg_publication p ON p.oid OPERATOR(pg_catalog.=) r.prpubid
        WHERE r.prrelid OPERATOR(pg_catalog.=) TG_RELID
          AND p.pubname OPERATOR(pg_catalog.=) pg_catalog.left('chatgenius_realtime_' OPERATOR(pg_catalog.||) TG_TABLE_SCHEMA::TEXT, 63);
    IF FOUND THEN
        RETURN NULL;
    END IF;
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
    'Real-time trigger (FOR EACH STATEMENT, transition table changed_rows): one pg_notify(chatgenius_<table>, {schema, table, op, ids, at}) per changed row; arguments name the id columns; silent while the table is in publication chatgenius_realtime_<schema> (logical mode); never fails the write';
