/**
 * A lock file so two processes do not initialise or start the same local server at once.
 * Exclusive create; a lock whose holder process is gone is taken over.
 */
import { open, readFile, unlink } from 'node:fs/promises';
import { ChatgeniusError } from '../errors.js';
import { processAlive } from './pid.js';

export async function withLock<T>(lockFile: string, fn: () => Promise<T>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fh = await open(lockFile, 'wx', 0o600);
      await fh.writeFile(String(process.pid));
      await fh.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number.parseInt(await readFile(lockFile, 'utf8').catch(() => ''), 10);
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && !processAlive(holder)) {
        await unlink(lockFile).catch(() => undefined);
        continue;
      }
      if (!Number.isInteger(holder) && Date.now() + timeoutMs - deadline > 2000) {
        // Still empty after 2 s of waiting: its writer died between create and write.
        await unlink(lockFile).catch(() => undefined);
        continue;
      }
      if (Date.now() > deadline) {
        throw new ChatgeniusError('LOCAL_LOCKED', `Another chatgenius-db process (pid ${holder}) is starting or stopping the local server`, {
          pid: holder,
          path: lockFile,
        });
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    return await fn();
  } finally {
    await unlink(lockFile).catch(() => undefined);
  }
}
