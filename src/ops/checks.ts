/**
 * The doctor's check runner: an ordered list of checks, each one link of the chain.
 * A check that fails blocks the checks that need it (they are skipped and say why);
 * a check that does not apply (no tunnel configured) is skipped without blocking anything.
 * Pure sequencing: the checks themselves do the I/O.
 */
export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  status: CheckStatus;
  /** One short line: what was found. Never a secret. */
  summary: string;
  /** A figure where one fits: "12 ms", "PostgreSQL 16.2", "3 applied, 1 pending". */
  figure?: string;
  /** On failure or warning: what to do (from explain()). */
  hint?: string;
  /** The error code behind a failure, when there is one (SQLSTATE, SSH_*, ECONNREFUSED...). */
  code?: string;
  /** Extra lines (e.g. which variables each env file supplied). */
  details?: string[];
}

export interface Check<C> {
  id: string;
  title: string;
  /** Ids of earlier checks this one needs; if any of them failed (or was skipped for a failure), this is skipped. */
  needs?: string[];
  run(ctx: C): Promise<CheckResult>;
}

export interface CheckReport extends CheckResult {
  id: string;
  title: string;
  ms: number;
}

/** A check that does not apply here: skipped, and blocks nothing. */
export function notApplicable(summary: string): CheckResult {
  return { status: 'skip', summary };
}

/** Run the checks in order. `onResult` sees each report as soon as it is known (for streaming output). */
export async function runChecks<C>(
  checks: ReadonlyArray<Check<C>>,
  ctx: C,
  onResult: (r: CheckReport) => void = () => {},
  now: () => number = () => performance.now(),
): Promise<CheckReport[]> {
  const reports: CheckReport[] = [];
  const blocked = new Map<string, string>(); // id -> title of the failed link at the root
  for (const check of checks) {
    const failedNeed = (check.needs ?? []).find((n) => blocked.has(n));
    let report: CheckReport;
    if (failedNeed !== undefined) {
      const root = blocked.get(failedNeed)!;
      blocked.set(check.id, root);
      report = { id: check.id, title: check.title, status: 'skip', summary: `skipped: "${root}" failed`, ms: 0 };
    } else {
      const t0 = now();
      let result: CheckResult;
      try {
        result = await check.run(ctx);
      } catch (err) {
        // A check's own bug or an unexpected error: a failure of that link, never a crash of doctor.
        result = { status: 'fail', summary: err instanceof Error ? err.message : String(err) };
      }
      report = { id: check.id, title: check.title, ...result, ms: Math.round(now() - t0) };
      if (result.status === 'fail') blocked.set(check.id, check.title);
    }
    reports.push(report);
    onResult(report);
  }
  return reports;
}

export interface DoctorTotals {
  pass: number;
  warn: number;
  fail: number;
  skip: number;
  ok: boolean;
  /** The first failed link, the one to fix first. */
  firstFailure?: string;
}

/** Warnings do not fail doctor: exit 0 when nothing failed. */
export function totals(reports: ReadonlyArray<CheckReport>): DoctorTotals {
  const t: DoctorTotals = { pass: 0, warn: 0, fail: 0, skip: 0, ok: true };
  for (const r of reports) t[r.status] += 1;
  t.ok = t.fail === 0;
  const first = reports.find((r) => r.status === 'fail');
  if (first) t.firstFailure = first.title;
  return t;
}
