import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deltaDiff } from './delta-diff.js';

const m = (o: Record<string, string>) => new Map(Object.entries(o));

test('only changed or new resources are updated; held ones that are gone are removed', () => {
  const d = deltaDiff(m({ a: '1', b: '1', c: '1' }), m({ a: '1', b: '2', d: '1' }), new Set());
  assert.deepEqual(d, { updated: ['b', 'd'], removed: ['c'] });
});

test('nothing changed gives an empty diff', () => {
  assert.deepEqual(deltaDiff(m({ a: '1' }), m({ a: '1' }), new Set()), {
    updated: [],
    removed: [],
  });
});

test('a newly subscribed name is sent even if held, and reported removed if it does not exist', () => {
  const d = deltaDiff(m({ a: '1' }), m({ a: '1' }), new Set(['a', 'ghost']));
  assert.deepEqual(d, { updated: ['a'], removed: ['ghost'] });
});
