/**
 * The small part of the demo world, planned up front: users, channels, memberships, read
 * positions and each channel's message count. Memory is proportional to users + channels +
 * memberships, never to messages. Pure: the same options give the same plan.
 */
import { createRng, exponential, logNormal, pareto, pick, type Rng } from './prng.js';
import { DAY, HOUR, MINUTE } from './time.js';
import { ulidAt } from './ulid.js';
import * as W from './words.js';

export interface GenerateOptions {
  users: number;
  channels: number;
  messages: number;
  seed: string | number;
  /** Last instant of the generated history, ms since epoch. Default 2026-01-01T00:00:00Z. */
  endTime?: number;
  /** Length of the history in days. Default 180. */
  spanDays?: number;
}

export const DEFAULT_SEED = 'chatgenius';
export const DEFAULT_SIZE = { users: 300, channels: 40, messages: 30_000 } as const;
export const DEFAULT_END_TIME = Date.UTC(2026, 0, 1);

/** Validate sizes: whole numbers, at least one user and channel, messages >= 0. */
export function normaliseOptions(o: GenerateOptions): Required<GenerateOptions> {
  const whole = (n: number, name: string, min: number): number => {
    if (!Number.isInteger(n) || n < min || n > 100_000_000) throw new RangeError(`${name} must be a whole number >= ${min}, got ${n}`);
    return n;
  };
  return {
    users: whole(o.users, 'users', 1),
    channels: whole(o.channels, 'channels', 1),
    messages: whole(o.messages, 'messages', 0),
    seed: o.seed,
    endTime: o.endTime ?? DEFAULT_END_TIME,
    spanDays: o.spanDays ?? 180,
  };
}

export interface SeedWorld {
  options: Required<GenerateOptions>;
  t0: number;
  t1: number;
  userIds: string[];
  userCreated: Float64Array;
  /** NaN when not deleted. */
  userDeleted: Float64Array;
  userFirst: Uint8Array;
  userLast: Uint8Array;
  channels: ChannelPlan[];
}

export interface ChannelPlan {
  index: number;
  id: string;
  name: string;
  createdMs: number;
  /** NaN when not deleted. */
  deletedMs: number;
  /** User indexes; position 0 is the owner. */
  members: Int32Array;
  joined: Float64Array;
  roles: Array<'owner' | 'admin' | 'member'>;
  messageCount: number;
  /** Read position per member position (ms): messages up to here are read. */
  readUntil: Float64Array;
  /** Time window the channel's messages fall in. */
  startMs: number;
  endMs: number;
  /** Sum of the channel's n+1 gaps (first pass). */
  gapSum: number;
}

export function gap(rng: Rng): number {
  // Bursty: mostly short gaps (a conversation), sometimes long silences.
  return rng() < 0.8 ? exponential(rng, 0.15) : exponential(rng, 4);
}

/** Build the small part of the world (users, channels, memberships, message counts). */
export function planWorld(input: GenerateOptions): SeedWorld {
  const options = normaliseOptions(input);
  const t1 = options.endTime;
  const t0 = t1 - options.spanDays * DAY;
  const users = planUsers(options.seed, options.users, t0, t1);
  const { channels, weights } = planChannels(options, users, t0, t1);
  assignMessageCounts(channels, weights, options.messages);
  // First pass over each channel's gap sequence.
  for (const ch of channels) {
    const rg = createRng(options.seed, 'gaps', ch.index);
    let s = 0;
    for (let k = 0; k <= ch.messageCount; k++) s += gap(rg);
    ch.gapSum = s;
  }
  return { options, t0, t1, ...users, channels };
}

type UserPlan = Pick<SeedWorld, 'userIds' | 'userCreated' | 'userDeleted' | 'userFirst' | 'userLast'>;

/** Users: created mostly early (growth), ~1% soft-deleted later on. */
function planUsers(seed: Required<GenerateOptions>['seed'], U: number, t0: number, t1: number): UserPlan {
  const span = t1 - t0;
  const ru = createRng(seed, 'users');
  const userIds: string[] = new Array(U);
  const userCreated = new Float64Array(U);
  const userDeleted = new Float64Array(U).fill(NaN);
  const userFirst = new Uint8Array(U);
  const userLast = new Uint8Array(U);
  for (let i = 0; i < U; i++) {
    const created = i === 0 ? t0 : Math.floor(t0 + Math.pow(ru(), 1.6) * span * 0.6);
    userCreated[i] = created;
    userIds[i] = ulidAt(created, ru.u32);
    userFirst[i] = Math.floor(ru() * W.FIRST_NAMES.length);
    userLast[i] = Math.floor(ru() * W.LAST_NAMES.length);
    if (i > 0 && ru() < 0.01) userDeleted[i] = Math.floor(created + (0.3 + 0.65 * ru()) * (t1 - created));
  }
  return { userIds, userCreated, userDeleted, userFirst, userLast };
}

