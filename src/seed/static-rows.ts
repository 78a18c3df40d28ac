/** Rows of the tables that do not grow with messages: users and their settings, status and sync state, channels, members. */
import { chance, createRng, exponential, int, pick, zipfIndex } from './prng.js';
import type { Row, StaticTable } from './tables.js';
import { DAY, iso } from './time.js';
import { ulidAt } from './ulid.js';
import type { SeedWorld } from './world.js';
import * as W from './words.js';

function userNames(world: SeedWorld, u: number): { first: string; last: string } {
  return { first: W.FIRST_NAMES[world.userFirst[u]!]!, last: W.LAST_NAMES[world.userLast[u]!]! };
}

/** Rows of the tables that do not grow with messages. */
export function* staticRows(world: SeedWorld, table: StaticTable): Generator<Row> {
  const { seed } = world.options;
  const { t1 } = world;
  const U = world.userIds.length;
  const del = (u: number): number | null => (Number.isNaN(world.userDeleted[u]!) ? null : world.userDeleted[u]!);
  switch (table) {
    case 'users': {
      const r = createRng(seed, 'users-rows');
      for (let u = 0; u < U; u++) {
        const id = world.userIds[u]!;
        const created = world.userCreated[u]!;
        const deleted = del(u);
        const auth = `auth0|${r.u32().toString(16).padStart(8, '0')}${r.u32().toString(16).padStart(8, '0')}${r.u32().toString(16).padStart(8, '0')}`;
        if (u === 0) {
          yield [id, auth, 'demo@example.com', 'demo', 'Demo User', null, iso(created), iso(created), null];
          continue;
        }
        const { first, last } = userNames(world, u);
        const local = `${first}.${last}.${u}`;
        const email = `${chance(r, 0.1) ? local : local.toLowerCase()}@${pick(r, W.EMAIL_DOMAINS)}`;
        const avatar = chance(r, 0.7) ? `https://avatars.example.com/${id}.png` : null;
        const updated = deleted ?? Math.min(t1, Math.floor(created + r() * (t1 - created) * 0.2));
        yield [id, auth, email, `${first}${last}${u}`.toLowerCase(), `${first} ${last}`, avatar, iso(created), iso(updated), deleted === null ? null : iso(deleted)];
      }
      return;
    }
    case 'user_settings': {
      const r = createRng(seed, 'settings');
      for (let u = 0; u < U; u++) {
        const x = r();
        const theme = x < 0.45 ? 'light' : x < 0.8 ? 'dark' : 'system';
        const prefs = { language: pick(r, W.LANGUAGES), timezone: pick(r, W.TIMEZONES), compact: chance(r, 0.2) };
        yield [world.userIds[u]!, theme, chance(r, 0.85), JSON.stringify(prefs)];
      }
      return;
    }
    case 'user_status': {
      const r = createRng(seed, 'status');
      for (let u = 0; u < U; u++) {
        const deleted = del(u);
        const x = r();
        const status = deleted !== null ? 'offline' : x < 0.2 ? 'online' : x < 0.35 ? 'away' : x < 0.45 ? 'busy' : 'offline';
        const seen = deleted ?? Math.max(world.userCreated[u]!, Math.floor(t1 - exponential(r, DAY)));
        yield [world.userIds[u]!, status, iso(seen), chance(r, 0.2) ? pick(r, W.CUSTOM_STATUS) : null];
      }
      return;
    }
    case 'sync_state': {
      const r = createRng(seed, 'sync');
      for (let u = 0; u < U; u++) {
        const devices = 1 + zipfIndex(r, 3);
        const until = del(u) ?? t1;
        for (let d = 0; d < devices; d++) {
          const at = Math.max(world.userCreated[u]!, Math.floor(until - exponential(r, 3 * DAY)));
          const meta = { device: pick(r, W.DEVICES), app_version: `1.${int(r, 0, 9)}.${int(r, 0, 20)}` };
          yield [ulidAt(at, r.u32), world.userIds[u]!, iso(at), d === 0 || chance(r, 0.3) ? 'full' : 'incremental', JSON.stringify(meta)];
        }
      }
      return;
    }
    case 'channels': {
      const r = createRng(seed, 'channel-rows');
      for (const ch of world.channels) {
        const deleted = Number.isNaN(ch.deletedMs) ? null : ch.deletedMs;
        const updated = deleted ?? Math.floor(ch.createdMs + r() * (t1 - ch.createdMs) * 0.1);
        yield [ch.id, ch.name, pick(r, W.CHANNEL_TOPICS), iso(ch.createdMs), iso(updated), deleted === null ? null : iso(deleted)];
      }
      return;
    }
    case 'channel_members': {
      for (const ch of world.channels) {
        for (let p = 0; p < ch.members.length; p++) {
          yield [ch.id, world.userIds[ch.members[p]!]!, ch.roles[p]!, iso(ch.joined[p]!)];
        }
      }
      return;
    }
  }
}
