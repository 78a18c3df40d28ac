/**
 * Consent scales with risk: in production, a pending migration with an error-level lint finding
 * on a table that holds rows is refused without a person (exit 2, nothing changed) unless the
 * file acknowledges it or --allow-unsafe names the rule; development and test only warn.
 */
import type pg from 'pg';
import { usageError } from '../../errors.js';
import type { Emit } from '../../events.js';
import type { MigrationFile } from '../../migrate/types.js';
import type { CommandContext } from '../command.js';
import type { Reporter } from './reporter.js';
import { findingsOf, unsafeFindings, tableStats } from '../../lint/index.js';
import { unsafeLine } from './lock-plan.js';

export interface AllowUnsafe {
  all: boolean;
  rules: Set<string>;
}

/** --allow-unsafe RULE[,RULE...]|all, checked before anything connects. */
export function allowUnsafeOf(ctx: Pick<CommandContext, 'flags'>): AllowUnsafe {
  const v = ctx.flags['allow-unsafe'];
  if (typeof v !== 'string') return { all: false, rules: new Set() };
  const items = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return { all: items.includes('all'), rules: new Set(items.filter((x) => x !== 'all')) };
}

/** The unsafe findings of the pending files (one extra round trip, for table sizes, only when a finding needs it). */
export async function unsafeOf(client: pg.Client, schema: string, all: MigrationFile[], pending: MigrationFile[], allow: AllowUnsafe) {
  const byVersion = await findingsOf(all);
  const perVersion = pending.map((f) => ({ version: f.version, findings: byVersion.get(f.version)?.findings ?? [] }));
  const candidates = unsafeFindings(
    perVersion,
    new Map(perVersion.flatMap((m) => m.findings.filter((f) => f.table).map((f) => [f.table!.split('.').at(-1)!, { rows: 1, sizeBytes: 1 }] as const))),
    allow,
  );
  if (candidates.length === 0) return [];
  return unsafeFindings(perVersion, await tableStats(client, schema), allow);
}

/** Production without a person: throw UNSAFE_MIGRATION_REFUSED (exit 2) when consent is missing. */
export async function checkUnsafe(client: pg.Client, schema: string, all: MigrationFile[], pending: MigrationFile[], allow: AllowUnsafe): Promise<void> {
  const unsafe = await unsafeOf(client, schema, all, pending, allow);
  if (unsafe.length === 0) return;
  const rules = [...new Set(unsafe.map((u) => u.finding.rule))];
  throw usageError(
    'UNSAFE_MIGRATION_REFUSED',
    `Refused: ${unsafe.length} unsafe change${unsafe.length === 1 ? '' : 's'} to production tables that hold rows (${rules.join(', ')})`,
    {
      findings: unsafe.map(unsafeLine),
      rules: rules.join(','),
      flag: '--allow-unsafe',
    },
  );
}

/**
 * Development and test: an emit that, when the engine announces its plan, warns about the
 * pending files' error-level findings (no extra round trip: the files were read and checked
 * before connecting; lint results come from memory when these files were linted before).
 * Undefined when linting fails (the run goes on without the warnings).
 */
export async function warnUnsafe(files: MigrationFile[], r: Reporter): Promise<Emit | undefined> {
  try {
    const byVersion = await findingsOf(files);
    return (event) => {
      if (event.type === 'plan' && event.direction === 'up' && event.steps.length > 0) {
        for (const s of event.steps) {
          for (const f of byVersion.get(s.version)?.findings ?? []) {
            if (f.severity !== 'error') continue;
            r.out.warn(`${f.file}:${f.line}:${f.column} ${f.rule}: ${f.message} (in production this needs --allow-unsafe ${f.rule} or a directive)`);
            r.log('warn', 'lint:finding', { ...f });
          }
        }
      }
      r.emit(event);
    };
  } catch {
    return undefined;
  }
}
