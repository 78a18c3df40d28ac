import { RULES } from '../src/lint/rules.js';
const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const rows = RULES.map((r) => `| \`${r.id}\` | ${r.severity} | ${esc(r.title)} | ${esc(r.lock)} | ${esc(r.fix)} |`).join('\n');
process.stdout.write(rows + '\n');
