import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually } from './eventually.js';

test('eventually returns the first value that is not undefined, null or false; 0 and "" count', async () => {
  let calls = 0;
  const answers = [undefined, null, false, 0];
  assert.equal(await eventually('a count', () => answers[calls++], { intervalMs: 1 }), 0);
  assert.equal(calls, 4);
  assert.equal(await eventually('an empty string', () => ''), '');
});

test('eventually retries a check that throws and awaits an async check', async () => {
  let calls = 0;
  const v = await eventually(
    'the third call',
    async () => {
      if (++calls < 3) throw new Error('not yet');
      return 'done';
    },
    { intervalMs: 1 },
  );
  assert.equal(v, 'done');
});

test('eventually gives up at the deadline naming what it waited for, the last error and the detail', async () => {
  await assert.rejects(
    eventually(
      'the pod to be Ready',
      () => {
        throw new Error('pod is Pending');
      },
      { timeoutMs: 50, detail: () => 'node log: nothing' },
    ),
    {
      message:
        'gave up after 50 ms waiting for the pod to be Ready (last error: pod is Pending); node log: nothing',
    },
  );
  await assert.rejects(
    eventually('a flag', () => false, 30),
    {
      message: 'gave up after 30 ms waiting for a flag',
    },
  );
});

test('eventually stops at once when failFast gives a reason', async () => {
  const started = Date.now();
  await assert.rejects(
    eventually('a log line', () => undefined, { failFast: () => 'the process exited (code 1)' }),
    { message: 'stopped waiting for a log line: the process exited (code 1)' },
  );
  assert.ok(Date.now() - started < 5_000);
});