/** Channels, each with its members (when they joined, their role, how far they read) and its weight in the message share. */
function planChannels(options: Required<GenerateOptions>, users: UserPlan, t0: number, t1: number): { channels: ChannelPlan[]; weights: number[] } {
  const span = t1 - t0;
  const U = options.users;
  const { userCreated, userDeleted } = users;
  const rc = createRng(options.seed, 'channels');
  const perm = new Int32Array(U);
  for (let i = 0; i < U; i++) perm[i] = i;
  const channels: ChannelPlan[] = [];
  const weights: number[] = [];
  for (let c = 0; c < options.channels; c++) {
    const createdMs = c === 0 ? t0 + HOUR : c === 1 ? t0 + 2 * HOUR : Math.floor(t0 + 3 * HOUR + Math.pow(rc(), 1.5) * span * 0.7);
    const deletedMs = c > 1 && rc() < 0.04 ? Math.floor(createdMs + (0.5 + 0.45 * rc()) * (t1 - createdMs)) : NaN;
    const endMs = Number.isNaN(deletedMs) ? t1 : deletedMs;
    // Owner: a user who existed (and was not deleted) when the channel was made; user 0 always qualifies.
    let owner = 0;
    for (let tries = 0; tries < 20; tries++) {
      const u = Math.floor(rc() * U);
      if (userCreated[u]! <= createdMs && Number.isNaN(userDeleted[u]!)) {
        owner = u;
        break;
      }
    }
    const size = c === 0 ? U : Math.min(U, Math.max(2, Math.floor(pareto(rc, Math.max(3, U / 60), 1.2))));
    const members = pickMembers(rc, perm, owner, size);
    const { joined, roles } = joinTimes(rc, members, users, createdMs, endMs, t1);
    const startMs = createdMs + 10 * MINUTE;
    const readUntil = new Float64Array(size);
    for (let p = 0; p < size; p++) {
      const u = members[p]!;
      const r = rc();
      let until = r < 0.55 ? t1 : r < 0.85 ? t1 - exponential(rc, 2 * DAY) : t1 - exponential(rc, 20 * DAY);
      if (!Number.isNaN(userDeleted[u]!)) until = Math.min(until, userDeleted[u]!);
      readUntil[p] = Math.floor(until);
    }
    const activeShare = Math.max(endMs - startMs, 0) / span;
    weights.push(Math.pow(size, 0.6) * logNormal(rc, 0, 1) * activeShare * (c === 0 ? 1.5 : 1));
    const name = c < W.CHANNEL_NAMES.length ? W.CHANNEL_NAMES[c]! : `${pick(rc, W.PROJECT_WORDS)}-${pick(rc, ['team', 'dev', 'launch', 'sync', 'chat'])}-${c}`;
    channels.push({
      index: c,
      id: ulidAt(createdMs, rc.u32),
      name,
      createdMs,
      deletedMs,
      members,
      joined,
      roles,
      messageCount: 0,
      readUntil,
      startMs,
      endMs: endMs - MINUTE,
      gapSum: 0,
    });
  }
  return { channels, weights };
}

/** Partial Fisher-Yates over a persistent permutation: `size` distinct users, the owner first. */
function pickMembers(rc: Rng, perm: Int32Array, owner: number, size: number): Int32Array {
  const U = perm.length;
  const members = new Int32Array(size);
  members[0] = owner;
  let filled = 1;
  for (let k = 0; filled < size && k < U; k++) {
    const j = k + Math.floor(rc() * (U - k));
    const tmp = perm[k]!;
    perm[k] = perm[j]!;
    perm[j] = tmp;
    if (perm[k] !== owner) members[filled++] = perm[k]!;
  }
  return members;
}

/** When each member joined (not before the channel or the user existed) and their role (a few admins). */
function joinTimes(rc: Rng, members: Int32Array, users: UserPlan, createdMs: number, endMs: number, t1: number): Pick<ChannelPlan, 'joined' | 'roles'> {
  const size = members.length;
  const joined = new Float64Array(size);
  const roles: ChannelPlan['roles'] = new Array(size);
  let admins = 0;
  for (let p = 0; p < size; p++) {
    const u = members[p]!;
    if (p === 0) {
      joined[p] = createdMs;
      roles[p] = 'owner';
      continue;
    }
    const earliest = Math.max(createdMs, users.userCreated[u]!);
    let j = Math.floor(earliest + exponential(rc, 3 * DAY));
    const limit = Math.min(endMs, Number.isNaN(users.userDeleted[u]!) ? t1 : users.userDeleted[u]!);
    if (j >= limit) j = earliest;
    joined[p] = j;
    roles[p] = admins < 5 && rc() < 0.05 ? (admins++, 'admin') : 'member';
  }
  return { joined, roles };
}

/** Message counts: largest remainder over the weights (exact total). */
function assignMessageCounts(channels: ChannelPlan[], weights: number[], messages: number): void {
  const total = weights.reduce((a, b) => a + b, 0) || 1;
  const exact = weights.map((w) => (w / total) * messages);
  let assigned = 0;
  channels.forEach((ch, c) => {
    ch.messageCount = ch.endMs > ch.startMs ? Math.floor(exact[c]!) : 0;
    assigned += ch.messageCount;
  });
  const order = channels.map((ch, c) => ({ c, rem: ch.endMs > ch.startMs ? exact[c]! - Math.floor(exact[c]!) : -1 })).sort((a, b) => b.rem - a.rem || a.c - b.c);
  for (let k = 0; assigned < messages; k = (k + 1) % order.length) {
    const ch = channels[order[k]!.c]!;
    if (ch.endMs > ch.startMs || order.every((o) => o.rem < 0)) {
      ch.messageCount++;
      assigned++;
    }
  }
}
