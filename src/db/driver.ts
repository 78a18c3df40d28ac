/**
 * The pg driver, loaded on first use by every part that connects (`--help` never pays for it).
 *
 * On import, pg asks whether it runs in a Cloudflare Worker: without a `navigator` (Node 20; Node
 * 21 and later define one) it builds a `Response` to find out, which loads Node's whole fetch
 * implementation (undici, http, http2, zlib): ~17 ms of CPU for every run, for an answer that is
 * always "no" here. So while pg loads, a `navigator` like Node 21's stands in, and is removed
 * right after; with a `navigator` already there nothing is touched. pg is CommonJS: it is
 * required, which spares a run that has no other ES module to load Node's ES module loader.
 */
import { createRequire } from 'node:module';

type Pg = typeof import('pg').default;
const require = createRequire(import.meta.url);

let loading: Promise<Pg> | undefined;

export function loadPg(): Promise<Pg> {
  loading ??= (async () => {
    const g = globalThis as { navigator?: unknown };
    const standIn = g.navigator === undefined;
    if (standIn) Object.defineProperty(globalThis, 'navigator', { value: { userAgent: `Node.js/${process.versions.node.split('.')[0]}` }, configurable: true });
    try {
      return require('pg') as Pg;
    } finally {
      if (standIn) delete g.navigator;
    }
  })();
  return loading;
}
