#!/usr/bin/env node
// Runs one package's compiled tests with node:test. Node 20's `--test` does not expand globs, so
// the file list is built here. Usage (from a package dir): node ../../tools/run-tests.mjs [dir...]
// Results are also written as TAP to .test-results/ for tools/test-summary.mjs. Every test and
// hook gets a default timeout (tools/test-timeout.mjs; TRELLIS_TEST_TIMEOUT_MS, default 120 s).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, existsSync } from 'node:fs';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

function findTests(dir, out) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) findTests(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

// A compiled test whose source is gone (renamed or deleted: tsc -b leaves its old output in dist,
// and nx's cache can bring such a dist back) is not run.
function hasSource(file) {
  if (!file.startsWith(`dist${sep}`) || !existsSync('src')) return true;
  const base = join('src', file.slice('dist'.length + 1)).replace(/\.js$/, '');
  return ['.ts', '.mts', '.tsx', '.js'].some((ext) => existsSync(base + ext));
}

const roots = process.argv.slice(2).length ? process.argv.slice(2) : ['dist'];
const found = roots.flatMap((r) => findTests(r, [])).sort();
const stale = found.filter((f) => !hasSource(f));
if (stale.length) console.error(`run-tests: not run, their source is gone: ${stale.join(', ')}`);
const files = found.filter(hasSource);
mkdirSync('.test-results', { recursive: true });
if (files.length === 0) {
  console.error(`run-tests: no *.test.js under ${roots.join(', ')} (did the build run?)`);
  process.exit(1);
}
const args = [
  '--test',
  '--test-concurrency=1',
  '--expose-internals',
  `--import=${fileURLToPath(new URL('./test-timeout.mjs', import.meta.url))}`,
  '--test-reporter=spec',
  '--test-reporter-destination=stdout',
  '--test-reporter=tap',
  '--test-reporter-destination=.test-results/results.tap',
  ...files,
];
// nx sets FORCE_COLOR, which makes console.log colour numbers in child processes that tests read;
// run tests with the same environment as a plain shell would give them.
const env = { ...process.env };
delete env.FORCE_COLOR;
const r = spawnSync(process.execPath, args, { stdio: 'inherit', env });
process.exit(r.status ?? 1);
