/** The journal link: applied, pending, drift, missing files, a failed last run (the engine's `status`). */
import { ChatgeniusError } from '../errors.js';
import type { Check, CheckResult } from './checks.js';
import { failWith, type DoctorContext } from './doctor-context.js';
import { status } from '../migrate/index.js';

export const journalCheck: Check<DoctorContext> = {
  id: 'journal',
  title: 'Migration journal',
  needs: ['pg-auth'],
  async run(ctx): Promise<CheckResult> {
    const c = ctx.config!;
    let st: Awaited<ReturnType<typeof status>>;
    try {
      st = await status(ctx.client!, {
        schema: c.schema,
        migrationsDir: c.migrationsDir,
        lockTimeoutMs: c.lockTimeoutMs,
        statementTimeoutMs: c.statementTimeoutMs,
        emit: ctx.emit,
      });
    } catch (err) {
      return failWith(err);
    }
    const figure = `${st.applied.length} applied, ${st.pending.length} pending`;
    if (st.drift.length > 0) {
      const files = st.drift.map((d) => d.file).join(', ');
      return { ...failWith(new ChatgeniusError('DOCTOR_JOURNAL_DRIFT', `drift in ${files}`, { files })), figure };
    }
    if (st.lastFailure) {
      const f = st.lastFailure;
      return {
        ...failWith(
          new ChatgeniusError('DOCTOR_JOURNAL_FAILED_RUN', `migration ${f.version} failed`, { version: `${f.version}_${f.name}`, message: f.errorMessage ?? undefined }),
        ),
        figure,
      };
    }
    if (st.missing.length > 0) {
      return {
        status: 'warn',
        summary: `applied migrations without a file in ${c.migrationsDir}: ${st.missing.map((m) => `${m.version}_${m.name}`).join(', ')}`,
        hint: 'Check --migrations-dir / CHATGENIUS_MIGRATIONS_DIR, or that your checkout is up to date (git pull).',
        figure,
      };
    }
    if (!st.journalExists) {
      return { status: 'pass', summary: `no journal yet in schema "${c.schema}"; ${st.pending.length} migrations to apply (chatgenius-db init)`, figure };
    }
    if (st.pending.length > 0) {
      const outOfOrder = st.pending.filter((p) => p.outOfOrder).length;
      return {
        status: 'pass',
        summary: `up to ${st.applied.at(-1)?.version ?? 'nothing'}; pending: ${st.pending.map((p) => p.version).join(', ')} (run chatgenius-db init)${outOfOrder ? `; ${outOfOrder} out of order` : ''}`,
        figure,
      };
    }
    return { status: 'pass', summary: `up to date (${st.applied.at(-1)?.version ?? 'no migrations'})`, figure };
  },
};
