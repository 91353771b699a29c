import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import { debouncer } from './debounce.js';

function setup(quietMs: number, maxDelayMs: number) {
  const published: { batch: number[]; count: number }[] = [];
  const d = debouncer<number[]>({
    quietMs,
    maxDelayMs,
    merge: (pending, update) => [...(pending ?? []), ...update],
    publish: (batch, count) => published.push({ batch, count }),
  });
  return { d, published };
}

test('updates within the quiet period are published once, merged', (t) => {
  mock.timers.enable({ apis: ['setTimeout'] });
  t.after(() => mock.timers.reset());
  const { d, published } = setup(100, 1000);
  d.add([1]);
  mock.timers.tick(50);
  d.add([2]);
  mock.timers.tick(99);
  assert.equal(published.length, 0, 'the second update restarted the quiet period');
  mock.timers.tick(1);
  assert.deepEqual(published, [{ batch: [1, 2], count: 2 }]);
});

test('a steady stream of updates is published at the max delay', (t) => {
  mock.timers.enable({ apis: ['setTimeout'] });
  t.after(() => mock.timers.reset());
  const { d, published } = setup(100, 1000);
  for (let i = 0; i < 20; i++) {
    d.add([i]);
    mock.timers.tick(60);
  }
  // 20 updates 60 ms apart never leave a 100 ms gap; the max delay (1000 ms) cuts the first batch.
  assert.equal(published.length, 1);
  assert.equal(published[0]!.count, 17);
  mock.timers.tick(100);
  assert.equal(published.length, 2);
  assert.equal(published[1]!.count, 3);
});

test('flush publishes now; cancel drops the batch', (t) => {
  mock.timers.enable({ apis: ['setTimeout'] });
  t.after(() => mock.timers.reset());
  const { d, published } = setup(100, 1000);
  d.add([1]);
  d.flush();
  assert.deepEqual(published, [{ batch: [1], count: 1 }]);
  d.add([2]);
  d.cancel();
  mock.timers.tick(2000);
  assert.equal(published.length, 1);
  d.flush();
  assert.equal(published.length, 1, 'nothing pending, nothing published');
});

test('rejects a max delay shorter than the quiet period', () => {
  assert.throws(() => setup(100, 50), /quietMs <= maxDelayMs/);
});
