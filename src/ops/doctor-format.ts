/**
 * How doctor shows its results: one line per check with a mark, the figure, and on failure the
 * hint; or (--json) one LogFormat object per check and a last `result` line. Pure functions.
 */
import type { CheckReport, CheckStatus, DoctorTotals } from './checks.js';

export const MARKS: Record<CheckStatus, string> = { pass: '✔', fail: '✖', warn: '▲', skip: '–' };

export interface Paint {
  green(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  dim(s: string): string;
}
export const noPaint: Paint = { green: (s) => s, red: (s) => s, yellow: (s) => s, dim: (s) => s };

const TITLE_WIDTH = 30;

export function formatCheckLine(r: CheckReport, paint: Paint = noPaint): string {
  const color = r.status === 'pass' ? paint.green : r.status === 'fail' ? paint.red : r.status === 'warn' ? paint.yellow : paint.dim;
  const figure = r.figure ? ` ${paint.dim(`(${r.figure})`)}` : '';
  const lines = [`${color(MARKS[r.status])} ${r.title.padEnd(TITLE_WIDTH)} ${r.summary}${figure}`];
  for (const d of r.details ?? []) lines.push(`    ${paint.dim(d)}`);
  if ((r.status === 'fail' || r.status === 'warn') && r.hint) {
    for (const h of r.hint.split('\n')) lines.push(`    ${color('→')} ${h}`);
  }
  return lines.join('\n');
}

export function formatTotals(t: DoctorTotals, paint: Paint = noPaint): string {
  const parts = [`${t.pass} passed`, `${t.warn} warning${t.warn === 1 ? '' : 's'}`, `${t.fail} failed`, `${t.skip} skipped`];
  if (t.ok) {
    return paint.green(`${parts.join(', ')}: ${t.warn > 0 ? 'usable, but read the warnings above' : 'every link works'}`);
  }
  return paint.red(`${parts.join(', ')}: fix "${t.firstFailure}" first`);
}

export interface LogLine {
  timestamp: string;
  correlationId: string;
  level: 'debug' | 'info' | 'warn' | 'error';
  event: string;
  data?: Record<string, unknown>;
}

const LEVEL: Record<CheckStatus, LogLine['level']> = { pass: 'info', warn: 'warn', fail: 'error', skip: 'info' };

export function checkLogLine(r: CheckReport, correlationId: string, at: Date = new Date()): LogLine {
  const data: Record<string, unknown> = { id: r.id, title: r.title, status: r.status, summary: r.summary, ms: r.ms };
  if (r.figure !== undefined) data.figure = r.figure;
  if (r.code !== undefined) data.code = r.code;
  if (r.hint !== undefined) data.hint = r.hint;
  if (r.details !== undefined) data.details = r.details;
  return { timestamp: at.toISOString(), correlationId, level: LEVEL[r.status], event: 'doctor_check', data };
}

export function resultLogLine(t: DoctorTotals, correlationId: string, at: Date = new Date()): LogLine {
  return {
    timestamp: at.toISOString(),
    correlationId,
    level: t.ok ? 'info' : 'error',
    event: 'result',
    data: { command: 'doctor', ok: t.ok, pass: t.pass, warn: t.warn, fail: t.fail, skip: t.skip, ...(t.firstFailure ? { firstFailure: t.firstFailure } : {}) },
  };
}
