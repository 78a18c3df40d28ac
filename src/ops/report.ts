/**
 * Explain a failure of an operations command (doctor, listen, status --metrics) the way the
 * CLI's reporter does, but with explainOps(): our LISTEN_* / DOCTOR_* codes are not in the
 * shared explain table (src/explain/index.ts merges only the five domain tables).
 */
import type { CliIO } from '../cli/command.js';
import type { Reporter } from '../cli/output/reporter.js';
import { exitCodeFor } from '../cli/output/reporter.js';
import { formatExplanation } from '../cli/output/format.js';
import { explainOps } from './explain.js';

export function reportOpsError(r: Reporter, io: CliIO, err: unknown): number {
  const code = exitCodeFor(err);
  const x = r.redactor.redactValue(explainOps(err));
  io.stderr.write(r.redactor.redact(formatExplanation(x, r.errColors)));
  if (r.verbose && err instanceof Error && err.stack) io.stderr.write(r.redactor.redact(`${err.stack}\n`));
  r.log('error', 'error', { ...x, exitCode: code });
  r.setResult({ error: x });
  return code;
}
