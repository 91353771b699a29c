import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoff } from './backoff.js';

const take = (b: { next(): number }, n: number) => Array.from({ length: n }, () => b.next());

test('without jitter delays grow by the factor up to the maximum', () => {
  const b = backoff({ initialMs: 100, maxMs: 1000, factor: 2, jitter: 'none' });
  assert.deepEqual(take(b, 6), [100, 200, 400, 800, 1000, 1000]);
});

test('full jitter picks from [0, d)', () => {
  const b = backoff({ initialMs: 100, maxMs: 1000, jitter: 'full', random: () => 0.5 });
  assert.deepEqual(take(b, 5), [50, 100, 200, 400, 500]);
  const low = backoff({ initialMs: 100, maxMs: 1000, jitter: 'full', random: () => 0 });
  assert.deepEqual(take(low, 3), [0, 0, 0]);
  const high = backoff({ initialMs: 100, maxMs: 1000, jitter: 'full', random: () => 0.999 });
  assert.deepEqual(take(high, 3), [99, 199, 399]);
});

test('equal jitter stays within [d/2, d)', () => {
  const low = backoff({ initialMs: 100, maxMs: 1000, jitter: 'equal', random: () => 0 });
  assert.deepEqual(take(low, 5), [50, 100, 200, 400, 500]);
  const high = backoff({ initialMs: 100, maxMs: 1000, jitter: 'equal', random: () => 0.999 });
  assert.deepEqual(take(high, 5), [99, 199, 399, 799, 999]);
});

test('full jitter is the default and uses each random draw once', () => {
  const draws = [0.1, 0.9, 0.5];
  const b = backoff({ initialMs: 1000, maxMs: 60_000, random: () => draws.shift()! });
  assert.deepEqual(take(b, 3), [100, 1800, 2000]);
});

test('reset starts over', () => {
  const b = backoff({ initialMs: 10, maxMs: 100, factor: 3, jitter: 'none' });
  assert.deepEqual(take(b, 3), [10, 30, 90]);
  b.reset();
  assert.deepEqual(take(b, 2), [10, 30]);
});

test('bad options are rejected', () => {
  assert.throws(() => backoff({ initialMs: 100, maxMs: 10 }), /0 <= initialMs <= maxMs/);
  assert.throws(() => backoff({ initialMs: -1, maxMs: 10 }), /0 <= initialMs <= maxMs/);
  assert.throws(() => backoff({ initialMs: 1, maxMs: 10, factor: 0.5 }), /factor must be >= 1/);
  assert.throws(
    () => backoff({ initialMs: 1, maxMs: 10, jitter: 'half' as 'full' }),
    /jitter must be one of full, equal, none; got "half"/,
  );
});
