// tls_inspector's reading of a ClientHello: real hellos from Node's TLS client (with and without
// SNI and ALPN), given whole and split at every byte, plain-text protocols, and malformed input.
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import { test } from 'node:test';
import { inspectClientHello } from './client-hello.pure.js';

/** The first bytes a real TLS client sends. */
async function realHello(o: tls.ConnectionOptions): Promise<Buffer> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const got = once(server, 'connection').then(async (args) => {
    const s = args[0] as net.Socket;
    const [d] = (await once(s, 'data')) as [Buffer];
    s.destroy();
    return d;
  });
  const c = tls.connect({
    host: '127.0.0.1',
    port: (server.address() as net.AddressInfo).port,
    ...o,
  });
  c.on('error', () => undefined);
  const hello = await got;
  c.destroy();
  server.close();
  return hello;
}

test('SNI and ALPN from real ClientHellos, whole and split at every byte', async () => {
  const cases = [
    {
      o: { servername: 'a.example.com', ALPNProtocols: ['h2', 'http/1.1'] },
      sni: 'a.example.com',
      alpn: ['h2', 'http/1.1'],
    },
    { o: { servername: 'Mixed.Example.COM' }, sni: 'mixed.example.com', alpn: [] },
    { o: { ALPNProtocols: ['http/1.1'] }, sni: undefined, alpn: ['http/1.1'] },
  ];
  for (const c of cases) {
    const hello = await realHello(c.o);
    const whole = inspectClientHello(hello);
    assert.deepEqual(whole, { kind: 'tls', ...(c.sni ? { sni: c.sni } : {}), alpn: c.alpn });
    for (let i = 1; i < hello.length; i++)
      assert.deepEqual(
        inspectClientHello(hello.subarray(0, i)),
        { kind: 'need-more' },
        `cut at ${i}`,
      );
  }
});

test('a ClientHello split over two TLS records is joined', async () => {
  const hello = await realHello({ servername: 'split.example.com' });
  const body = hello.subarray(5);
  const rec = (b: Buffer) =>
    Buffer.concat([Buffer.from([0x16, 0x03, 0x01, b.length >> 8, b.length & 0xff]), b]);
  const two = Buffer.concat([rec(body.subarray(0, 40)), rec(body.subarray(40))]);
  assert.deepEqual(inspectClientHello(two), { kind: 'tls', sni: 'split.example.com', alpn: [] });
});

test('plain text is not TLS; broken hellos are refused with a reason', () => {
  assert.deepEqual(inspectClientHello(Buffer.from('GET / HTTP/1.1\r\n')), { kind: 'not-tls' });
  assert.deepEqual(inspectClientHello(Buffer.from('PRI * HTTP/2.0')), { kind: 'not-tls' });
  assert.deepEqual(inspectClientHello(Buffer.from([0x16, 0x07])), { kind: 'not-tls' });
  assert.deepEqual(inspectClientHello(Buffer.alloc(0)), { kind: 'need-more' });
  // A handshake record holding a ServerHello (type 2).
  assert.deepEqual(inspectClientHello(Buffer.from([0x16, 3, 1, 0, 4, 2, 0, 0, 0])), {
    kind: 'invalid',
    reason: 'first handshake message is type 2, not ClientHello',
  });
  // A ClientHello whose declared length is beyond the 64 KiB limit.
  assert.equal(inspectClientHello(Buffer.from([0x16, 3, 1, 0, 4, 1, 0x10, 0, 0])).kind, 'invalid');
  // A complete but truncated body (session id longer than the message).
  assert.deepEqual(
    inspectClientHello(
      Buffer.from([0x16, 3, 1, 0, 40, 1, 0, 0, 36, 3, 3, ...Buffer.alloc(32), 200, 0, 0]),
    ),
    {
      kind: 'invalid',
      reason: 'malformed ClientHello',
    },
  );
  // An alert record in the middle of the handshake.
  assert.deepEqual(
    inspectClientHello(Buffer.from([0x16, 3, 1, 0, 2, 1, 0, 0x15, 3, 1, 0, 2, 2, 40])),
    {
      kind: 'invalid',
      reason: 'ClientHello interrupted by a non-handshake record',
    },
  );
});
