/**
 * Cold-start time of the CLI: `chatgenius-db --help` and `--version` beside `node -e 0`
 * (median of N runs each, interleaved). Prints figures; asserts nothing.
 * Usage: npm run build && node --import tsx bench/startup.ts [runs=10]
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../bin/chatgenius-db.js', import.meta.url));
const runs = Number(process.argv[2] ?? 10);

const cases: Array<{ label: string; args: string[] }> = [
  { label: 'node -e 0', args: ['-e', '0'] },
  { label: 'chatgenius-db --version', args: [bin, '--version'] },
  { label: 'chatgenius-db --help', args: [bin, '--help'] },
  { label: 'chatgenius-db init --help', args: [bin, 'init', '--help'] },
];

function timeOnce(args: string[]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { stdio: 'ignore', env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1' } });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}`);
  return ms;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const times = new Map<string, number[]>(cases.map((c) => [c.label, []]));
for (const c of cases) timeOnce(c.args); // warm the file cache
for (let i = 0; i < runs; i++) for (const c of cases) times.get(c.label)!.push(timeOnce(c.args));

const base = median(times.get('node -e 0')!);
console.log(`cold start, median of ${runs} runs (node ${process.version}, ${process.platform}/${process.arch})`);
for (const c of cases) {
  const m = median(times.get(c.label)!);
  const extra = c.label === 'node -e 0' ? '' : `  (+${(m - base).toFixed(1)} ms over node)`;
  console.log(`  ${c.label.padEnd(28)} ${m.toFixed(1).padStart(7)} ms${extra}`);
}
