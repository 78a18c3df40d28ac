-- 0006 pin search_path: every function of the schema runs with its own search_path,
-- `pg_catalog, pg_temp`, whatever the caller's is.
--
-- Why: a function without its own search_path resolves every unqualified name (operators
-- included) through the CALLER's path. The app's path holds `public`, where on PostgreSQL 14
-- (and every database upgraded from it) any role may create objects. A planted operator with an
-- exact type match beats pg_catalog's when pg_catalog's needs an implicit cast (e.g.
-- `*(double precision, integer)` against the float8 * float8 in chatgenius_ulid, `||(name, name)`
-- in chatgenius_notify, `<(varchar, varchar)` in the read-cursor trigger's row comparison), so
-- the app's next INSERT would run it with the app's rights.
--
-- Why `pg_catalog, pg_temp` and not the target schema: the target schema's path is `<schema>,
-- public`, the very place a hostile role can write. With `pg_catalog, pg_temp`, operators and
-- functions resolve in pg_catalog only (pg_temp is never searched for functions or operators,
-- and listing it last keeps temporary tables from shadowing anything). Nothing in these
-- functions needs another schema: built-ins are pg_catalog.*, tables are reached through
-- TG_TABLE_SCHEMA (format('%I.table')) or the trigger's transition table.
--
-- New functions (0007 and later) set `SET search_path = pg_catalog, pg_temp` in their CREATE.
-- The runner's search_path (`<schema>, public`) finds this schema's functions below.
ALTER FUNCTION chatgenius_ulid() SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION chatgenius_advance_read_cursor() SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION chatgenius_set_updated_at() SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION chatgenius_notify() SET search_path = pg_catalog, pg_temp;
