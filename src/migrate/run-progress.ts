/**
 * What a run of steps has seen so far: each step's result, what the batch's notices said (which
 * step started, which committed), and the SQL sent. The notices make a commit known the moment it
 * is durable, not when the whole batch returns (a kill or a hang later must not hide it).
 */
import type pg from 'pg';
import { MARK } from './batch-sql.js';
import { PEEK, parseStateRows, results as resultsOf, stateSql } from './lock.js';
import type { RunContext, RunOutcome } from './run-context.js';
import { fileOf, stepId, type Step } from './steps.js';
import type { JournalRow, MigrationFailure, MigrationResult } from './types.js';

/** The journal says the step's change committed: an up step has its applied row, a down step's row is gone. */
export function committedPerJournal(step: Step, journal: JournalRow[]): boolean {
  const applied = journal.some((r) => r.status === 'applied' && r.version === step.file.version);
  return step.direction === 'up' ? applied : !applied;
}

function durationIn(journal: JournalRow[], step: Step): number {
  return journal.find((r) => r.version === step.file.version)?.durationMs ?? 0;
}

export class RunProgress {
  readonly results = new Map<Step, MigrationResult>();
  /** When each step's start notice arrived (cleared per batch: "nothing started" tells a rejected batch from a run-time failure). */
  readonly startTimes = new Map<string, number>();
  /** The replay's position: the index of the statement whose notice came last. */
  lastStmt = -1;
  /** After a failure the server's notices (a ROLLBACK's warning) are not the migration's: not passed on. */
  quiet = false;
  private readonly sent: string[] = [];
  private lastStart: string | null = null;
  private readonly announced = new Set<Step>();

  constructor(
    private readonly ctx: RunContext,
    private readonly steps: Step[],
  ) {
    for (const s of steps) {
      this.results.set(s, { version: s.file.version, name: s.file.name, file: fileOf(s), direction: s.direction, status: 'not-run' });
    }
  }

  /** Send one simple query (many statements), remembering it for --verbose and dry-run. */
  readonly query = async (text: string): Promise<pg.QueryResult[]> => {
    this.sent.push(text);
    return resultsOf(await this.ctx.client.query(text));
  };

  /** A step begins (the statement-by-statement path says so itself; the batch's notice does it otherwise). */
  started(step: Step): void {
    this.lastStart = stepId(step);
    this.ctx.emit({ type: 'migration:start', version: step.file.version, name: step.file.name, direction: step.direction });
  }

  /** A step committed: said once, however many ways it is learnt. */
  readonly done = (step: Step, durationMs: number): void => {
    if (this.announced.has(step)) return;
    this.announced.add(step);
    const r = this.results.get(step)!;
    r.status = step.direction === 'up' ? 'applied' : 'rolled-back';
    r.durationMs = durationMs;
    this.ctx.emit({ type: 'migration:done', version: step.file.version, name: step.file.name, direction: step.direction, durationMs });
  };

  /** The engine's own notices move the progress on; the migration's own are passed on as events. */
  readonly onNotice = (msg: { message?: string; severity?: string }): void => {
    const text = String(msg.message ?? '');
    if (text.startsWith(MARK)) {
      const [kind, ...rest] = text.slice(MARK.length).split(':');
      const id = rest.join(':');
      const step = this.steps.find((s) => stepId(s) === id);
      if (kind === 'start') {
        this.startTimes.set(id, Date.now());
        if (step) this.started(step);
        else this.lastStart = id;
      } else if (kind === 'done') {
        const began = this.startTimes.get(id);
        if (step) this.done(step, began === undefined ? 0 : Date.now() - began);
      } else if (kind === 'stmt') this.lastStmt = Number(rest[0]);
      return;
    }
    if (this.quiet) return;
    const sev = String(msg.severity ?? 'NOTICE');
    this.ctx.emit({
      type: 'notice',
      level: sev === 'WARNING' ? 'warn' : 'info',
      message: text,
      data: { source: 'migration', severity: sev, ...(this.lastStart ? { migration: this.lastStart } : {}) },
    });
  };

  /** The step that was running: its start notice came, it has not finished. */
  running(steps: Step[] = this.steps): Step | undefined {
    return steps.find((s) => this.results.get(s)!.status === 'not-run' && this.startTimes.has(stepId(s)));
  }

  /** The steps the journal shows committed are done; returns the rest. */
  doneFromJournal(steps: Step[], journal: JournalRow[]): Step[] {
    for (const s of steps) if (committedPerJournal(s, journal)) this.done(s, durationIn(journal, s));
    return steps.filter((s) => !committedPerJournal(s, journal));
  }

  /** Mark `steps` done with their journal durations (they committed before the failure). */
  doneWithDurations(steps: Step[], journal: JournalRow[]): void {
    for (const s of steps) this.done(s, durationIn(journal, s));
  }

  /**
   * End the aborted transaction and read the journal back (the truth about what committed, even a
   * COMMIT whose notice was cut off): one trip, no lock waited for; `then` rides along. Null when
   * the session is gone.
   */
  async rollbackAndReadJournal(then = ''): Promise<JournalRow[] | null> {
    try {
      const res = await this.query(`ROLLBACK;\n${stateSql(this.ctx.schema, PEEK)}${then ? `;\n${then}` : ''}`);
      return parseStateRows(res)?.journal ?? null;
    } catch {
      return null;
    }
  }

  /** A step failed: its result says so, and a `migration:failed` event. */
  failed(step: Step, failure: MigrationFailure): void {
    this.results.get(step)!.status = 'failed';
    this.ctx.emit({
      type: 'migration:failed',
      version: step.file.version,
      name: step.file.name,
      direction: step.direction,
      ...(failure.code ? { code: failure.code } : {}),
      message: failure.message,
      ...(failure.statement ? { statement: failure.statement } : {}),
    });
  }

  outcome(end: { failure?: MigrationFailure; cancelled?: boolean } = {}): RunOutcome {
    return {
      results: [...this.results.values()],
      ...(end.failure ? { failure: end.failure } : {}),
      sql: this.sent.join('\n'),
      ...(end.cancelled ? { cancelled: true } : {}),
    };
  }
}
