/**
 * The PostgreSQL links of the chain: reachable, authentication, version, extensions, CREATE
 * privilege, journal state, a transaction-mode pooler in front, and who holds the migration lock.
 */
import { ChatgeniusError } from '../errors.js';
import type { ConnectionConfig } from '../config/types.js';
import { isEnvName } from '../config/detect.js';
import { personalEnvFile } from '../config/env-files.js';
import type { Check, CheckResult } from './checks.js';
import { failWith, type DoctorContext } from './doctor-context.js';
import { pgProtocolProbe } from './probe.js';
import { observePooler, poolerEvidence } from './pooler.js';
import { connectClient } from '../db/index.js';
import { ensureLocalServer, localServerStatus } from '../local/index.js';
import { lockHolders } from './lock.js';

export const REQUIRED_EXTENSIONS = ['citext', 'pgcrypto', 'uuid-ossp'] as const;
const DOCTOR_APP = 'chatgenius-db doctor';

/** The connection doctor uses: the configured one, or its tunnel's local end. */
export function targetConnection(ctx: DoctorContext): ConnectionConfig | null {
  const conn = ctx.connection ?? ctx.config?.connection ?? null;
  if (!conn) return null;
  if (ctx.tunnel) return { ...conn, host: ctx.tunnel.localHost, port: ctx.tunnel.localPort };
  return conn;
}

/**
 * Through a tunnel we dial 127.0.0.1:<local port>, but the server's certificate names the
 * database host: verify-full must check that name (and send it as SNI), not 127.0.0.1.
 */
export function tlsServerNameFor(ctx: DoctorContext): string | undefined {
  return ctx.tunnel ? (ctx.connection ?? ctx.config?.connection)?.host : undefined;
}

async function connect(ctx: DoctorContext, conn: ConnectionConfig) {
  const tlsServerName = tlsServerNameFor(ctx);
  const opts: Parameters<typeof connectClient>[1] = {
    retry: { maxRetries: 1, retryDelayMs: 0 },
    applicationName: DOCTOR_APP,
    emit: ctx.emit,
    ...(tlsServerName ? { tlsServerName } : {}),
  };
  if (ctx.signal) opts!.signal = ctx.signal;
  return connectClient(conn, opts);
}

export const pgReachableCheck: Check<DoctorContext> = {
  id: 'pg-reachable',
  title: 'PostgreSQL reachable',
  needs: ['config', 'ssh-forwarding'],
  async run(ctx) {
    if (!ctx.connection && !ctx.config?.connection && ctx.config?.env === 'local') {
      const st = await localServerStatus(ctx.config.stateDir);
      if (!st.running || !st.answering) {
        return {
          status: 'fail',
          summary: !st.initialised
            ? `no local PostgreSQL yet in ${st.dataDir}`
            : st.running
              ? `the local PostgreSQL (pid ${st.pid ?? '?'}) runs but does not answer; see ${st.logFile}`
              : 'the local PostgreSQL (--env local) is not running',
          hint: 'Start it with `chatgenius-db local start` (or run `chatgenius-db init --env local`, which creates and starts it).',
          code: 'LOCAL_NOT_RUNNING',
        };
      }
      // Running and answering: this reuses it (never starts one) and gives the connection with its password.
      ctx.connection = await ensureLocalServer(ctx.config.stateDir, { emit: ctx.emit });
      ctx.addSecrets?.(ctx.connection.password);
    }
    const conn = targetConnection(ctx);
    if (!conn) {
      const file = isEnvName(ctx.envName) ? personalEnvFile(ctx.envName) : '.env.local';
      return {
        status: 'fail',
        summary: 'no database connection configured',
        hint: `Set DATABASE_URL or POSTGRES_HOST / POSTGRES_DB / POSTGRES_USER in ${file}, or pass --database-url.`,
      };
    }
    const via = ctx.tunnel ? ` through the tunnel to ${ctx.config?.connection?.host}:${ctx.config?.connection?.port}` : '';
    try {
      const r = await pgProtocolProbe(conn.host, conn.port);
      ctx.pgProbeMs = r.ms;
      return { status: 'pass', summary: `${conn.host}:${conn.port}${via} answers as PostgreSQL (TLS ${r.ssl ? 'offered' : 'not offered'})`, figure: `${r.ms} ms` };
    } catch (err) {
      const e = err as { address?: string; port?: number };
      if (e && typeof e === 'object' && e.address === undefined) Object.assign(e, { address: conn.host, port: conn.port });
      return failWith(err);
    }
  },
};

export const pgAuthCheck: Check<DoctorContext> = {
  id: 'pg-auth',
  title: 'PostgreSQL authentication',
  needs: ['pg-reachable'],
  async run(ctx) {
    const conn = targetConnection(ctx)!;
    const t0 = performance.now();
    try {
      ctx.client = await connect(ctx, conn);
    } catch (err) {
      return failWith(err);
    }
    const ms = Math.round(performance.now() - t0);
    ctx.connectAnother = () => connect(ctx, conn);
    return {
      status: 'pass',
      summary: `logged in as ${conn.user} to database ${conn.database}${conn.sslMode !== 'disable' ? ` (sslmode ${conn.sslMode})` : ''}`,
      figure: `${ms} ms`,
    };
  },
};

export const pgVersionCheck: Check<DoctorContext> = {
  id: 'pg-version',
  title: 'Server version >= 14',
  needs: ['pg-auth'],
  async run(ctx) {
    const r = await ctx.client!.query<{ num: number; v: string }>("select current_setting('server_version_num')::int as num, current_setting('server_version') as v");
    const num = Number(r.rows[0]!.num);
    const version = r.rows[0]!.v.split(' ')[0]!;
    ctx.serverVersionNum = num;
    if (num < 140000) return failWith(new ChatgeniusError('DOCTOR_PG_TOO_OLD', `PostgreSQL ${version} is older than 14`, { version }));
    return { status: 'pass', summary: `supported (server_version_num ${num})`, figure: `PostgreSQL ${version}` };
  },
};

