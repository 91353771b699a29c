// Preloaded (`--import`, with --expose-internals) into every test file's process by
// tools/run-tests.mjs: gives each test and each hook a default timeout, so a hang fails that test
// with "test timed out after N ms" instead of hanging the run. Node 20's --test-timeout bounds a
// whole file, not a test, and node:test has no setting for a default, so this sets the timeout
// where node:test creates tests and hooks (which keeps their reported file and line intact).
//
// Overrides, innermost first: `{ timeout }` in a test's or hook's options; `{ timeout }` on a
// `describe` or a test, which the tests and hooks inside it inherit; `fileTimeout(ms)` from
// @trellis/core/test-support at the top of a file; TRELLIS_TEST_TIMEOUT_MS for the whole run.
import { createRequire } from 'node:module';

const DEFAULT_MS = Number(process.env.TRELLIS_TEST_TIMEOUT_MS) || 120_000;
const FILE_TIMEOUT = Symbol.for('trellis.test.fileTimeoutMs');

const require = createRequire(import.meta.url);
const { Test, Suite } = require('internal/test_runner/test');

/** What a test or hook under `parent` gets when it names no timeout. */
function defaultFor(parent) {
  if (Number.isFinite(parent.timeout)) return parent.timeout;
  return globalThis[FILE_TIMEOUT] ?? DEFAULT_MS;
}

function optionsWithTimeout(parent, options, isSuite) {
  const o = options !== null && typeof options === 'object' ? options : {};
  // A suite only bounds its tests, each by the default; it gets no deadline of its own.
  if (o.timeout !== undefined || isSuite) return o;
  return { ...o, timeout: defaultFor(parent) };
}

const { createSubtest, createHook } = Test.prototype;
if (typeof createSubtest !== 'function' || typeof createHook !== 'function' || !Suite)
  throw new Error('tools/test-timeout.mjs: node:test internals changed; update this preload');
Test.prototype.createSubtest = function (Factory, name, options, fn, overrides) {
  // node:test accepts (name, options, fn), (name, fn), (options, fn) and (fn).
  if (typeof name === 'function') [name, options, fn] = [undefined, {}, name];
  else if (name !== null && typeof name === 'object')
    [name, options, fn] = [undefined, name, options];
  else if (typeof options === 'function') [options, fn] = [{}, options];
  const isSuite = Factory === Suite || Factory.prototype instanceof Suite;
  options = optionsWithTimeout(this, options, isSuite);
  return createSubtest.call(this, Factory, name, options, fn, overrides);
};
Test.prototype.createHook = function (name, fn, options) {
  return createHook.call(this, name, fn, optionsWithTimeout(this, options, false));
};
