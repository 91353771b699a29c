// Client behaviour against the real server: handler refusals, misuse, close.
import assert from 'node:assert/strict';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { CLUSTER_TYPE_URL } from '@trellis/api';
import { harness, ZTUNNEL_NODE } from '../test-support/harness.js';
import { insecure } from '../test-support/loopback.js';
import { Recorder, snapshot } from '../test-support/resources.js';
import { createLogger } from '@trellis/core';
import { eventually } from '@trellis/core/test-support';
import { createDeltaClient } from './delta-client.js';
import type { ResourceChange } from './types.js';

class Picky extends Recorder {
  override onChange(change: ResourceChange<string>): void {
    if (change.resources.size > 2) throw new Error('at most two clusters, please');
    super.onChange(change);
  }
}

for (const protocol of ['delta', 'sotw'] as const) {
  test(`${protocol}: a handler that refuses a change NACKs it and keeps its state`, async (t) => {
    const h = await harness(t, { snapshot: snapshot({ clusters: { a: 'v1' } }) });
    const clusters = new Picky();
    const client = protocol === 'delta' ? h.delta(ZTUNNEL_NODE) : h.sotw(ZTUNNEL_NODE);
    const watch = client.watch(CLUSTER_TYPE_URL, clusters);
    await clusters.state({ a: 'v1' });

    h.xds.update({ snapshot: snapshot({ clusters: { a: 'v1', b: 'v1', c: 'v1' } }) });
    const d = await eventually('the NACK to be counted', () => {
      const x = h.typeDebug(ZTUNNEL_NODE, CLUSTER_TYPE_URL);
      return x?.nacks === 1 && x;
    });
    assert.equal(d.lastError, 'at most two clusters, please');
    assert.equal(watch.lastError(), 'at most two clusters, please');
    assert.deepEqual([...watch.resources().values()], ['a=v1']);
    assert.equal(watch.version(), '1');
  });
}

test('watching a type twice, or a node without id, is an error', async (t) => {
  const h = await harness(t, { snapshot: snapshot({}) });
  const client = h.delta();
  client.watch(CLUSTER_TYPE_URL, new Recorder());
  assert.throws(() => client.watch(CLUSTER_TYPE_URL, new Recorder()), /already watched/);
  assert.throws(
    () => createDeltaClient({ address: h.grpc.address, credentials: insecure, node: {} }),
    /node\.id is required/,
  );
});

test('close ends the stream: the server sees the proxy go away', async (t) => {
  const h = await harness(t, { snapshot: snapshot({ clusters: { a: 'v1' } }) });
  const clusters = new Recorder();
  const client = h.delta();
  client.watch(CLUSTER_TYPE_URL, clusters);
  await clusters.state({ a: 'v1' });
  client.close();
  assert.equal(client.state, 'closed');
  await eventually('the connection to close', () => h.xds.connections === 0);
});

test('a connection the server never answers is given up: the client dials again on a new one', async (t) => {
  const h = await harness(t, { snapshot: snapshot({ clusters: { a: 'v1' } }) });
  // In front of the server: the first connection is accepted and never answered (as a SYN to an
  // address that went away is never answered); later ones reach the server.
  const held: net.Socket[] = [];
  const front = net.createServer((socket) => {
    if (held.length === 0) {
      held.push(socket);
      return;
    }
    const upstream = net.connect(h.grpc.port, '127.0.0.1');
    socket.pipe(upstream).pipe(socket);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const s of held) s.destroy();
    front.close();
  });
  const client = createDeltaClient({
    address: `127.0.0.1:${(front.address() as net.AddressInfo).port}`,
    credentials: insecure,
    node: { id: ZTUNNEL_NODE },
    backoff: { initialMs: 10, maxMs: 50 },
    connectTimeoutMs: 300,
  });
  t.after(() => client.close());
  const clusters = new Recorder();
  client.watch(CLUSTER_TYPE_URL, clusters);
  await clusters.state({ a: 'v1' });
  assert.equal(held.length, 1, 'the first connection was held, the config came on another');
});

