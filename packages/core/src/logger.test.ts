import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from './logger.js';

/** A destination that keeps every line, parsed. */
function capture() {
  const lines: Record<string, unknown>[] = [];
  return { lines, destination: { write: (line: string) => void lines.push(JSON.parse(line)) } };
}

test('lines are JSON with level label, time, name and message', () => {
  const { lines, destination } = capture();
  const log = createLogger({ name: 'ztunnel', destination });
  log.root.info({ pod: 'a' }, 'started');
  assert.equal(lines.length, 1);
  const [line] = lines;
  assert.equal(line.level, 'info');
  assert.equal(line.name, 'ztunnel');
  assert.equal(line.msg, 'started');
  assert.equal(line.pod, 'a');
  assert.ok(
    !Number.isNaN(Date.parse(String(line.time))),
    `time ${String(line.time)} is an ISO date`,
  );
  assert.equal('scope' in line, false);
});

test('a scope logger adds the scope field and is the same object each time', () => {
  const { lines, destination } = capture();
  const log = createLogger({ destination });
  assert.equal(log.scope('xds'), log.scope('xds'));
  log.scope('xds').warn('nack');
  assert.equal(lines[0].scope, 'xds');
  assert.equal(lines[0].level, 'warn');
});

test('the default level filters lines; setLevel changes it for root and scopes', () => {
  const { lines, destination } = capture();
  const log = createLogger({ level: 'info', destination });
  const xds = log.scope('xds');
  xds.debug('hidden');
  log.root.debug('hidden');
  assert.equal(lines.length, 0);
  log.setLevel('debug');
  xds.debug('shown');
  log.root.debug('shown');
  assert.deepEqual(
    lines.map((l) => [l.scope, l.msg]),
    [
      ['xds', 'shown'],
      [undefined, 'shown'],
    ],
  );
});

test('a scope level overrides the default and reaches existing children', () => {
  const { lines, destination } = capture();
  const log = createLogger({ level: 'info', destination });
  const conn = log.scope('xds').child({ conn: 7 });
  const other = log.scope('ca');
  log.setScopeLevel('xds', 'debug');
  conn.debug('from child');
  other.debug('hidden: ca still follows the default');
  assert.deepEqual(
    lines.map((l) => [l.scope, l.conn, l.msg]),
    [['xds', 7, 'from child']],
  );

  log.setLevel('error');
  conn.debug('still shown: xds has its own level');
  log.scope('ca').warn('hidden');
  assert.equal(lines.length, 2);

  log.setScopeLevel('xds', null);
  conn.warn('hidden: xds follows the default (error) again');
  assert.equal(lines.length, 2);
});

test('a level set before the scope exists applies when it is created', () => {
  const { lines, destination } = capture();
  const log = createLogger({ destination });
  log.setScopeLevel('dns', 'trace');
  log.scope('dns').trace('query');
  assert.equal(lines[0].msg, 'query');
});

test('levels() lists the default and every scope with its effective level', () => {
  const log = createLogger({ level: 'warn' });
  log.scope('xds');
  log.scope('ca');
  log.setScopeLevel('inpod', 'debug');
  log.setScopeLevel('ca', 'error');
  assert.deepEqual(log.levels(), {
    level: 'warn',
    scopes: { ca: 'error', inpod: 'debug', xds: 'warn' },
  });
  log.setLevel('info');
  assert.deepEqual(log.levels(), {
    level: 'info',
    scopes: { ca: 'error', inpod: 'debug', xds: 'info' },
  });
});

test('unknown levels and bad scope names are rejected with what is accepted', () => {
  const log = createLogger();
  assert.throws(() => log.setLevel('verbose'), {
    message:
      'unknown log level "verbose"; accepted: trace, debug, info, warn, error, fatal, silent',
  });
  assert.throws(() => log.setScopeLevel('xds', 'loud'), /unknown log level "loud"/);
  assert.throws(() => log.scope(''), /invalid log scope name ""/);
  assert.throws(() => log.scope('a b'), /invalid log scope name "a b"/);
  assert.throws(() => createLogger({ level: 'INFO' }), /unknown log level "INFO"/);
});
