/**
 * Deterministic demo data for the ChatGenius schema. Pure: no I/O, no clock; the same options give
 * the same rows on every machine.
 *
 * Shape of the data:
 * - users (one well-known `demo@example.com`), each with settings, a status and 1-3 sync states;
 *   about 1% soft-deleted;
 * - channels whose member counts are heavy-tailed (Pareto; `general` has everyone), one owner each,
 *   a few admins; about 4% soft-deleted (their messages stop at the deletion);
 * - messages spread over channels by a heavy-tailed weight, and over time by a bursty process
 *   (mixture of short and long gaps) warped onto a diurnal, weekly and growing activity curve; the
 *   author is always a member who had joined (and was not deleted) at that moment; ~1.5% soft-deleted;
 * - reactions (~15% of messages), files (~3%), read receipts (each member has a read position per
 *   channel and has read the last few messages before it);
 * - every id is a ULID whose time part is the row's created_at (ms).
 *
 * Memory stays proportional to users + channels + memberships, never to messages: the message
 * stream is a k-way merge (by time) of per-channel generators whose timestamps come from two
 * passes over the same seeded gap sequence (sum first, then normalised prefix sums).
 */
import { activityRows, type ActivityRow } from './activity.js';
import { staticRows } from './static-rows.js';
import type { Row, StaticTable } from './tables.js';
import { planWorld, type GenerateOptions, type SeedWorld } from './world.js';

export { TABLE_COLUMNS, TABLE_ORDER, type ActivityTable, type Row, type StaticTable, type TableName, type Value } from './tables.js';
export { DEFAULT_END_TIME, DEFAULT_SEED, DEFAULT_SIZE, normaliseOptions, planWorld, type ChannelPlan, type GenerateOptions, type SeedWorld } from './world.js';
export { staticRows } from './static-rows.js';
export { activityRows, type ActivityRow } from './activity.js';

/** Everything, table by table: the plan plus lazy row sources. */
export function generateSeed(options: GenerateOptions): {
  world: SeedWorld;
  staticRows(table: StaticTable): Generator<Row>;
  activityRows(): Generator<ActivityRow>;
} {
  const world = planWorld(options);
  return { world, staticRows: (t) => staticRows(world, t), activityRows: () => activityRows(world) };
}
