import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  nsenterArgv,
  parseEnviron,
  shellQuote,
  splitJsonObjects,
  termSize,
  ttyArgv,
} from './exec-command.pure.js';

test('exec enters the container net, mount and UTS namespaces and its working directory', () => {
  assert.deepEqual(nsenterArgv(42, ['sh', '-c', 'echo hi']), [
    'nsenter',
    '-t',
    '42',
    '--net',
    '--mount',
    '--uts',
    '--wd',
    '--',
    'sh',
    '-c',
    'echo hi',
  ]);
  assert.throws(() => nsenterArgv(42, []), /needs a command/);
});

test('a TTY exec runs under script with the first terminal size, quoting every argument', () => {
  const argv = ttyArgv(['nsenter', '-t', '1', '--', 'sh', '-c', "echo 'a b'"], {
    width: 100,
    height: 30,
  });
  assert.deepEqual(argv.slice(0, 4), ['script', '-q', '-e', '-c']);
  assert.equal(
    argv[4],
    `stty rows 30 cols 100 2>/dev/null; exec nsenter -t 1 -- sh -c 'echo '\\''a b'\\'''`,
  );
  assert.equal(argv[5], '/dev/null');
  assert.equal(shellQuote(''), `''`);
});

test('environ and resize events are parsed; malformed sizes are refused', () => {
  assert.deepEqual(parseEnviron(Buffer.from('A=1\0B=x=y\0\0')), { A: '1', B: 'x=y' });
  const { objects, rest } = splitJsonObjects(
    '{"Width":80,"Height":24}{"Width":1,"Height":"}"}{"Wid',
  );
  assert.equal(objects.length, 2);
  assert.equal(rest, '{"Wid');
  assert.deepEqual(termSize(objects[0]), { width: 80, height: 24 });
  assert.equal(termSize(objects[1]), undefined);
  assert.equal(termSize({ Width: -1, Height: 2 }), undefined);
});
