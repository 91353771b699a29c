import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { pushQueue } from './push-queue.js';

test('serves each waiting key once, in order, one per event-loop turn', async () => {
  const served: string[] = [];
  const q = pushQueue<string>((k) => served.push(k));
  q.enqueue('a');
  q.enqueue('b');
  q.enqueue('a');
  q.enqueue('c');
  assert.equal(q.size, 3);
  assert.deepEqual(served, []);
  await tick();
  assert.deepEqual(served, ['a']);
  while (q.size > 0) await tick();
  assert.deepEqual(served, ['a', 'b', 'c']);
});

test('a key may enqueue itself again while being served; stop drops what waits', async () => {
  const served: string[] = [];
  let again = true;
  const q = pushQueue<string>((k) => {
    served.push(k);
    if (again) {
      again = false;
      q.enqueue(k);
    }
  });
  q.enqueue('x');
  while (q.size > 0 || served.length < 2) await tick();
  assert.deepEqual(served, ['x', 'x']);
  q.enqueue('y');
  q.stop();
  q.enqueue('z');
  await tick();
  await tick();
  assert.deepEqual(served, ['x', 'x']);
});
