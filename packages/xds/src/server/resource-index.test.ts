// Versions of a generated result and the names changed between two results, with and without the
// result's own change tracking.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cluster } from '../test-support/resources.js';
import { resourceVersion } from '../versioning.js';
import { changedNames, versionsOf, type ChangeTracking } from './resource-index.js';
import type { GeneratedResource, GeneratedResources } from './types.js';

const res = (name: string, version?: string): GeneratedResource => ({
  resource: cluster(name, version ?? 'x'),
  ...(version ? { version } : {}),
});

test('versionsOf reads versions through, hashing the bytes of a resource without one', () => {
  const noVersion = res('c');
  const g: GeneratedResources = new Map([
    ['a', res('a', 'v1')],
    ['c', noVersion],
  ]);
  const v = versionsOf(g);
  assert.equal(versionsOf(g), v, 'cached per result');
  assert.deepEqual(
    [...v],
    [
      ['a', 'v1'],
      ['c', resourceVersion(noVersion.resource)],
    ],
  );
  assert.equal(v.size, 2);
  assert.equal(v.has('c'), true);
  assert.equal(v.get('zzz'), undefined);
});

test("changedNames: by walking both results, or from the newer one's change tracking", () => {
  const a1 = res('a', 'v1');
  const before: GeneratedResources = new Map([
    ['a', a1],
    ['b', res('b', 'v1')],
    ['gone', res('gone', 'v1')],
  ]);
  const entries: [string, GeneratedResource][] = [
    ['a', a1],
    ['b', res('b', 'v2')],
    ['new', res('new', 'v1')],
  ];
  const walked = changedNames(versionsOf(before), versionsOf(new Map(entries)));
  assert.deepEqual([...walked].sort(), ['b', 'gone', 'new']);

  const asked: GeneratedResources[] = [];
  // Tracking reports a superset (a was touched but kept its version): only real changes count.
  const tracked = Object.assign(new Map(entries), {
    changesSince(earlier: GeneratedResources) {
      asked.push(earlier);
      return earlier === before
        ? new Map<string, unknown>([
            ['a', 0],
            ['b', 0],
            ['gone', 0],
            ['new', 0],
          ])
        : undefined;
    },
  }) satisfies ChangeTracking;
  assert.deepEqual([...changedNames(versionsOf(before), versionsOf(tracked))].sort(), [
    'b',
    'gone',
    'new',
  ]);
  assert.deepEqual(asked, [before]);
});
