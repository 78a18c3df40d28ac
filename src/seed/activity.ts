/**
 * The rows that grow with messages: messages in time order (a k-way merge of per-channel streams
 * whose timestamps come from two passes over the same seeded gap sequence), each followed by its
 * files and reactions, and read receipts as members' read positions are passed. Lazy.
 */
import { createRng, exponential, int, logNormal, pick, zipfIndex, type Rng } from './prng.js';
import type { ActivityTable, Row } from './tables.js';
import { ActivityCurve, HOUR, iso, MINUTE } from './time.js';
import { ulidAt } from './ulid.js';
import { gap, type ChannelPlan, type SeedWorld } from './world.js';
import * as W from './words.js';

/** How many of the latest messages before a member's read position carry a receipt. */
const READ_TAIL = 3;

interface Stream {
  ch: ChannelPlan;
  rng: Rng;
  left: number;
  cum: number;
  w0: number;
  wLen: number;
  next: number;
  /** Members ordered by read position; pointer to the first not yet handled. */
  readOrder: Int32Array;
  readPtr: number;
  /** The last READ_TAIL messages (ring). */
  tailIds: string[];
  tailCount: number;
}

/** A binary min-heap of streams keyed by (next time, channel index). */
class StreamHeap {
  private items: Stream[] = [];
  private less(a: Stream, b: Stream): boolean {
    return a.next < b.next || (a.next === b.next && a.ch.index < b.ch.index);
  }
  get size(): number {
    return this.items.length;
  }
  push(s: Stream): void {
    const a = this.items;
    a.push(s);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }
  peek(): Stream | undefined {
    return this.items[0];
  }
  /** Re-position the top after its key grew, or remove it (`remove`). */
  fixTop(remove: boolean): void {
    const a = this.items;
    if (remove) {
      const last = a.pop()!;
      if (a.length === 0) return;
      a[0] = last;
    }
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < a.length && this.less(a[l]!, a[m]!)) m = l;
      if (r < a.length && this.less(a[r]!, a[m]!)) m = r;
      if (m === i) break;
      [a[i], a[m]] = [a[m]!, a[i]!];
      i = m;
    }
  }
}

export type ActivityRow = [ActivityTable, Row];

/**
 * Messages in time order, each followed by its files and reactions, with read receipts emitted as
 * members' read positions are passed. Lazy: one row at a time.
 */
export function* activityRows(world: SeedWorld): Generator<ActivityRow> {
  const { seed } = world.options;
  const curve = new ActivityCurve(world.t0, world.t1);
  const r = createRng(seed, 'activity');
  const heap = new StreamHeap();
  const streams: Stream[] = [];
  for (const ch of world.channels) {
    const readOrder = Int32Array.from({ length: ch.members.length }, (_, p) => p).sort((a, b) => ch.readUntil[a]! - ch.readUntil[b]! || a - b);
    const s: Stream = {
      ch,
      rng: createRng(seed, 'gaps', ch.index),
      left: ch.messageCount,
      cum: 0,
      w0: curve.toWeight(ch.startMs),
      wLen: curve.toWeight(ch.endMs) - curve.toWeight(ch.startMs),
      next: 0,
      readOrder,
      readPtr: 0,
      tailIds: new Array(READ_TAIL),
      tailCount: 0,
    };
    streams.push(s);
    if (s.left > 0) {
      advance(s);
      heap.push(s);
    }
  }
  function advance(s: Stream): void {
    s.cum += gap(s.rng);
    s.next = Math.max(curve.fromWeight(s.w0 + (s.wLen * s.cum) / s.ch.gapSum), s.ch.startMs);
  }
  const userIds = world.userIds;
  function* receipts(s: Stream, before: number): Generator<ActivityRow> {
    const ch = s.ch;
    while (s.readPtr < s.readOrder.length && ch.readUntil[s.readOrder[s.readPtr]!]! < before) {
      const p = s.readOrder[s.readPtr++]!;
      const n = Math.min(s.tailCount, READ_TAIL);
      const readAt = iso(ch.readUntil[p]!);
      const uid = userIds[ch.members[p]!]!;
      for (let k = n; k >= 1; k--) {
        yield ['message_reads', [s.tailIds[(s.tailCount - k) % READ_TAIL]!, uid, readAt]];
      }
    }
  }
  const live = (u: number, at: number): boolean => !(world.userDeleted[u]! <= at);

  while (heap.size > 0) {
    const s = heap.peek()!;
    const ch = s.ch;
    const t = s.next;
    yield* receipts(s, t);

    const { id, row } = messageRow(r, world, ch, t, live);
    yield row;
    yield* extrasOf(r, world, ch, t, id, live);

    s.tailIds[s.tailCount % READ_TAIL] = id;
    s.tailCount++;
    s.left--;
    if (s.left > 0) {
      advance(s);
      heap.fixTop(false);
    } else heap.fixTop(true);
  }
  for (const s of streams) yield* receipts(s, Infinity);
}

