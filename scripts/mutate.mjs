// A small, repeatable mutation check: each row below plants one small deliberate bug in the
// product, runs the test(s) that claim to catch it, and reverts the bug. A mutation that no named
// test catches "survived": the suite would let that regression through.
//
// Usage: node scripts/mutate.mjs [--list] [--baseline] [id-or-substring...]
//   --list      print the table of mutations (and whether each anchor is still found) and exit
//   --baseline  first run each named test unmutated (it must pass, else "caught" means nothing)
// Exit 0 when every mutation was caught; 1 when one survived, its anchor text is gone (the code
// moved: update the row) or its tests fail without it.
//
// How: the search text must occur exactly once in the file. The mutated file is written in place
// under src/ (tests run the TypeScript through tsx) and the same file is transpiled into dist/
// (the CLI tests spawn the built binary) with esbuild, which takes milliseconds where a full tsc
// build takes most of a minute. Both are restored in a finally block; a backup under
// .mutate-backup/ also survives a kill and is restored on the next start.
// Not part of `npm test`: about 10 minutes on 2 cores.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const backupDir = join(root, '.mutate-backup');

/**
 * id, file, search -> replace, and the test(s) that must fail: [file, name pattern].
 * Anchors are short lines of code that say what they do, so they survive unrelated edits.
 */
