import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decideRetiring } from './retiring.pure.js';

const GRACE = 2000;

test('a kept cluster nothing names any more goes at once, held update or not', () => {
  const kept = new Map([['a', 1_000]]);
  assert.deepEqual(decideRetiring(kept, new Set(), false, 1_001, GRACE), { gone: ['a'] });
  assert.deepEqual(decideRetiring(kept, new Set(), true, 1_001, GRACE), { gone: ['a'] });
});

test('a kept cluster the routes still name goes when its grace ends, not before', () => {
  const kept = new Map([['a', 1_000]]);
  const named = new Set(['a']);
  assert.deepEqual(decideRetiring(kept, named, false, 1_500, GRACE), { gone: [], nextInMs: 1_500 });
  assert.deepEqual(decideRetiring(kept, named, false, 3_000, GRACE), { gone: ['a'] });
});

test('a timer that fires a millisecond early looks again instead of keeping the cluster for ever', () => {
  // As a CI run caught it: the grace timer fired at 1,999 ms by the wall clock, nothing was removed
  // and nothing looked again.
  const d = decideRetiring(new Map([['a', 1_000]]), new Set(['a']), false, 2_999, GRACE);
  assert.deepEqual(d, { gone: [], nextInMs: 1 });
});

test('while an update is held nothing goes by time and no timer is asked for (the release decides)', () => {
  const kept = new Map([['a', 0]]);
  assert.deepEqual(decideRetiring(kept, new Set(['a']), true, 60_000, GRACE), { gone: [] });
});

test('the next look is when the earliest remaining grace ends', () => {
  const kept = new Map([
    ['a', 1_000],
    ['b', 1_800],
    ['c', 500],
  ]);
  const d = decideRetiring(kept, new Set(['a', 'b', 'c']), false, 2_600, GRACE);
  assert.deepEqual(d, { gone: ['c'], nextInMs: 400 });
});