export const extensionsCheck: Check<DoctorContext> = {
  id: 'extensions',
  title: 'Extensions available',
  needs: ['pg-auth'],
  async run(ctx) {
    const r = await ctx.client!.query<{ name: string; default_version: string; installed_version: string | null }>(
      'select name, default_version, installed_version from pg_available_extensions where name = any($1::text[]) order by name',
      [REQUIRED_EXTENSIONS],
    );
    const p = await ctx.client!.query<{ db_create: boolean; superuser: boolean; role: string; database: string }>(
      `select has_database_privilege(current_database(), 'CREATE') as db_create,
              coalesce((select rolsuper from pg_roles where rolname = current_user), false) as superuser,
              current_user as role, current_database() as database`,
    );
    const priv = p.rows[0]!;
    const byName = new Map(r.rows.map((x) => [x.name, x]));
    const missing = REQUIRED_EXTENSIONS.filter((n) => !byName.has(n));
    if (missing.length > 0) {
      return failWith(new ChatgeniusError('DOCTOR_EXTENSION_MISSING', `not available: ${missing.join(', ')}`, { missing: missing.join(', ') }));
    }
    const notInstalled = REQUIRED_EXTENSIONS.filter((n) => !byName.get(n)!.installed_version);
    const summary = REQUIRED_EXTENSIONS.map((n) => {
      const x = byName.get(n)!;
      return `${n} ${x.installed_version ?? x.default_version} (${x.installed_version ? 'installed' : 'available'})`;
    }).join(', ');
    // citext, pgcrypto and uuid-ossp are trusted extensions (PG 13+): CREATE on the database suffices.
    if (notInstalled.length > 0 && !priv.db_create && !priv.superuser) {
      const sql = notInstalled.map((n) => `CREATE EXTENSION IF NOT EXISTS "${n}" SCHEMA public;`).join(' ');
      return {
        ...failWith(
          new ChatgeniusError('DOCTOR_EXTENSION_NOT_CREATABLE', 'cannot create extensions', {
            missing: notInstalled.join(', '),
            role: priv.role,
            database: priv.database,
            sql,
          }),
        ),
        summary: `${summary}; role ${priv.role} cannot create ${notInstalled.join(', ')}`,
      };
    }
    return { status: 'pass', summary };
  },
};

export const createPrivilegeCheck: Check<DoctorContext> = {
  id: 'create-privilege',
  title: 'CREATE privilege',
  needs: ['pg-auth'],
  async run(ctx) {
    const schema = ctx.config!.schema;
    const r = await ctx.client!.query<{ schema_exists: boolean; schema_create: boolean | null; db_create: boolean; role: string; database: string }>(
      `select exists (select 1 from pg_namespace where nspname = $1) as schema_exists,
              (select has_schema_privilege(oid, 'CREATE') and has_schema_privilege(oid, 'USAGE') from pg_namespace where nspname = $1) as schema_create,
              has_database_privilege(current_database(), 'CREATE') as db_create,
              current_user as role, current_database() as database`,
      [schema],
    );
    const x = r.rows[0]!;
    ctx.schemaExists = x.schema_exists;
    const ok = x.schema_exists ? x.schema_create === true : x.db_create;
    if (!ok) {
      return failWith(
        new ChatgeniusError('DOCTOR_NO_CREATE', `role ${x.role} cannot create in ${schema}`, {
          schema,
          role: x.role,
          database: x.database,
          schemaExists: x.schema_exists,
        }),
      );
    }
    return {
      status: 'pass',
      summary: x.schema_exists
        ? `role ${x.role} may create objects in schema "${schema}"`
        : `schema "${schema}" does not exist yet; role ${x.role} may create it in database ${x.database}`,
    };
  },
};

export const poolerCheck: Check<DoctorContext> = {
  id: 'pooler',
  title: 'No transaction-mode pooler',
  needs: ['pg-auth'],
  async run(ctx): Promise<CheckResult> {
    const obs = await observePooler(ctx.client!, ctx.connectAnother!);
    const evidence = poolerEvidence(obs);
    if (evidence.length > 0) {
      return {
        ...failWith(new ChatgeniusError('DOCTOR_POOLER_TRANSACTION_MODE', 'transaction pooler', { evidence: evidence.join('; ') }), 'warn'),
        summary: 'a transaction-mode pooler: statements of one connection run in different server sessions (session advisory locks and SET search_path do not survive)',
        details: evidence,
      };
    }
    return { status: 'pass', summary: 'statements of one connection stay in one server session (direct, or a session-mode pooler)' };
  },
};

export const lockCheck: Check<DoctorContext> = {
  id: 'lock',
  title: 'Migration lock',
  needs: ['pg-auth'],
  async run(ctx): Promise<CheckResult> {
    const holders = await lockHolders(ctx.client!, ctx.config!.schema);
    if (holders.length === 0) return { status: 'pass', summary: 'free (no migration run in progress)' };
    const h = holders[0]!;
    return {
      ...failWith(new ChatgeniusError('DOCTOR_LOCK_HELD', 'lock held', { ...h }), 'warn'),
      summary: `held by session ${h.pid} (${h.applicationName ?? 'unknown application'}, ${h.clientAddr ?? 'local socket'}, user ${h.user ?? '?'}, since ${h.since ?? '?'})`,
    };
  },
};
