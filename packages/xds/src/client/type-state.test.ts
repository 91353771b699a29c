// What a client holds for one type: changes are applied in place once the handler accepts them,
// while every resources map handed out stays as it was.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CLUSTER_TYPE_URL } from '@trellis/api';
import { WILDCARD_ALL } from '../subscription.js';
import { TypeState } from './type-state.js';
import type { ResourceChange } from './types.js';

const r = (name: string, value: string) => ({ name, version: value, value });

test('changes apply in place; resources maps handed out earlier do not change', () => {
  const seen: ResourceChange<string>[] = [];
  let refuse = false;
  const t = new TypeState<string>(
    CLUSTER_TYPE_URL,
    {
      decode: () => ({ ok: false, reason: 'not used here' }),
      onChange(c) {
        if (refuse) throw new Error('no');
        seen.push(c);
      },
    },
    WILDCARD_ALL,
  );
  assert.equal(t.apply([r('a', '1'), r('b', '1')], [], 'v1'), undefined);
  const first = t.values;
  assert.deepEqual(
    [...first],
    [
      ['a', '1'],
      ['b', '1'],
    ],
  );

  assert.equal(t.apply([r('a', '2'), r('c', '1')], ['b'], 'v2'), undefined);
  assert.deepEqual([...seen[1]!.resources].sort(), [
    ['a', '2'],
    ['c', '1'],
  ]);
  assert.deepEqual(
    [...seen[1]!.updated],
    [
      ['a', '2'],
      ['c', '1'],
    ],
  );
  assert.deepEqual(
    [...first],
    [
      ['a', '1'],
      ['b', '1'],
    ],
    'the earlier snapshot is untouched',
  );
  assert.deepEqual([...t.values].sort(), [
    ['a', '2'],
    ['c', '1'],
  ]);
  assert.deepEqual([...t.held].map(([n, h]) => [n, h.version]).sort(), [
    ['a', '2'],
    ['c', '1'],
  ]);

  // The handler never read `resources` this time: what is held is still right.
  assert.equal(t.apply([r('d', '1')], ['a'], 'v3'), undefined);
  const third = seen[2]!;
  assert.deepEqual([...t.values].sort(), [
    ['c', '1'],
    ['d', '1'],
  ]);
  assert.deepEqual([...third.resources].sort(), [
    ['c', '1'],
    ['d', '1'],
  ]);

  // A refusal changes nothing.
  refuse = true;
  assert.equal(t.apply([r('e', '1')], ['c'], 'v4'), 'no');
  assert.deepEqual([...t.values].sort(), [
    ['c', '1'],
    ['d', '1'],
  ]);
  assert.equal(t.version, 'v3');
  assert.deepEqual(t.versions(), { c: '1', d: '1' });
});