/** One message at `t`: a Zipf-ranked author who had joined and was not deleted (else the owner), its text, an edit or a deletion now and then. */
function messageRow(
  r: ReturnType<typeof createRng>,
  world: SeedWorld,
  ch: ChannelPlan,
  t: number,
  live: (u: number, at: number) => boolean,
): { id: string; row: ActivityRow } {
  const { t1, userIds } = world;
  let pos = 0;
  for (let tries = 0; tries < 8; tries++) {
    const p = zipfIndex(r, ch.members.length);
    if (ch.joined[p]! <= t && live(ch.members[p]!, t)) {
      pos = p;
      break;
    }
  }
  const author = ch.members[pos]!;
  const id = ulidAt(t, r.u32);
  const content = messageText(r, world);
  let metadata: string | null = null;
  let updated = t;
  let deleted: number | null = null;
  const x = r();
  if (x < 0.05) metadata = JSON.stringify({ mentions: [userIds[ch.members[Math.floor(r() * ch.members.length)]!]] });
  else if (x < 0.07) metadata = JSON.stringify({ links: [`https://example.com/docs/${int(r, 1, 999)}`] });
  else if (x < 0.1) {
    updated = Math.min(t1, Math.floor(t + exponential(r, 10 * MINUTE)));
    metadata = JSON.stringify({ edited: true });
  }
  if (r() < 0.015) {
    deleted = Math.min(t1, Math.floor(t + exponential(r, 6 * HOUR)));
    updated = Math.max(updated, deleted);
  }
  return { id, row: ['messages', [id, ch.id, userIds[author]!, content, iso(t), iso(updated), deleted === null ? null : iso(deleted), metadata]] };
}

/** A message's file (3%) and reactions (15%: a few members, each emoji once per member). */
function* extrasOf(
  r: ReturnType<typeof createRng>,
  world: SeedWorld,
  ch: ChannelPlan,
  t: number,
  id: string,
  live: (u: number, at: number) => boolean,
): Generator<ActivityRow> {
  const { t1, userIds } = world;
  if (r() < 0.03) {
    const kind = pick(r, W.FILE_KINDS);
    const fid = ulidAt(t, r.u32);
    const name = `${pick(r, kind.base)}-${int(r, 1, 400)}.${kind.ext}`;
    const size = Math.max(1, Math.round(logNormal(r, kind.mu, 1)));
    yield ['files', [fid, id, name, kind.type, size, `https://files.example.com/${fid}/${name}`, iso(t)]];
  }
  if (r() < 0.15) {
    const k = 1 + zipfIndex(r, 6);
    const seen: string[] = [];
    for (let j = 0; j < k; j++) {
      const p = Math.floor(r() * ch.members.length);
      const emoji = W.EMOJI[zipfIndex(r, W.EMOJI.length)]!;
      const at = Math.min(t1, Math.floor(t + exponential(r, 30 * MINUTE)));
      const u = ch.members[p]!;
      const key = `${p}|${emoji}`;
      if (seen.includes(key) || ch.joined[p]! > at || !live(u, at)) continue;
      seen.push(key);
      yield ['reactions', [ulidAt(at, r.u32), id, userIds[u]!, emoji, iso(at)]];
    }
  }
}

function messageText(r: Rng, world: SeedWorld): string {
  const x = r();
  if (x < 0.01) return 'Can someone check this query?\n```\nSELECT id, content\n\tFROM messages\n WHERE channel_id = $1\n```';
  let text: string = pick(r, W.OPENERS);
  text = (text ? `${text} ` : '') + pick(r, W.PHRASES);
  if (x > 0.8) text += `, and ${pick(r, W.PHRASES)}`;
  if (x > 0.95) {
    const u = Math.floor(r() * world.userIds.length);
    text = `@${W.FIRST_NAMES[world.userFirst[u]!]!.toLowerCase()} ${text}`;
  }
  return text + pick(r, W.CLOSERS);
}
