import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Spawned } from './spawned.js';

const node = (name: string, script: string) => new Spawned(name, process.execPath, ['-e', script]);

test('waitForLine resolves with a line logged after the wait began', async (t) => {
  const p = node(
    'late',
    `console.log(JSON.stringify({ msg: 'starting' }));
     setTimeout(() => console.log(JSON.stringify({ msg: 'ready', port: 7 })), 200);
     setTimeout(() => {}, 60_000);`,
  );
  t.after(() => p.stop('SIGKILL'));
  const line = await p.waitForLine('ready', (l) => l.msg === 'ready');
  assert.equal(line['port'], 7);
  assert.equal((await p.waitForLine('starting', (l) => l.msg === 'starting')).msg, 'starting');
});

test('waitForLine sees the last lines of a process that exits right after logging', async () => {
  const p = node('quick', `console.log(JSON.stringify({ msg: 'done' })); process.exit(0);`);
  assert.equal((await p.waitForLine('done', (l) => l.msg === 'done')).msg, 'done');
});

test('waitForLine rejects when the process exits without the line, with its stderr', async () => {
  const p = node('crashing', `console.error('bad flag --x'); process.exit(2);`);
  await assert.rejects(
    p.waitForLine('ready', (l) => l.msg === 'ready'),
    (err: Error) => {
      assert.match(err.message, /^crashing exited before logging ready; crashing \(exit 2\)/);
      assert.match(err.message, /bad flag --x/);
      return true;
    },
  );
});

test('waitForLine gives up after its timeout naming the process and the line', async (t) => {
  const p = node('silent', `setTimeout(() => {}, 60_000);`);
  t.after(() => p.stop('SIGKILL'));
  await assert.rejects(
    p.waitForLine('ready', (l) => l.msg === 'ready', 100),
    {
      message: /^gave up after 100 ms waiting for silent to log ready; silent \(exit undefined\)/,
    },
  );
});
