/** Step: show the plan: the target (password masked), the schema, the pending migrations. */
import type { LockPlan } from '../../lint/index.js';
import type { StatusResult } from '../../migrate/types.js';
import { lockPlanLines } from '../output/lock-plan.js';
import type { Prompter } from './prompts.js';

/** Pure: the plan note's lines. */
export function planLines(o: { label: string; env: string; schema: string; status: StatusResult; lockPlan?: LockPlan }): string[] {
  const lines = [`Target:  ${o.label}`, `Env:     ${o.env}`, `Schema:  ${o.schema}`, ''];
  const applied = o.status.applied.filter((a) => a.status === 'applied').length;
  if (o.status.pending.length === 0) {
    lines.push(`Up to date: ${applied} migration${applied === 1 ? '' : 's'} applied, nothing to do.`);
    return lines;
  }
  lines.push(`${o.status.pending.length} pending migration${o.status.pending.length === 1 ? '' : 's'} (${applied} already applied):`);
  if (o.lockPlan) {
    for (const l of lockPlanLines(o.lockPlan)) lines.push(`  ${l}`);
  } else {
    for (const m of o.status.pending) lines.push(`  ${m.version}_${m.name}${m.outOfOrder ? '  (out of order)' : ''}`);
  }
  if (o.status.drift.length > 0) {
    lines.push('', `Drift: ${o.status.drift.map((d) => d.file).join(', ')} changed after being applied (init will refuse; see verify / repair).`);
  }
  return lines;
}

export function showPlan(p: Prompter, o: { label: string; env: string; schema: string; status: StatusResult; lockPlan?: LockPlan }): void {
  p.note(planLines(o).join('\n'), 'The plan');
}