const MUTATIONS = [
  // ---- the bugs that used to slip through the hollow tests (issue 18) ----
  {
    id: 'tunnel-ignores-abort-once-open',
    file: 'src/tunnel/tunnel.ts',
    search: 'const onAbort = () => void close();',
    replace: 'const onAbort = () => {};',
    tests: [['test/tunnel.test.ts', 'an aborted signal closes the tunnel']],
  },
  {
    id: 'verbose-stack-unredacted',
    file: 'src/cli/output/reporter.ts',
    search: 'io.stderr.write(redactor.redact(`\\n${errColors.dim(stackOf(err))}\\n`));',
    replace: 'io.stderr.write(`\\n${errColors.dim(stackOf(err))}\\n`);',
    tests: [['test/cli-basics.test.ts', '--verbose adds the stack trace']],
  },
  {
    id: 'log-file-writes-nothing',
    file: 'src/log/logger.ts',
    search: 'if (open) writeSync(fd, `${line}\\n`);',
    replace: 'if (open && line === null) writeSync(fd, `${line}\\n`);',
    tests: [['test/cli-errors.test.ts', 'at least 30 bad inputs']],
  },
  {
    id: 'wrong-28P01-explanation',
    file: 'src/explain/db.ts',
    search: "title: 'Password authentication failed',",
    replace: "title: 'Database does not exist',",
    tests: [['test/db-explain.test.ts', 'explain 28P01']],
  },
  {
    id: 'host-key-checking-off',
    file: 'src/tunnel/tunnel.ts',
    search: 'verifyHostKey(cfg, key, hv).then(',
    replace: "Promise.resolve('known').then(",
    tests: [['test/tunnel.test.ts', 'the time a person takes to answer the host key prompt']],
  },
  {
    id: 'production-confirmation-mismatch-accepted',
    file: 'src/run.ts',
    search: 'if (config.confirmDatabase !== db) {',
    replace: 'if (config.confirmDatabase === null) {',
    tests: [['test/cli-errors.test.ts', 'a failed production guard changed nothing']],
  },
  {
    id: 'doctor-checks-tls-name-against-127.0.0.1',
    file: 'src/ops/doctor-pg.ts',
    search: 'return ctx.tunnel ? (ctx.connection ?? ctx.config?.connection)?.host : undefined;',
    replace: 'return undefined;',
    tests: [['test/db-tls.test.ts', 'doctor through a tunnel checks the certificate']],
  },
  {
    id: 'doctor-does-not-pass-tls-name-to-connect',
    file: 'src/ops/doctor-pg.ts',
    search: '...(tlsServerName ? { tlsServerName } : {}),',
    replace: '...{},',
    tests: [['test/db-tls.test.ts', 'doctor through a tunnel checks the certificate']],
  },
  {
    id: 'no-client-connection-check',
    file: 'src/db/connect.ts',
    search: 'if (opts.connectionCheck ?? true) parts.push(',
    replace: 'if (opts.connectionCheck === 42) parts.push(',
    tests: [['test/engine-concurrency.test.ts', 'a run killed with SIGKILL']],
  },
  {
    id: 'host-not-found-explained-as-refused',
    file: 'src/explain/network.ts',
    search: "title: 'Host not found',",
    replace: "title: 'Connection refused',",
    tests: [['test/db-explain.test.ts', 'explain ENOTFOUND']],
  },
  {
    // Ctrl-C must find the load mid-way for this to show: the test now waits for the COPY.
    id: 'seed-commits-users-before-messages',
    file: 'src/seed/load.ts',
    search: "counts.messages = await copyFrom(client, copySql(schema, 'messages'),",
    replace: "await client.query('COMMIT; BEGIN'); counts.messages = await copyFrom(client, copySql(schema, 'messages'),",
    tests: [['test/seed.test.ts', 'Ctrl-C during a seed rolls everything back']],
  },
  // ---- engine ----
  {
    id: 'engine-checksum-drift-ignored',
    file: 'src/migrate/plan.ts',
    search: 'if (!equivalentChecksum(f.version, row.checksum, f.checksum)) {',
    replace: 'if (row.checksum === null) {',
    tests: [['test/engine-plan.test.ts', 'planUp is a pure function']],
  },
  {
    id: 'engine-advisory-lock-skipped',
    file: 'src/migrate/lock.ts',
    search: 'got := pg_try_advisory_lock(${k1}, ${k2});',
    replace: 'got := true;',
    tests: [['test/engine-concurrency.test.ts', 'two runs started at once']],
  },
  {
    id: 'engine-rollback-steps-off-by-one',
    file: 'src/migrate/plan.ts',
    search: 'chosen = applied.slice(0, steps);',
    replace: 'chosen = applied.slice(0, steps + 1);',
    tests: [['test/engine-plan.test.ts', 'planDown']],
  },
  {
    id: 'engine-no-lock-timeout',
    file: 'src/migrate/batch-sql.ts',
    search: '`SET lock_timeout = ${ms(ctx.lockTimeoutMs)}`,',
    replace: '`SET lock_timeout = 0`,',
    tests: [['test/engine-apply.test.ts', 'retries in lockTimeoutMs slices']],
  },
  // ---- tunnel ----
  {
    id: 'tunnel-any-pinned-fingerprint-accepted',
    file: 'src/tunnel/host-key.ts',
    search: 'if (pinned === fp) {',
    replace: 'if (pinned !== null) {',
    tests: [['test/tunnel.test.ts', 'a pinned fingerprint is honoured']],
  },
  {
    id: 'tunnel-changed-host-key-not-refused',
    file: 'src/tunnel/host-key.ts',
    search: "if (check.status === 'changed') {",
    replace: "if (check.status === 'never') {",
    tests: [['test/tunnel.test.ts', 'a changed host key is refused']],
  },
  {
    id: 'tunnel-revoked-host-key-not-refused',
    file: 'src/tunnel/host-key.ts',
    search: "if (check.status === 'revoked') {",
    replace: "if (check.status === 'never') {",
    tests: [['test/tunnel.test.ts', 'a host key marked @revoked is refused']],
  },
  {
    id: 'tunnel-prompt-time-counts-against-ready-timeout',
    file: 'src/tunnel/tunnel.ts',
    search: '          pauseTimer();\n',
    replace: '',
    tests: [['test/tunnel.test.ts', 'the time a person takes to answer the host key prompt']],
  },
  {
    id: 'tunnel-known-hosts-world-readable',
    file: 'src/tunnel/known-hosts.ts',
    search: 'await chmod(file, 0o600);',
    replace: 'await chmod(file, 0o644);',
    tests: [['test/tunnel.test.ts', 'an accepted new key is written to the project known_hosts']],
  },
  // ---- config ----
  {
    id: 'config-port-above-65535-accepted',
    file: 'src/config/validate.ts',
    search: 'if (n < 1 || n > 65535) return bad(',
    replace: 'if (n < 1) return bad(',
    tests: [['test/config.test.ts', '']],
  },
  {
    id: 'config-flag-loses-to-environment',
    file: 'src/config/layers.ts',
    search: 'if (f !== undefined) return { value: f,',
    replace: 'if (f !== undefined && this.env === null) return { value: f,',
    tests: [['test/config.test.ts', 'a flag beats the process environment']],
  },
  {
    id: 'config-files-beat-environment',
    file: 'src/config/layers.ts',
    search: "if (typeof e === 'string' && e !== '') return { value: e,",
    replace: "if (typeof e === 'string' && e !== '' && this.files.length === 0) return { value: e,",
    tests: [['test/config.test.ts', 'a variable comes from the strongest layer']],
  },
  // ---- redaction ----
  {
    id: 'redact-url-password-not-masked',
    file: 'src/log/redact.ts',
    search: 'return url.replace(URL_PASSWORD, (_m, pre: string) => `${pre}****@`);',
    replace: 'return url;',
    tests: [['test/cli-units.test.ts', 'the JSON logger masks secrets']],
  },
  {
    id: 'redact-password-keys-not-masked',
    file: 'src/log/redact.ts',
    search: '/pass(word|phrase)?|secret|private_?key/i.test(k)',
    replace: '/^$/.test(k)',
    tests: [['test/cli-units.test.ts', 'the JSON logger masks secrets']],
  },
  {
    id: 'redact-url-flag-password-not-seeded',
    file: 'src/cli/output/reporter.ts',
    search: 'if (m?.[1]) {',
    replace: 'if (m?.[1] === null) {',
    tests: [['test/cli-units.test.ts', 'the JSON logger masks secrets']],
  },
  {
    id: 'redact-known-secrets-not-masked',
    file: 'src/log/redact.ts',
    search: "out = out.split(s).join('****');",
    replace: 'out = out.split(s).join(s);',
    tests: [['test/cli-basics.test.ts', '--verbose adds the stack trace']],
  },
];

