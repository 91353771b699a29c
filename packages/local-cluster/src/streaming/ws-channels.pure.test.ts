import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeMessage,
  encodeMessage,
  negotiateWsProtocol,
  portPrefix,
  statusProtocolOf,
  webSocketPorts,
  WS_PORT_FORWARD_PROTOCOLS,
  WS_REMOTE_COMMAND_PROTOCOLS,
} from './ws-channels.pure.js';

test("the client's first subprotocol we speak wins; none offered is the binary default", () => {
  const clientNode = 'v5.channel.k8s.io, v4.channel.k8s.io, v3.channel.k8s.io, channel.k8s.io';
  assert.equal(negotiateWsProtocol(clientNode, WS_REMOTE_COMMAND_PROTOCOLS), 'v5.channel.k8s.io');
  assert.equal(negotiateWsProtocol(clientNode, WS_PORT_FORWARD_PROTOCOLS), 'v4.channel.k8s.io');
  assert.equal(negotiateWsProtocol(undefined, WS_PORT_FORWARD_PROTOCOLS), '');
  assert.equal(negotiateWsProtocol('v3.channel.k8s.io', WS_PORT_FORWARD_PROTOCOLS), undefined);
  assert.equal(statusProtocolOf('v4.base64.channel.k8s.io'), 'v4.channel.k8s.io');
  assert.equal(statusProtocolOf('base64.channel.k8s.io'), 'channel.k8s.io');
});

test('messages: a channel byte (binary) or digit + base64 (text); v5 CLOSE; garbage said', () => {
  assert.deepEqual(encodeMessage('v4.channel.k8s.io', 1, Buffer.from('hi')), Buffer.from('\x01hi'));
  assert.equal(encodeMessage('v4.base64.channel.k8s.io', 1, Buffer.from('hi')), '1aGk=');
  assert.deepEqual(decodeMessage('channel.k8s.io', Buffer.from('\x00abc')), {
    channel: 0,
    data: Buffer.from('abc'),
  });
  assert.deepEqual(decodeMessage('base64.channel.k8s.io', Buffer.from('0aGk=')), {
    channel: 0,
    data: Buffer.from('hi'),
  });
  assert.deepEqual(decodeMessage('v5.channel.k8s.io', Buffer.from([255, 0])), { close: 0 });
  // Before v5, 255 is only a channel nobody has.
  assert.deepEqual(decodeMessage('v4.channel.k8s.io', Buffer.from([255, 0])), {
    channel: 255,
    data: Buffer.from([0]),
  });
  assert.equal(decodeMessage('v4.channel.k8s.io', Buffer.alloc(0)), undefined);
  assert.match(
    (decodeMessage('base64.channel.k8s.io', Buffer.from('0!!')) as { error: string }).error,
    /not base64/,
  );
});

test('port-forward ports come from "port", repeated or comma-separated; the prefix is LE', () => {
  assert.deepEqual(
    webSocketPorts('/portForward/ns/p?port=8080,9090&port=15000'),
    [8080, 9090, 15000],
  );
  assert.match((webSocketPorts('/portForward/ns/p') as { error: string }).error, /required/);
  assert.match((webSocketPorts('/portForward/ns/p?port=x') as { error: string }).error, /"x"/);
  assert.match((webSocketPorts('/portForward/ns/p?port=0') as { error: string }).error, /> 0/);
  assert.deepEqual(portPrefix(8080), Buffer.from([0x90, 0x1f]));
});
