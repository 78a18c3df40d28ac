/** `chatgenius-db lint`: check every migration file against the safety rules; exit 1 on an error. */
import { isAbsolute, relative, resolve } from 'node:path';
import { usageError } from '../../errors.js';
import { RULES } from '../../lint/rules.js';
import type { CommandContext, OptionSpec } from '../command.js';
import { reporterFor } from '../output/reporter.js';
import { defaultMigrationsDir } from '../../config/index.js';
import { lintDirectory } from '../../lint/index.js';

export const summary = 'Check the migration files for locks and outages before they run (CI: --format github)';

export const help = `Usage: chatgenius-db lint [--migrations-dir DIR] [--json] [--format github]

Parses every migration file with PostgreSQL's own parser and checks it against the migration
safety rules (a plain CREATE INDEX on a live table, a constraint validated under lock, a column
type change that rewrites the table, a backfill in one transaction, a missing or incomplete down
file...). Each finding names the rule, the file:line:column, the lock it takes and on what, why
it hurts and the safe rewrite. Exits 1 when a finding is an error.

A file acknowledges a finding it means to keep with a directive line naming the rule and why:
  -- chatgenius:allow ban-drop-column the app stopped reading avatar_url in release 42
The directive silences exactly that rule, in that file.

Options:
  --migrations-dir DIR   the migration files (default: CHATGENIUS_MIGRATIONS_DIR, else the package's sql/)
  --json                 JSON lines on stdout: one "lint:finding" line per finding, last line "result"
  --format github        GitHub Actions annotations (::error file=...,line=...,col=...::...) on stdout
  --verbose, -v          also list the acknowledged findings
  --log-file PATH        append the JSON lines to PATH

Rules (README "Migration safety" has each rule's lock and safe rewrite):
{{RULES}}

Examples:
  chatgenius-db lint
  chatgenius-db lint --migrations-dir db/migrations --format github
`.replace('{{RULES}}', RULES.map((r) => `  ${r.id.padEnd(36)} ${r.severity.padEnd(7)} ${r.title}`).join('\n'));

export const options = {
  'migrations-dir': { type: 'string' },
  json: { type: 'boolean' },
  format: { type: 'string' },
  'log-file': { type: 'string' },
  verbose: { type: 'boolean', short: 'v' },
} as const satisfies OptionSpec;

/** GitHub's workflow-command escaping (data, then property values). */
export function escapeData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}
export function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/** Pure: one `::error file=...,line=...,col=...,title=...::message` line per finding. */
export function githubAnnotation(
  f: { file: string; line: number; column: number; rule: string; severity: string; message: string; lock?: string; fix: string },
  path: string,
): string {
  const level = f.severity === 'error' ? 'error' : 'warning';
  const body = `${f.message}.${f.lock ? ` Lock: ${f.lock}.` : ''}\nFix: ${f.fix}`;
  return `::${level} file=${escapeProperty(path)},line=${f.line},col=${f.column},title=${escapeProperty(`${f.rule} (chatgenius-db lint)`)}::${escapeData(body)}`;
}

export async function run(ctx: CommandContext): Promise<number> {
  const r = reporterFor(ctx);
  const format = ctx.flags.format;
  if (format !== undefined && format !== 'github' && format !== 'text') {
    throw usageError('USAGE_BAD_FLAG_VALUE', `--format ${String(format)}: expected github or text`, { flag: '--format', command: 'lint' });
  }
  const given = typeof ctx.flags['migrations-dir'] === 'string' ? ctx.flags['migrations-dir'] : ctx.env.CHATGENIUS_MIGRATIONS_DIR || undefined;
  let dir: string;
  if (given) dir = isAbsolute(given) ? given : resolve(ctx.cwd, given);
  else {
    dir = defaultMigrationsDir();
  }
  const result = await lintDirectory(dir);
  const rel = (file: string) => {
    const p = relative(ctx.cwd, resolve(dir, file));
    return p.startsWith('..') ? resolve(dir, file) : p;
  };
  const c = r.out.colors;
  const explained = new Set<string>();
  for (const f of result.findings) {
    const data = { ...f, file: rel(f.file) };
    r.log(f.severity === 'error' ? 'error' : 'warn', 'lint:finding', data);
    if (format === 'github') {
      ctx.io.stdout.write(`${githubAnnotation(f, rel(f.file))}\n`);
      continue;
    }
    const tag = f.severity === 'error' ? c.red('error') : c.yellow('warning');
    r.out.line(`${c.bold(`${rel(f.file)}:${f.line}:${f.column}`)}  ${tag}  ${c.dim(f.rule)}`);
    r.out.line(`  ${f.message}`);
    if (f.lock) r.out.line(`  ${c.dim('lock:')} ${f.lock}`);
    // Why and fix once per rule: the next findings of the same rule point back to it.
    if (!explained.has(f.rule)) {
      explained.add(f.rule);
      r.out.line(`  ${c.dim('why:')}  ${f.why}`);
      r.out.line(`  ${c.dim('fix:')}  ${f.fix}`);
    }
    r.out.line('');
  }
  if (r.verbose && format !== 'github') {
    for (const f of result.acknowledged) r.out.line(c.dim(`${rel(f.file)}:${f.line}:${f.column}  acknowledged  ${f.rule}: ${f.acknowledged}`));
  }
  const counts = `${result.errors} error${result.errors === 1 ? '' : 's'}, ${result.warnings} warning${result.warnings === 1 ? '' : 's'} in ${result.files} file${result.files === 1 ? '' : 's'}${result.acknowledged.length ? ` (${result.acknowledged.length} acknowledged)` : ''}`;
  r.setResult({
    dir: result.dir,
    files: result.files,
    errors: result.errors,
    warnings: result.warnings,
    findings: result.findings.map((f) => ({ ...f, file: rel(f.file) })),
    acknowledged: result.acknowledged.map((f) => ({ ...f, file: rel(f.file) })),
  });
  if (format !== 'github') {
    if (result.errors > 0) r.out.warn(`lint: ${counts}`);
    else r.out.success(`lint: ${counts}`);
  }
  return result.errors > 0 ? 1 : 0;
}
