import { test } from 'node:test';
import assert from 'node:assert/strict';
import { retry } from './retry.js';

const quick = { initialMs: 1, maxMs: 4, jitter: 'none' as const };

test('retries until the operation succeeds and reports each wait', async () => {
  const waits: [string, number, number][] = [];
  const result = await retry(
    async (attempt) => {
      if (attempt < 3) throw new Error(`fail ${attempt}`);
      return `ok on ${attempt}`;
    },
    {
      ...quick,
      onRetry: (err, attempt, delayMs) => waits.push([(err as Error).message, attempt, delayMs]),
    },
  );
  assert.equal(result, 'ok on 3');
  assert.deepEqual(waits, [
    ['fail 1', 1, 1],
    ['fail 2', 2, 2],
  ]);
});

test('gives up after maxAttempts with the last error', async () => {
  let calls = 0;
  await assert.rejects(
    retry(
      async (attempt) => {
        calls++;
        throw new Error(`fail ${attempt}`);
      },
      { ...quick, maxAttempts: 3 },
    ),
    { message: 'fail 3' },
  );
  assert.equal(calls, 3);
});

test('an error shouldRetry refuses is thrown at once', async () => {
  let calls = 0;
  await assert.rejects(
    retry(
      async () => {
        calls++;
        throw new Error('permission denied');
      },
      { ...quick, shouldRetry: (err) => !(err as Error).message.includes('denied') },
    ),
    { message: 'permission denied' },
  );
  assert.equal(calls, 1);
});

// The timeout only guards against a hang if abort were broken; it asserts nothing about speed.
test(
  'aborting during a wait stops at once with the abort reason',
  { timeout: 60_000 },
  async () => {
    const controller = new AbortController();
    let calls = 0;
    await assert.rejects(
      retry(
        async () => {
          calls++;
          throw new Error('unavailable');
        },
        // A wait of an hour: the test only finishes because the abort cuts it short.
        {
          initialMs: 3_600_000,
          maxMs: 3_600_000,
          jitter: 'none',
          signal: controller.signal,
          onRetry: () => controller.abort(new Error('shutting down')),
        },
      ),
      { message: 'shutting down' },
    );
    assert.equal(calls, 1);
  },
);

test('an abort while the operation runs prevents another attempt', async () => {
  const controller = new AbortController();
  let calls = 0;
  await assert.rejects(
    retry(
      async () => {
        calls++;
        controller.abort(new Error('stop'));
        throw new Error('unavailable');
      },
      { ...quick, signal: controller.signal },
    ),
    { message: 'stop' },
  );
  assert.equal(calls, 1);
});

test('an already aborted signal means no attempt at all', async () => {
  let calls = 0;
  await assert.rejects(
    retry(
      async () => {
        calls++;
        return 1;
      },
      { ...quick, signal: AbortSignal.abort(new Error('too late')) },
    ),
    { message: 'too late' },
  );
  assert.equal(calls, 0);
});
