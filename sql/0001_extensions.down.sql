-- 0001 extensions, down: drop the extensions that 0001 created in THIS schema, unless
--   * another install of the schema in this database still needs them (another schema with a
--     chatgenius_extensions table, or a chatgenius_migrations journal with 0001 applied), or
--   * any object that is not part of the extension depends on it (pg_depend: a column of type
--     citext, a default calling gen_random_bytes(), another extension...).
-- Kept extensions are reported with RAISE NOTICE (the engine shows notices to the user). When
-- kept for another install, they are handed over to its chatgenius_extensions record, so the
-- last install to be rolled back drops them.
-- Extensions that existed before 0001 were never recorded: they are always kept.
-- A database adopted with `baseline` has no chatgenius_extensions table: everything is kept.

DO $$
DECLARE
    ours TEXT := pg_catalog.current_schema();
    record_table REGCLASS := pg_catalog.to_regclass(pg_catalog.format('%I.chatgenius_extensions', pg_catalog.current_schema()));
    created TEXT[];
    ext TEXT;
    ext_oid OID;
    others TEXT[] := '{}';
    other TEXT;
    has_0001 BOOLEAN;
    users TEXT;
BEGIN
    IF record_table IS NULL THEN
        RETURN;
    END IF;
    EXECUTE pg_catalog.format('SELECT COALESCE(pg_catalog.array_agg(name ORDER BY name), ''{}'') FROM %s', record_table)
        INTO created;

    -- Other installs of the ChatGenius schema in this database.
    FOR other IN
        SELECT DISTINCT n.nspname
          FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relname = 'chatgenius_extensions' AND c.relkind IN ('r', 'p') AND n.nspname <> ours
         ORDER BY 1
    LOOP
        others := others || other;
    END LOOP;
    FOR other IN
        SELECT DISTINCT n.nspname
          FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relname = 'chatgenius_migrations' AND c.relkind IN ('r', 'p') AND n.nspname <> ours
         ORDER BY 1
    LOOP
        IF other = ANY (others) THEN
            CONTINUE;
        END IF;
        BEGIN
            -- 0001 applied (a 'failed' row does not count; journals without a status column do)
            EXECUTE pg_catalog.format(
                'SELECT EXISTS (SELECT 1 FROM %I.chatgenius_migrations j WHERE j.version::text = ''0001''
                                   AND COALESCE(pg_catalog.to_jsonb(j) ->> ''status'', ''applied'') = ''applied'')', other)
                INTO has_0001;
        EXCEPTION WHEN OTHERS THEN
            has_0001 := true; -- a journal we cannot read: assume it is an install, keep the extensions
        END;
        IF has_0001 THEN
            others := others || other;
        END IF;
    END LOOP;

    FOREACH ext IN ARRAY created LOOP
        SELECT oid INTO ext_oid FROM pg_catalog.pg_extension WHERE extname = ext;
        IF ext_oid IS NULL THEN
            CONTINUE; -- already gone
        END IF;

        -- Objects that depend on the extension (or on its members) without being part of it.
        WITH RECURSIVE members(classid, objid) AS (
            SELECT d.classid, d.objid FROM pg_catalog.pg_depend d
             WHERE d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass AND d.refobjid = ext_oid AND d.deptype = 'e'
            UNION
            SELECT d.classid, d.objid FROM pg_catalog.pg_depend d
              JOIN members m ON d.refclassid = m.classid AND d.refobjid = m.objid
             WHERE d.deptype IN ('i', 'a') -- parts of members (array types, operator family entries)
        )
        SELECT pg_catalog.string_agg(DISTINCT pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid), ', ')
          INTO users
          FROM pg_catalog.pg_depend d
         WHERE d.deptype IN ('n', 'a')
           AND ((d.refclassid, d.refobjid) IN (SELECT classid, objid FROM members)
                OR (d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass AND d.refobjid = ext_oid))
           AND (d.classid, d.objid) NOT IN (SELECT classid, objid FROM members)
           AND NOT (d.classid = 'pg_catalog.pg_extension'::pg_catalog.regclass AND d.objid = ext_oid);

        IF pg_catalog.cardinality(others) > 0 THEN
            -- Hand it over: the other installs that keep a record now own it, so the last one
            -- to be rolled back drops it.
            FOREACH other IN ARRAY others LOOP
                IF pg_catalog.to_regclass(pg_catalog.format('%I.chatgenius_extensions', other)) IS NOT NULL THEN
                    EXECUTE pg_catalog.format('INSERT INTO %I.chatgenius_extensions (name) VALUES ($1) ON CONFLICT (name) DO NOTHING', other)
                        USING ext;
                END IF;
            END LOOP;
            RAISE NOTICE 'extension "%" kept: the ChatGenius schema is still installed in schema(s) %', ext, pg_catalog.array_to_string(others, ', ');
        ELSIF users IS NOT NULL THEN
            RAISE NOTICE 'extension "%" kept: still used by %', ext, users;
        ELSE
            EXECUTE pg_catalog.format('DROP EXTENSION %I', ext);
        END IF;
    END LOOP;

    EXECUTE pg_catalog.format('DROP TABLE %s', record_table);
END
$$;
