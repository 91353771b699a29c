import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  errorStreamPayload,
  expectedStreamCount,
  negotiateProtocol,
  parseStreamRequest,
  portForwardStream,
  REMOTE_COMMAND_PROTOCOLS,
} from './stream-request.pure.js';

test('exec, attach and port-forward paths parse as the apiserver sends them', () => {
  assert.deepEqual(
    parseStreamRequest(
      '/exec/ns1/web/app?command=sh&command=-c&command=echo+hi&input=1&output=1&error=1&tty=1',
    ),
    {
      kind: 'exec',
      namespace: 'ns1',
      pod: 'web',
      uid: undefined,
      container: 'app',
      command: ['sh', '-c', 'echo hi'],
      options: { stdin: true, stdout: true, stderr: false, tty: true },
    },
  );
  const a = parseStreamRequest('/attach/ns1/web/uid-1/app?output=1');
  assert.ok(a && 'kind' in a && a.kind === 'attach');
  assert.equal(a.uid, 'uid-1');
  assert.deepEqual(parseStreamRequest('/portForward/ns1/web?port=80'), {
    kind: 'portForward',
    namespace: 'ns1',
    pod: 'web',
    uid: undefined,
  });
  assert.equal(parseStreamRequest('/containerLogs/a/b/c'), undefined);
  assert.deepEqual(parseStreamRequest('/exec/ns1/web/app?command=ls'), {
    error: 'you must specify at least 1 of stdin, stdout, stderr',
  });
  assert.deepEqual(parseStreamRequest('/exec/ns1/web/app?output=1'), {
    error: 'exec needs a command',
  });
  assert.deepEqual(parseStreamRequest('/exec/ns1?output=1'), {
    error: 'malformed exec path /exec/ns1',
  });
});

test('the first offered protocol we speak wins; v5 (WebSocket only) is never chosen for SPDY', () => {
  assert.equal(
    negotiateProtocol(
      ['v5.channel.k8s.io, v4.channel.k8s.io', 'v3.channel.k8s.io'],
      REMOTE_COMMAND_PROTOCOLS,
    ),
    'v4.channel.k8s.io',
  );
  assert.equal(
    negotiateProtocol('v2.channel.k8s.io', REMOTE_COMMAND_PROTOCOLS),
    'v2.channel.k8s.io',
  );
  assert.equal(negotiateProtocol(undefined, REMOTE_COMMAND_PROTOCOLS), undefined);
  assert.equal(
    expectedStreamCount(
      { stdin: true, stdout: true, stderr: false, tty: true },
      'v4.channel.k8s.io',
    ),
    4,
  );
  assert.equal(
    expectedStreamCount(
      { stdin: true, stdout: true, stderr: false, tty: true },
      'v2.channel.k8s.io',
    ),
    3,
  );
});

test('the error stream reports success, exit codes and failures per protocol version', () => {
  assert.deepEqual(JSON.parse(errorStreamPayload('v4.channel.k8s.io', { exitCode: 0 }, ['true'])), {
    metadata: {},
    status: 'Success',
  });
  const failed = JSON.parse(errorStreamPayload('v4.channel.k8s.io', { exitCode: 3 }, ['sh']));
  assert.equal(failed.reason, 'NonZeroExitCode');
  assert.deepEqual(failed.details.causes, [{ reason: 'ExitCode', message: '3' }]);
  assert.equal(
    JSON.parse(errorStreamPayload('v4.channel.k8s.io', { error: 'boom' }, [])).code,
    500,
  );
  assert.equal(errorStreamPayload('v3.channel.k8s.io', { exitCode: 0 }, ['true']), '');
  assert.match(
    errorStreamPayload('v3.channel.k8s.io', { exitCode: 2 }, ['x']),
    /non-zero exit code/,
  );
});

test('port-forward streams need a valid port and a data or error type', () => {
  assert.deepEqual(portForwardStream('8080', 'data'), { port: 8080, type: 'data' });
  assert.deepEqual(portForwardStream(undefined, 'data'), { error: '"port" header is required' });
  assert.deepEqual(portForwardStream('0', 'data'), { error: 'unable to parse "0" as a port' });
  assert.deepEqual(portForwardStream('70000', 'error'), {
    error: 'unable to parse "70000" as a port',
  });
  assert.deepEqual(portForwardStream('80', 'stdin'), { error: 'invalid stream type "stdin"' });
});
