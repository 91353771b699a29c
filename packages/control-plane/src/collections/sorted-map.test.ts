// SortedMap against a plain Map under random changes: same entries in key order, earlier versions
// untouched, and the changes between a version and the one it was made from.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forEachChange, withChanges } from './map-changes.js';
import { compareStrings } from './meta.js';
import { SortedMap } from './sorted-map.js';
import { rng } from '../test-support/random-cluster.js';

const sorted = (m: ReadonlyMap<string, number>) =>
  [...m].sort((a, b) => compareStrings(a[0], b[0]));

test('random changes: entries in key order, older versions unchanged, changes found without a walk', () => {
  const r = rng(11);
  let reference = new Map<string, number>();
  let map: ReadonlyMap<string, number> = SortedMap.fromSorted([]);
  const versions: [ReadonlyMap<string, number>, [string, number][]][] = [];
  for (let step = 0; step < 400; step++) {
    const changes = new Map<string, number | undefined>();
    // Mostly small changes, sometimes a burst that splits and empties chunks.
    const n = r.chance(0.1) ? 150 : 1 + r.int(4);
    for (let i = 0; i < n; i++)
      changes.set(
        `k${String(r.int(600)).padStart(4, '0')}`,
        r.chance(0.3) ? undefined : step * 1000 + i,
      );
    const next = withChanges(map, changes);
    const expected = new Map(reference);
    for (const [k, v] of changes)
      if (v === undefined) expected.delete(k);
      else expected.set(k, v);

    assert.deepEqual([...next], sorted(expected), `step ${step}`);
    assert.equal(next.size, expected.size);
    for (const k of ['k0000', 'k0299', 'k0599', 'zzz', 'a', ...changes.keys()]) {
      assert.equal(next.get(k), expected.get(k), `${step} get ${k}`);
      assert.equal(next.has(k), expected.has(k), `${step} has ${k}`);
    }
    const found: [string, number | undefined][] = [];
    forEachChange(map, next, (k, v) => found.push([k, v]));
    const differing = [...new Set([...reference.keys(), ...expected.keys()])]
      .filter((k) => reference.get(k) !== expected.get(k))
      .map((k) => [k, expected.get(k)] as [string, number | undefined]);
    assert.deepEqual(
      found.sort((a, b) => compareStrings(a[0], b[0])),
      differing.sort((a, b) => compareStrings(a[0], b[0])),
      `step ${step}`,
    );
    assert.ok((next as SortedMap<number>).changesSince(map), 'made from the previous version');
    assert.equal((next as SortedMap<number>).changesSince(new Map()), undefined);

    versions.push([next, sorted(expected)]);
    map = next;
    reference = expected;
  }
  for (const [version, entries] of versions)
    assert.deepEqual([...version], entries, 'an older version is as it was');
});

test('withChanges from a plain Map builds a SortedMap that knows where it came from', () => {
  const plain = new Map([
    ['a', 1],
    ['c', 3],
  ]);
  const next = withChanges(
    plain,
    new Map([
      ['b', 2],
      ['c', undefined],
    ]),
  );
  assert.ok(next instanceof SortedMap);
  assert.deepEqual(
    [...next],
    [
      ['a', 1],
      ['b', 2],
    ],
  );
  const found: unknown[] = [];
  forEachChange(plain, next, (k, v) => found.push([k, v]));
  assert.deepEqual(found, [
    ['b', 2],
    ['c', undefined],
  ]);
  assert.equal(withChanges(next, new Map()), next, 'no changes: the same map');
  assert.deepEqual(
    [
      ...SortedMap.from([
        ['b', 2],
        ['a', 1],
        ['c', 3],
      ]),
    ],
    [
      ['a', 1],
      ['b', 2],
      ['c', 3],
    ],
    'from() sorts',
  );
});