test("a server that was down a while is dialled again at the client's next attempt", async (t) => {
  const h = await harness(t, { snapshot: snapshot({ clusters: { a: 'v1' } }) });
  // A port nothing listens on (connections refused) for 8 s, long enough for grpc-js's own
  // reconnect backoff (here from 300 ms, x1.6 each time) to keep a channel from dialling for a
  // second or more; and a name, as proxies reach their control plane (istiod.<ns>.svc), which
  // grpc-js re-resolves at most every 30 s (a new resolution would bring a fresh subchannel).
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  let up = false;
  let failedWhileUp = 0;
  const lines = {
    write(line: string) {
      if (up && line.includes('xDS stream ended; reconnecting')) failedWhileUp++;
    },
  };
  const client = createDeltaClient({
    address: `localhost:${port}`,
    credentials: insecure,
    node: { id: ZTUNNEL_NODE },
    backoff: { initialMs: 10, maxMs: 100 },
    channelOptions: { 'grpc.initial_reconnect_backoff_ms': 300 },
    logger: createLogger({ level: 'info', destination: lines }).root,
  });
  t.after(() => client.close());
  const clusters = new Recorder();
  client.watch(CLUSTER_TYPE_URL, clusters);
  await sleep(8_000);
  assert.notEqual(client.state, 'connected');
  // The server comes back on that port (a proxy in front of it).
  const front = net.createServer((socket) => {
    const upstream = net.connect(h.grpc.port, '127.0.0.1');
    socket.pipe(upstream).pipe(socket);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => front.listen(port, '127.0.0.1', resolve));
  up = true;
  t.after(() => front.close());
  await eventually(
    'the configuration after the server came back',
    () => clusters.changes.length > 0,
    {
      timeoutMs: 30_000,
      intervalMs: 20,
    },
  );
  // A stream opened just before the server came back may still fail; no later one does (grpc-js's
  // channel would fail each of them at once with its last error until its own backoff ends).
  assert.ok(failedWhileUp <= 1, `${failedWhileUp} streams failed after the server was back`);
});

test('until the server first answers, reconnect delays stay short (a control plane not there yet, or its name not resolving yet); after, they grow', async (t) => {
  const h = await harness(t, { snapshot: snapshot({ clusters: { a: 'v1' } }) });
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  const retries: number[] = [];
  const lines = {
    write(line: string) {
      const entry = JSON.parse(line) as { msg?: string; retryInMs?: number };
      if (entry.msg === 'xDS stream ended; reconnecting') retries.push(entry.retryInMs!);
    },
  };
  const client = createDeltaClient({
    address: `localhost:${port}`,
    credentials: insecure,
    node: { id: ZTUNNEL_NODE },
    // Uncapped, the delays would pass 300 ms by the fourth attempt (100, 200, 400, 800, ...).
    backoff: { initialMs: 100, maxMs: 60_000, untilFirstAnswerMs: 300 },
    logger: createLogger({ level: 'info', destination: lines }).root,
  });
  t.after(() => client.close());
  const clusters = new Recorder();
  client.watch(CLUSTER_TYPE_URL, clusters);
  await sleep(3_000);
  assert.ok(retries.length >= 6, `${retries.length} attempts in 3 s`);
  assert.ok(Math.max(...retries) <= 300, `delays before the first answer: ${retries.join(', ')}`);
  const sockets = new Set<net.Socket>();
  const front = net.createServer((socket) => {
    const upstream = net.connect(h.grpc.port, '127.0.0.1');
    for (const s of [socket, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => (socket.destroy(), upstream.destroy()));
    }
    socket.pipe(upstream).pipe(socket);
  });
  await new Promise<void>((resolve) => front.listen(port, '127.0.0.1', resolve));
  await eventually(
    'the configuration soon after the server came',
    () => clusters.changes.length > 0,
    {
      timeoutMs: 2_000,
      intervalMs: 20,
    },
  );
  // Once answered, a server that goes away is tried with the usual growing delays.
  const before = retries.length;
  front.close();
  for (const s of sockets) s.destroy();
  await eventually(
    'delays past the startup cap',
    () => retries.slice(before).some((d) => d > 300),
    {
      timeoutMs: 10_000,
      intervalMs: 50,
    },
  );
});
