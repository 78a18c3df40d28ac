/**
 * A lost lock race is retried after each pause of its schedule, and says so: the retry lines
 * count the attempts in all (the first try and one per pause), so the last one reads "attempt N
 * of N", never one past the end (it read "attempt 61 of 60" before).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type pg from 'pg';
import { backOffAfterRace, lockRetryDelays } from '../src/migrate/lock-race.js';
import type { RunContext } from '../src/migrate/run-context.js';
import type { ChatgeniusEvent } from '../src/events.js';
import { eventLine } from '../src/cli/output/human.js';
import { createColors } from '../src/cli/output/colors.js';

test('the retry lines of a lost lock race count every attempt: the last reads "attempt N of N"', async () => {
  const events: ChatgeniusEvent[] = [];
  const ctx = { emit: (e: ChatgeniusEvent) => events.push(e), lockTimeoutMs: 3000 } as unknown as RunContext;
  const err = Object.assign(new Error('canceling statement due to lock timeout'), { code: '55P03' }) as unknown as pg.DatabaseError;
  const delays = lockRetryDelays(3000, 20_000).map(() => 0); // the real schedule's length, without its pauses
  assert.ok(delays.length >= 2, `a schedule of ${delays.length} pauses`);
  for (let attempt = 1; attempt <= delays.length; attempt++) await backOffAfterRace(ctx, err, '0003_integrity.up.sql', attempt, delays);
  const colors = createColors({ isTTY: false }, { NO_COLOR: '1' });
  const lines = events.map((e) => eventLine(e, colors)!.text);
  assert.equal(lines.length, delays.length);
  assert.match(lines[0]!, new RegExp(`\\(attempt 2 of ${delays.length + 1}\\)$`));
  assert.match(lines.at(-1)!, new RegExp(`\\(attempt ${delays.length + 1} of ${delays.length + 1}\\)$`));
  for (const e of events) if (e.type === 'retry') assert.ok(e.attempt + 1 <= e.maxRetries, `attempt ${e.attempt + 1} of ${e.maxRetries}`);
});
