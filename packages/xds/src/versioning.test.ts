import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contentVersion, nonceSource, resourceVersion } from './versioning.js';
import { cluster } from './test-support/resources.js';

test('resourceVersion is stable for equal bytes and differs when the bytes differ', () => {
  assert.equal(resourceVersion(cluster('a', 'v1')), resourceVersion(cluster('a', 'v1')));
  assert.notEqual(resourceVersion(cluster('a', 'v1')), resourceVersion(cluster('a', 'v2')));
  assert.match(resourceVersion(cluster('a')), /^[A-Za-z0-9_-]{16}$/);
});

test('contentVersion ignores order and changes with any name or version', () => {
  const v = contentVersion([
    ['a', '1'],
    ['b', '2'],
  ]);
  assert.equal(
    v,
    contentVersion([
      ['b', '2'],
      ['a', '1'],
    ]),
  );
  assert.notEqual(
    v,
    contentVersion([
      ['a', '1'],
      ['b', '3'],
    ]),
  );
  assert.notEqual(v, contentVersion([['a', '1']]));
});

test('nonces are unique within and across sources', () => {
  const a = nonceSource();
  const b = nonceSource();
  const all = new Set([a(), a(), a(), b(), b()]);
  assert.equal(all.size, 5);
});
