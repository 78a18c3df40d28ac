/** Pure formatting helpers for the terminal: durations, targets, explanations, tables. */
import picocolors from 'picocolors';
import type { ConnectionConfig } from '../../config/types.js';
import type { Explanation } from '../../explain/types.js';
import type { Colors } from './colors.js';

/** 12 ms, 1.4 s, 2 min 3 s. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const min = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return `${min} min ${s} s`;
}

/** postgres://user:****@host:port/db (the password is never shown, only that there is one). */
export function describeConnection(conn: Pick<ConnectionConfig, 'host' | 'port' | 'database' | 'user' | 'password'>): string {
  const user = encodeURIComponent(conn.user);
  const auth = conn.password ? `${user}:****@` : `${user}@`;
  const host = conn.host.includes(':') ? `[${conn.host}]` : conn.host;
  return `postgres://${auth}${host}:${conn.port}/${encodeURIComponent(conn.database)}`;
}

/** The bastion as shown after a target: ` via ssh deploy@bastion.example.com:2222` (the port always, 22 too). */
export function describeBastion(tunnel: { username: string; host: string; port: number } | null | undefined): string {
  if (!tunnel) return '';
  const host = tunnel.host.includes(':') ? `[${tunnel.host}]` : tunnel.host;
  return ` via ssh ${tunnel.username}@${host}:${tunnel.port}`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * The one wording of an explanation: title (code), Why:, Fix:, then the detail block. Printed on
 * stderr for any failure (with the mark, indented); inside a wizard box (`framed`: clack draws
 * the mark and the frame) without them, and with no trailing newline.
 */
export function formatExplanation(x: Explanation, c: Colors, opts: { framed?: boolean } = {}): string {
  const pad = opts.framed ? '' : '  ';
  const title = `${c.bold(x.title)} ${c.dim(`(${x.code})`)}`;
  const lines = [opts.framed ? title : `${c.red('✖')} ${title}`, `${pad}${c.bold('Why:')} ${x.cause}`, `${pad}${c.bold('Fix:')} ${x.hint}`];
  if (x.detail && !opts.framed) {
    lines.push('');
    for (const l of x.detail.split('\n')) lines.push(`${pad}${l}`);
  }
  return opts.framed ? lines.join('\n') : `${lines.join('\n')}\n`;
}

/** Colours that print nothing extra (text inside a wizard box). */
const plain: Colors = picocolors.createColors(false);

/** An explanation as a wizard shows it inside its box. */
export function framedExplanation(x: Explanation): string {
  return formatExplanation(x, plain, { framed: true });
}

/** A plain left-aligned table (no borders). */
export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n') + '\n';
}

/** Levenshtein distance (small strings only: flag and command names). */
export function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}

/** The closest candidate when it is close enough to be a typo. */
export function didYouMean(input: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = distance(input, c);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  const limit = Math.max(2, Math.floor(input.length / 3));
  if (best !== undefined && (bestD <= limit || best.startsWith(input) || input.startsWith(best))) return best;
  return undefined;
}
