#!/usr/bin/env node
// `npm test`: formatting, then lint, build and every package's tests through nx, then the
// end-to-end suites, and always the closing summary (tools/test-summary.mjs) — also when a step
// failed, so the last lines of a failed run name the tests that failed and why, instead of only
// the nx task that did.
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const step = (what, cmd, args) => {
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) console.error(`\nnpm test: ${what} failed (exit ${r.status ?? r.signal})`);
  return r.status === 0;
};
const bin = (name) => join('node_modules', '.bin', name);

// Results of an earlier run must not be summed with this one's.
for (const dir of [...readdirSync('packages').map((p) => join('packages', p)), 'e2e'])
  rmSync(join(dir, '.test-results'), { recursive: true, force: true });

if (
  !step('formatting (prettier --check)', bin('prettier'), ['--check', '.', '--log-level', 'warn'])
)
  process.exit(1);
const unit = step('lint, build or a package test', bin('nx'), [
  'run-many',
  '-t',
  'lint',
  'build',
  'test',
  '--outputStyle=stream',
]);
const e2e = unit
  ? step('the end-to-end suites', process.execPath, ['e2e/dist/run.js'])
  : (console.error('npm test: the end-to-end suites were not run (a step before them failed)'),
    false);
const summary = step('the summary', process.execPath, ['tools/test-summary.mjs']);
process.exit(unit && e2e && summary ? 0 : 1);
