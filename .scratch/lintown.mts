import { lintDirectory } from '../src/lint/lint.js';
const t0 = Date.now();
const r = await lintDirectory(process.argv[2] ?? 'sql');
console.log(Date.now() - t0, 'ms', r.files, 'files', r.errors, 'errors', r.warnings, 'warnings', r.acknowledged.length, 'ack');
const by = new Map<string, number>();
for (const f of r.findings) by.set(`${f.file} ${f.rule} ${f.severity}`, (by.get(`${f.file} ${f.rule} ${f.severity}`) ?? 0) + 1);
console.log(by);
for (const f of r.findings.slice(0, 4)) console.log(f);
