/**
 * Before a run changes anything: does the role have the privileges THIS run needs, and only
 * those? A managed database often gives the app's role CREATE on its schema and nothing on the
 * database; that is enough to apply the schema (extensions that exist already are skipped by
 * 0001). Asked for:
 * - the target schema is missing: CREATE on the database (to create it);
 * - it exists and there is something to create (journal or pending files): USAGE and CREATE on it.
 * A missing one throws DB_MISSING_PRIVILEGE naming it and the GRANT that gives it, before any
 * migration runs (so no file is blamed for it).
 */
import { ChatgeniusError } from '../errors.js';

export interface PrivilegeFacts {
  role: string;
  database: string;
  schemaExists: boolean;
  schemaUsage: boolean;
  schemaCreate: boolean;
  databaseCreate: boolean;
}

/**
 * The facts as one row (role, database, schema_exists, schema_usage, schema_create,
 * database_create) for a schema given as a SQL literal. The engine reads them inside its lock +
 * journal round trip, so the check costs no round trip of its own.
 */
export function privilegeFactsSql(schemaLiteral: string): string {
  return `SELECT current_user AS role,
       pg_catalog.current_database() AS database,
       n.oid IS NOT NULL AS schema_exists,
       n.oid IS NOT NULL AND pg_catalog.has_schema_privilege(n.oid, 'USAGE') AS schema_usage,
       n.oid IS NOT NULL AND pg_catalog.has_schema_privilege(n.oid, 'CREATE') AS schema_create,
       pg_catalog.has_database_privilege(pg_catalog.current_database(), 'CREATE') AS database_create
  FROM (SELECT 1) one
  LEFT JOIN pg_catalog.pg_namespace n ON n.nspname = ${schemaLiteral}`;
}

/** The row of privilegeFactsSql() as PrivilegeFacts. */
export function parsePrivilegeFacts(row: Record<string, unknown>): PrivilegeFacts {
  return {
    role: String(row.role),
    database: String(row.database),
    schemaExists: row.schema_exists === true,
    schemaUsage: row.schema_usage === true,
    schemaCreate: row.schema_create === true,
    databaseCreate: row.database_create === true,
  };
}

/** An identifier as a person would type it: bare when it can be, quoted otherwise. */
const ident = (s: string) => (/^[a-z_][a-z0-9_]*$/.test(s) ? s : `"${s.replace(/"/g, '""')}"`);

/** Pure: the privilege this run lacks, or null. */
export function missingPrivilege(f: PrivilegeFacts, schema: string, needsCreate: boolean): ChatgeniusError | null {
  const base = { role: f.role, database: f.database, schema };
  if (!f.schemaExists) {
    if (f.databaseCreate) return null;
    return new ChatgeniusError('DB_MISSING_PRIVILEGE', `Role ${f.role} may not create schema ${schema} in database ${f.database} (it lacks CREATE on the database)`, {
      ...base,
      privilege: `CREATE on database ${f.database}`,
      grant: `GRANT CREATE ON DATABASE ${ident(f.database)} TO ${ident(f.role)};`,
      alternative: `CREATE SCHEMA ${ident(schema)} AUTHORIZATION ${ident(f.role)};`,
    });
  }
  if (!needsCreate) return null;
  if (f.schemaUsage && f.schemaCreate) return null;
  const lacks = [f.schemaUsage ? null : 'USAGE', f.schemaCreate ? null : 'CREATE'].filter(Boolean).join(' and ');
  return new ChatgeniusError('DB_MISSING_PRIVILEGE', `Role ${f.role} lacks ${lacks} on schema ${schema}, needed to create its tables and the journal`, {
    ...base,
    privilege: `${lacks} on schema ${schema}`,
    grant: `GRANT USAGE, CREATE ON SCHEMA ${ident(schema)} TO ${ident(f.role)};`,
  });
}

/** Throw when the run lacks a privilege it needs (facts read with the lock + journal). */
export function checkRunPrivileges(facts: PrivilegeFacts, schema: string, needsCreate: boolean): void {
  const err = missingPrivilege(facts, schema, needsCreate);
  if (err) throw err;
}
