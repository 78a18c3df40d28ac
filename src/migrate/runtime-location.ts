/**
 * Where in a statement a run-time error happened. The server gives a position for errors it
 * finds while parsing and planning, but none for errors while executing (division by zero): the
 * runner then points at the statement's start. For the errors an operator raises, the parse tree
 * (src/lint/parser.ts) knows where the operator is: point the caret there instead.
 */
import { codeFrameIn, lineColumn } from '../code-frame.js';
import { byteToUtf16, parseSql } from '../lint/parser.js';
import type { MigrationFailure } from './types.js';

/** SQLSTATE -> the operators and functions that raise it. */
export const RAISED_BY: Readonly<Record<string, { operators: string[]; functions: string[] }>> = {
  '22012': { operators: ['/', '%'], functions: ['div', 'mod'] }, // division_by_zero
};

const names = (list: unknown): string[] => (Array.isArray(list) ? list.map((n) => (n as { String?: { sval?: string } })?.String?.sval ?? '').filter(Boolean) : []);

/** Pure: byte locations of the operators / function calls in a parse tree node (any depth). */
export function operatorLocations(node: unknown, raisedBy: { operators: string[]; functions: string[] }): number[] {
  const out: number[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) {
      for (const x of v) walk(x);
      return;
    }
    if (!v || typeof v !== 'object') return;
    const o = v as Record<string, unknown>;
    const expr = o.A_Expr as { name?: unknown; location?: number } | undefined;
    if (expr && typeof expr.location === 'number' && names(expr.name).some((n) => raisedBy.operators.includes(n))) out.push(expr.location);
    const call = o.FuncCall as { funcname?: unknown; location?: number } | undefined;
    if (call && typeof call.location === 'number') {
      const fn = names(call.funcname).at(-1);
      if (fn && raisedBy.functions.includes(fn)) out.push(call.location);
    }
    for (const x of Object.values(o)) walk(x);
  };
  walk(node);
  return out.sort((a, b) => a - b);
}

/**
 * The failure with its line, column and frame at the first operator that can raise its SQLSTATE,
 * when the runner could only point at the statement's start. Unchanged otherwise (or if the
 * file does not parse).
 */
export async function pointAtOperator(failure: MigrationFailure, fileText: string): Promise<MigrationFailure> {
  const raisedBy = failure.code ? RAISED_BY[failure.code] : undefined;
  if (!raisedBy || failure.phase !== 'runtime' || failure.line === undefined || failure.column === undefined) return failure;
  try {
    const stmt = (await parseSql(fileText)).find((s) => s.line === failure.line && s.column === failure.column);
    if (!stmt) return failure;
    const first = operatorLocations(stmt.node, raisedBy)[0];
    if (first === undefined) return failure;
    const at = lineColumn(fileText, byteToUtf16(fileText, first));
    return { ...failure, line: at.line, column: at.column, frame: codeFrameIn(fileText, at.line, at.column) };
  } catch {
    return failure;
  }
}
