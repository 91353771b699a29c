import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { drainable } from './drain.js';

async function connectedPair() {
  const server = net.createServer((socket) => socket.pipe(socket));
  const drain = drainable(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const accepted = once(server, 'connection');
  const client = net.connect(port, '127.0.0.1');
  await Promise.all([once(client, 'connect'), accepted]);
  return { server, drain, client };
}

test('drain resolves once the last open connection ends', async () => {
  const { drain, client } = await connectedPair();
  assert.equal(drain.openConnections(), 1);
  let drained = false;
  const drainDone = drain.drain().then(() => (drained = true));
  client.write('x');
  await once(client, 'data'); // still served while draining
  assert.equal(drained, false);
  client.end();
  await drainDone;
  assert.equal(drain.openConnections(), 0);
});

test('destroy ends the connections still open', async () => {
  const { drain, client } = await connectedPair();
  client.on('error', () => {});
  const drainDone = drain.drain();
  const clientClosed = once(client, 'close');
  drain.destroy();
  await clientClosed;
  await drainDone;
  assert.equal(drain.openConnections(), 0);
});
