// The default per-test timeout of tools/test-timeout.mjs and its overrides, on a real node:test run.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const PRELOAD = fileURLToPath(new URL('../../../../tools/test-timeout.mjs', import.meta.url));
const FILE_TIMEOUT = fileURLToPath(new URL('./file-timeout.js', import.meta.url));

/** This process's environment without the variable that makes node:test report to a parent. */
function withoutTestContext(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env['NODE_TEST_CONTEXT'];
  return env;
}

/** Runs `body` as a test file under the preload with a 300 ms default; returns the TAP output. */
function runTests(t: { after(fn: () => void): void }, body: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'test-timeout-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'hang.test.mjs');
  writeFileSync(
    file,
    `import { after, before, describe, it, test } from 'node:test';\n` +
      `import { fileTimeout } from ${JSON.stringify(FILE_TIMEOUT)};\n` +
      `const hang = () => new Promise((r) => setTimeout(r, 5000));\n` +
      body,
  );
  const r = spawnSync(
    process.execPath,
    ['--test', '--expose-internals', `--import=${PRELOAD}`, '--test-reporter=tap', file],
    { encoding: 'utf8', env: { ...withoutTestContext(), TRELLIS_TEST_TIMEOUT_MS: '300' } },
  );
  return r.stdout;
}

/** "ok"/"not ok" and the failure of the test named `name`. */
function outcome(tap: string, name: string): string {
  const at = tap.indexOf(` - ${name}\n`);
  assert.ok(at >= 0, `test "${name}" in the output:\n${tap}`);
  const line = tap.slice(tap.lastIndexOf('\n', at) + 1, at).trim();
  const yaml = tap.slice(at, tap.indexOf('...\n', at + name.length + 4)); // this test's details
  const timedOut = /test timed out after (\d+)ms/.exec(yaml);
  return `${line.startsWith('not ok') ? 'not ok' : 'ok'}${timedOut ? ` after ${timedOut[1]}` : ''}`;
}

test('a hung test fails with the default timeout; a test, describe or hook option overrides it', (t) => {
  const tap = runTests(
    t,
    `test('hangs', hang);\n` +
      `test('given longer', { timeout: 8000 }, hang);\n` +
      `describe('suite given longer', { timeout: 8000 }, () => { it('inherits', hang); });\n` +
      `describe('plain suite', () => { it('hangs inside', hang); it('quick', () => {}); });\n` +
      `describe('hook', () => { before(hang); it('after a hung hook', () => {}); });\n`,
  );
  assert.equal(outcome(tap, 'hangs'), 'not ok after 300');
  assert.equal(outcome(tap, 'given longer'), 'ok');
  assert.equal(outcome(tap, 'inherits'), 'ok');
  assert.equal(outcome(tap, 'hangs inside'), 'not ok after 300');
  assert.equal(outcome(tap, 'quick'), 'ok');
  assert.match(outcome(tap, 'hook'), /^not ok/);
  assert.match(tap, /location: '.*hang\.test\.mjs:\d+:\d+'/, 'failures point at the test file');
});

test('fileTimeout sets the default for the tests of one file', (t) => {
  const tap = runTests(t, `fileTimeout(8000);\ntest('given longer by the file', hang);\n`);
  assert.equal(outcome(tap, 'given longer by the file'), 'ok');
});
