// A server that terminates tunnels in-process (terminate instead of dial, as the waypoint does):
// the owner reads and writes the tunnel, no upstream is dialled, the stream's end and byte counts
// reach onStreamClosed, and a denied CONNECT never reaches the owner.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { makePki, spiffe, startClient, startServer } from './test-support/hbone-endpoints.js';

test('terminate: the owner serves the tunnel; onStreamClosed gets the byte counts', async (t) => {
  const pki = await makePki();
  const served: string[] = [];
  const server = await startServer(t, pki, spiffe('waypoint'), {
    dial: () => Promise.reject(new Error('terminate must be used instead of dial')),
    terminate: (tunnel, request) => {
      served.push(`${request.peer.uri} -> ${request.target.address}:${request.target.port}`);
      let text = '';
      tunnel.on('data', (d: Buffer) => (text += d.toString()));
      tunnel.on('end', () => tunnel.end(text.toUpperCase()));
    },
    onConnect: (req) =>
      req.target.port === 81 ? { allow: false, reason: 'port 81 is closed' } : { allow: true },
  });
  const client = startClient(t);
  const source = await pki.workload(spiffe('client'));
  const tunnel = await client.connect({
    source,
    destinationIdentity: spiffe('waypoint'),
    destinationIp: '127.0.0.1',
    hbonePort: server.port,
    target: '10.96.0.1:80',
  });
  let reply = '';
  tunnel.on('data', (d: Buffer) => (reply += d.toString()));
  tunnel.end('hello tunnel');
  await once(tunnel, 'end');
  assert.equal(reply, 'HELLO TUNNEL');
  assert.deepEqual(served, [`${spiffe('client')} -> 10.96.0.1:80`]);
  while (server.closed.length === 0) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(
    [server.closed[0]!.stats.bytesReceived, server.closed[0]!.stats.bytesSent],
    [12, 12],
  );
  await assert.rejects(
    client.connect({
      source,
      destinationIdentity: spiffe('waypoint'),
      destinationIp: '127.0.0.1',
      hbonePort: server.port,
      target: '10.96.0.1:81',
    }),
    (err: Error & { status?: number }) => err.status === 401,
  );
  assert.equal(served.length, 1, 'a denied CONNECT never reaches the owner');
});
