// Protocol detection for workload-addressed tunnels: what the first bytes say, and that the bytes
// read reach the chosen chain.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { classifyAppProtocol, detectAppProtocol } from './detect-protocol.js';

const b = (s: string) => Buffer.from(s, 'latin1');

test('the first bytes: h2c preface, an HTTP/1.x request line, anything else TCP', () => {
  assert.equal(classifyAppProtocol(b('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')), 'h2c');
  assert.equal(classifyAppProtocol(b('PRI * HTTP/2')), undefined, 'a preface cut short');
  assert.equal(classifyAppProtocol(b('GET /x HTTP/1.1\r\nHost: a\r\n')), 'http/1.1');
  assert.equal(classifyAppProtocol(b('OPTIONS * HTTP/1.0\r\n')), 'http/1.1');
  assert.equal(classifyAppProtocol(b('GET /x HT')), undefined, 'a request line cut short');
  assert.equal(classifyAppProtocol(b('\x16\x03\x01\x02\x00')), 'tcp', 'a TLS ClientHello');
  assert.equal(classifyAppProtocol(b('ping\r\n')), 'tcp', 'a line that is not a request');
  assert.equal(classifyAppProtocol(b('GET /x SMTP/1.1\r\n')), 'tcp');
  assert.equal(classifyAppProtocol(Buffer.alloc(9000, 0x41)), 'tcp', 'no line end in 8 KiB');
});

test('detection hands the bytes it read to the chain; silence is TCP after the timeout', async () => {
  const s = new PassThrough();
  const got = new Promise<[string, string]>((resolve) =>
    detectAppProtocol(s, 5_000, (p, initial) => resolve([p, initial?.toString() ?? ''])),
  );
  s.write('GET / HT');
  s.write('TP/1.1\r\nHost: x\r\n\r\n');
  assert.deepEqual(await got, ['http/1.1', 'GET / HTTP/1.1\r\nHost: x\r\n\r\n']);

  const quiet = new PassThrough();
  const p = await new Promise<string>((resolve) =>
    detectAppProtocol(quiet, 50, (proto, initial) => resolve(`${proto}:${initial?.length ?? 0}`)),
  );
  assert.equal(p, 'tcp:0');
});