const args = process.argv.slice(2);
const list = args.includes('--list');
const baseline = args.includes('--baseline');
const filters = args.filter((a) => !a.startsWith('--'));
const chosen = MUTATIONS.filter((m) => filters.length === 0 || filters.some((f) => m.id.includes(f)));

if (list) {
  // With each row, whether its anchor is still there exactly once (a quick check after a merge).
  let moved = 0;
  for (const m of chosen) {
    const path = join(root, m.file);
    const n = existsSync(path) ? readFileSync(path, 'utf8').split(m.search).length - 1 : 0;
    if (n !== 1) moved++;
    console.log(`${n === 1 ? 'ok    ' : 'MOVED '} ${m.id.padEnd(48)} ${m.file.padEnd(28)} ${m.tests.map(([f, t]) => `${f}${t ? ` "${t}"` : ''}`).join(', ')}`);
  }
  process.exit(moved === 0 ? 0 : 1);
}

/** Rebuild dist/bundle/ from dist/ (the bin runs the bundle). */
const rebundle = () => {
  const r = spawnSync(process.execPath, [join(root, 'scripts/bundle.mjs')], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('scripts/bundle.mjs failed');
};
const distPath = (file) => join(root, 'dist', file.replace(/^src\//, '').replace(/\.ts$/, '.js'));

/** Put back anything a killed earlier run left mutated. */
function restoreBackups() {
  if (!existsSync(backupDir)) return;
  const manifest = join(backupDir, 'manifest.json');
  if (existsSync(manifest)) {
    for (const { path, content } of JSON.parse(readFileSync(manifest, 'utf8'))) {
      writeFileSync(path, content);
      console.log(`restored ${path} from an interrupted run`);
    }
    rebundle();
  }
  rmSync(backupDir, { recursive: true, force: true });
}

let esbuild;
async function transpile(srcFile) {
  esbuild ??= await import('esbuild');
  const code = readFileSync(join(root, srcFile), 'utf8');
  const out = await esbuild.transform(code, { loader: 'ts', format: 'esm', target: 'es2022', sourcefile: srcFile });
  return out.code;
}

function runTests(tests) {
  const files = [...new Set(tests.map(([f]) => f))];
  const patterns = tests.map(([, n]) => n).filter(Boolean);
  const started = Date.now();
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '--test',
      '--test-reporter=tap',
      '--test-concurrency=1',
      '--test-timeout=180000',
      ...(patterns.length === tests.length ? patterns.map((p) => `--test-name-pattern=${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`) : []),
      ...files,
    ],
    { cwd: root, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' }, maxBuffer: 64 * 1024 * 1024, timeout: 15 * 60_000 },
  );
  const out = `${r.stdout ?? ''}`;
  const failed = [...out.matchAll(/^\s*not ok \d+ - (.+)$/gm)].map((m) => m[1].replace(/ # .*$/, ''));
  const passed = Number(/^# pass (\d+)/m.exec(out)?.[1] ?? 0);
  return { status: r.status, signal: r.signal, failed: [...new Set(failed)], passed, seconds: Math.round((Date.now() - started) / 1000) };
}

restoreBackups();
const results = [];
const onSignal = () => {
  restoreBackups();
  process.exit(130);
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

if (baseline) {
  for (const m of chosen) {
    const r = runTests(m.tests);
    const ok = r.status === 0 && r.passed > 0;
    console.log(`baseline ${ok ? 'ok  ' : 'FAIL'} ${m.id} (${r.passed} passed, ${r.seconds}s)${ok ? '' : ` failing: ${r.failed.join(' | ')}`}`);
    if (!ok) results.push({ m, outcome: 'baseline-fails', detail: r.failed.join(' | ') });
  }
}

for (const m of chosen) {
  if (results.some((x) => x.m === m)) continue;
  const srcPath = join(root, m.file);
  if (!existsSync(srcPath)) {
    results.push({ m, outcome: 'anchor-missing', detail: `${m.file} does not exist (moved? update the row)` });
    console.log(`${m.id}: ${m.file} does not exist (moved? update the row)`);
    continue;
  }
  const original = readFileSync(srcPath, 'utf8');
  const count = original.split(m.search).length - 1;
  if (count !== 1) {
    results.push({ m, outcome: 'anchor-missing', detail: `search text found ${count} times in ${m.file}` });
    console.log(`${m.id}: anchor found ${count} times (the code moved? update the row)`);
    continue;
  }
  const dist = distPath(m.file);
  const distOriginal = existsSync(dist) ? readFileSync(dist, 'utf8') : undefined;
  mkdirSync(backupDir, { recursive: true });
  writeFileSync(
    join(backupDir, 'manifest.json'),
    JSON.stringify([{ path: srcPath, content: original }, ...(distOriginal !== undefined ? [{ path: dist, content: distOriginal }] : [])]),
  );
  let r;
  try {
    writeFileSync(
      srcPath,
      original.replace(m.search, () => m.replace),
    );
    if (distOriginal !== undefined) {
      writeFileSync(dist, await transpile(m.file));
      rebundle(); // the bin runs dist/bundle/, built from dist/
    }
    r = runTests(m.tests);
  } finally {
    writeFileSync(srcPath, original);
    if (distOriginal !== undefined) {
      mkdirSync(dirname(dist), { recursive: true });
      writeFileSync(dist, distOriginal);
      rebundle();
    }
    rmSync(backupDir, { recursive: true, force: true });
  }
  const caught = r.status !== 0 && r.failed.length > 0;
  results.push({ m, outcome: caught ? 'caught' : 'SURVIVED', detail: caught ? r.failed.join(' | ') : `${r.passed} passed`, seconds: r.seconds });
  console.log(`${caught ? 'caught  ' : 'SURVIVED'} ${m.id} (${r.seconds}s)${caught ? ` by: ${r.failed.join(' | ')}` : ''}`);
}

console.log('\n| mutation | file | result | caught by (failing test) |');
console.log('|---|---|---|---|');
for (const { m, outcome, detail } of results) console.log(`| ${m.id} | ${m.file} | ${outcome} | ${detail.replace(/\|/g, '/')} |`);
const caught = results.filter((x) => x.outcome === 'caught').length;
console.log(`\n${caught}/${results.length} mutations caught`);
process.exit(caught === results.length ? 0 : 1);
