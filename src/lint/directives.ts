/**
 * A file's acknowledgements: `-- chatgenius:allow <rule>[,<rule>] <reason>` moves that rule's
 * findings in the file aside (kept for the plan and --verbose); a directive without a known rule
 * or a reason is a finding itself.
 */
import { lineColumn } from '../code-frame.js';
import { type Finding, findingOf } from './finding.js';
import { RULE_BY_ID } from './rules.js';

const DIRECTIVE = /^[ \t]*--[ \t]*chatgenius:allow\b(.*)$/gim;

interface Directive {
  rules: string[];
  reason: string;
  line: number;
  column: number;
}

/** Pure: the `-- chatgenius:allow <rule>[,<rule>] <reason>` lines of a file. */
export function parseDirectives(text: string): Directive[] {
  const out: Directive[] = [];
  for (const m of text.matchAll(DIRECTIVE)) {
    const rest = m[1]!.trim();
    const [list = '', ...reason] = rest.split(/\s+/);
    const { line, column } = lineColumn(text, m.index! + m[0].indexOf('--'));
    out.push({ rules: list.split(',').filter(Boolean), reason: reason.join(' ').trim(), line, column });
  }
  return out;
}

export /** Apply a file's directives: acknowledged findings move aside; bad directives become findings. */
function applyDirectives(f: { file: string; text: string }, findings: Finding[]): { active: Finding[]; acknowledged: Finding[] } {
  const directives = parseDirectives(f.text);
  const allow = new Map<string, string>();
  const active: Finding[] = [];
  const invalid = RULE_BY_ID.get('invalid-directive')!;
  for (const d of directives) {
    const unknown = d.rules.filter((r) => !RULE_BY_ID.has(r));
    if (d.rules.length === 0 || unknown.length > 0) {
      active.push(
        findingOf(
          invalid,
          f.file,
          d.line,
          d.column,
          d.rules.length === 0 ? 'chatgenius:allow names no rule' : `chatgenius:allow names unknown rule ${unknown.join(', ')}`,
        ),
      );
      continue;
    }
    if (!d.reason) {
      active.push(findingOf(invalid, f.file, d.line, d.column, `chatgenius:allow ${d.rules.join(',')} gives no reason`));
      continue;
    }
    for (const r of d.rules) allow.set(r, d.reason);
  }
  const acknowledged: Finding[] = [];
  for (const x of findings) {
    const reason = allow.get(x.rule);
    if (reason !== undefined && x.rule !== 'invalid-directive') acknowledged.push({ ...x, acknowledged: reason });
    else active.push(x);
  }
  return { active, acknowledged };
}
