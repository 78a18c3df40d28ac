/**
 * doctor's real-time link: the schema's mode (notify / logical), the prerequisites of logical
 * decoding (each with its fix: a failure in logical mode, information in notify mode), and any
 * logical slot of the database that nobody reads (it keeps WAL until the disk is full).
 */
import { ChatgeniusError } from '../errors.js';
import type { Check, CheckResult } from './checks.js';
import { failWith, type DoctorContext } from './doctor-context.js';
import { realtimeStatus } from './realtime.js';
import { formatBytes } from './units.js';
import { explain } from '../explain/index.js';

/** Inactive permanent slots retaining more than this are a warning (a temporary slot cannot be inactive for long). */
const RETAINED_WARN_BYTES = 16 * 1024 * 1024;

export const realtimeCheck: Check<DoctorContext> = {
  id: 'realtime',
  title: 'Real-time',
  needs: ['pg-auth'],
  async run(ctx): Promise<CheckResult> {
    const s = await realtimeStatus(ctx.client!, ctx.config!.schema);
    const unmet = s.prerequisites.filter((p) => !p.ok && (p.id !== 'publication' || s.mode === 'notify'));
    const details = [
      ...s.slots.map(
        (sl) =>
          `slot ${sl.name} (${sl.temporary ? 'temporary' : 'permanent'}, ${sl.active ? 'active' : 'inactive'}): lag ${formatBytes(sl.lagBytes)}, retains ${formatBytes(sl.retainedBytes)} of WAL`,
      ),
    ];
    const stuck = s.slots.filter((sl) => !sl.active && !sl.temporary);
    if (stuck.length > 0) {
      const worst = stuck.sort((a, b) => (b.retainedBytes ?? 0) - (a.retainedBytes ?? 0))[0]!;
      const err = new ChatgeniusError('REALTIME_SLOT_RETAINING', `slot ${worst.name} is inactive`, {
        slot: worst.name,
        retained: formatBytes(worst.retainedBytes),
        dropSql: worst.dropSql,
      });
      return {
        ...failWith(err, (worst.retainedBytes ?? 0) > RETAINED_WARN_BYTES * 64 ? 'fail' : 'warn'),
        summary: `${s.mode} mode; ${stuck.length === 1 ? 'a slot nobody reads' : `${stuck.length} slots nobody reads`}: ${stuck.map((x) => `${x.name} retains ${formatBytes(x.retainedBytes)}`).join(', ')}`,
        details,
      };
    }
    if (s.mode === 'logical') {
      const problem = unmet.find((p) => p.id !== 'publication')?.problem;
      if (problem) return { ...failWith(problem), details };
      // Logical mode not as `realtime use logical` leaves it: a table missing from the
      // publication, or a notify trigger turned back on (its writers pay for NOTIFY too).
      if (s.missing.length > 0 || s.enabledTriggers.length > 0) {
        return {
          ...failWith(
            new ChatgeniusError('REALTIME_INCONSISTENT', 'logical mode is incomplete', {
              schema: s.schema,
              publication: s.publication,
              missing: s.missing.join(', '),
              enabledTriggers: s.enabledTriggers.join(', '),
            }),
            'warn',
          ),
          details,
        };
      }
      return { status: 'pass', summary: `logical mode (publication ${s.publication}, ${s.tables.length} tables); wal_level=logical, streaming allowed`, details };
    }
    const ready = unmet.length === 0;
    return {
      status: 'pass',
      summary: `notify mode; logical mode ${ready ? 'available (chatgenius-db realtime use logical)' : `would need: ${unmet.map((p) => p.found).join('; ')}`}`,
      details,
      ...(ready || !unmet[0]!.problem ? {} : { hint: `For logical mode: ${explain(unmet[0]!.problem).hint}` }),
    };
  },
};
