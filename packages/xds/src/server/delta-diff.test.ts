import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deltaDiff, deltaDiffSince } from './delta-diff.js';
import { changedNames } from './resource-index.js';

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

test('deltaDiffSince: from the map last sent, the changed names give the same diff as a full one', () => {
  const previous = m({ a: '1', b: '1', c: '1' });
  const desired = m({ a: '1', b: '2', d: '1' });
  const known = new Map(previous);
  assert.deepEqual(deltaDiffSince(known, previous, desired), deltaDiff(known, desired, new Set()));
  assert.deepEqual(deltaDiffSince(known, previous, desired), {
    updated: ['b', 'd'],
    removed: ['c'],
  });
});

test('changedNames is computed once per pair of maps and shared by every caller', () => {
  const previous = m({ a: '1', b: '1' });
  const desired = m({ a: '2', b: '1' });
  const first = changedNames(previous, desired);
  assert.deepEqual(first, ['a']);
  assert.equal(changedNames(previous, desired), first, 'the second stream reuses the result');
  assert.deepEqual(changedNames(previous, previous), []);
});
