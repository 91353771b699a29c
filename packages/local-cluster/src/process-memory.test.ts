// What the e2e summary's mesh memory line adds up: a process's resident bytes and the anonymous
// part of them, read from /proc.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { anonBytes, rssBytes } from './processes.js';

test('anonymous memory grows with what a process writes; file pages count in the resident total only', () => {
  const before = anonBytes(process.pid);
  const block = Buffer.alloc(64 * 2 ** 20, 1);
  const after = anonBytes(process.pid);
  assert.ok(after - before >= 60 * 2 ** 20, `anonymous ${before} -> ${after} bytes`);
  assert.ok(rssBytes(process.pid) > after, 'the resident total also holds the node binary');
  assert.equal(block[block.length - 1], 1);
  assert.equal(anonBytes(2 ** 22 + 1), 0, 'a pid that does not exist');
  assert.equal(rssBytes(2 ** 22 + 1), 0);
});
