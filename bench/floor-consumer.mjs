// The cheapest consumer there can be, for bench/realtime.ts --floor: it receives the changes the
// way `listen` does and does nothing with them. Whatever the writers lose with it attached is the
// cost of delivery itself on this machine (the LISTEN backend or the WAL sender, and a process
// woken to read), which no listener can go below.
//
//   node bench/floor-consumer.mjs URL notify|logical [PUBLICATION]
//
// notify: LISTEN chatgenius_messages. logical: a temporary slot, pgoutput, pg-logical-replication.
// Both read the socket in gulps like listen (dist/db/coalesce-reads.js: run `npm run build` first).
// Prints "ready <server pid>", and "received <n>" on SIGINT.
import pg from 'pg';
import { LogicalReplicationService, PgoutputPlugin } from 'pg-logical-replication';
import { clientSocket, coalesceReads } from '../dist/db/coalesce-reads.js';

const [url, mode, publication = 'chatgenius_realtime_public'] = process.argv.slice(2);
let received = 0;
process.on('SIGINT', () => {
  process.stdout.write(`received ${received}\n`);
  process.exit(0);
});

if (mode === 'notify') {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  c.on('notification', () => received++);
  await c.query('LISTEN chatgenius_messages');
  const pid = (await c.query('SELECT pg_backend_pid() AS p')).rows[0].p;
  coalesceReads(clientSocket(c));
  process.stdout.write(`ready ${pid}\n`);
} else {
  const slot = `floor_${process.pid}`;
  let pid = 0;
  class Service extends LogicalReplicationService {
    async client() {
      const [c, connection] = await super.client();
      pid = (await c.query('SELECT pg_backend_pid() AS p')).rows[0].p;
      await c.query(`CREATE_REPLICATION_SLOT "${slot}" TEMPORARY LOGICAL pgoutput NOEXPORT_SNAPSHOT`);
      coalesceReads(clientSocket(c));
      return [c, connection];
    }
  }
  const service = new Service({ connectionString: url, replication: 'database' }, { acknowledge: { auto: false, timeoutSeconds: 1 } });
  service.on('data', (_lsn, msg) => {
    if (msg.tag === 'insert') received++;
  });
  service.once('start', () => process.stdout.write(`ready ${pid}\n`));
  service.subscribe(new PgoutputPlugin({ protoVersion: 1, publicationNames: [publication] }), slot);
}
