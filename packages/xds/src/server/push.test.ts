// Push behaviour: debouncing, slow clients, reconnection, graceful close.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { status } from '@grpc/grpc-js';
import { CLUSTER_TYPE_URL, ROUTE_CONFIGURATION_TYPE_URL, unpackAnyAs } from '@trellis/api';
import { ClusterSchema } from '@trellis/api/gen/envoy/config/cluster/v3/cluster_pb.js';
import { DeltaDiscoveryRequestSchema } from '@trellis/api/gen/envoy/service/discovery/v3/discovery_pb.js';
import type { ConnectionState } from '../client/types.js';
import { harness, ZTUNNEL_NODE } from '../test-support/harness.js';
import { serveAds } from '../test-support/loopback.js';
import { rawDelta } from '../test-support/raw-stream.js';
import { Recorder, snapshot } from '../test-support/resources.js';
import { eventually } from '@trellis/core/test-support';

test('debounce: a burst of 50 updates becomes one snapshot and one push', async (t) => {
  const h = await harness(t, {
    snapshot: snapshot({ clusters: { a: 'v0' } }),
    debounce: { quietMs: 20, maxDelayMs: 1000 },
  });
  const clusters = new Recorder();
  h.delta().watch(CLUSTER_TYPE_URL, clusters);
  await clusters.state({ a: 'v0' });

  for (let i = 1; i <= 50; i++) h.xds.update({ snapshot: snapshot({ clusters: { a: `v${i}` } }) });
  const last = await clusters.state({ a: 'v50' });
  assert.equal(last.version, '2', 'one snapshot version for the whole burst');
  assert.equal(clusters.changes.length, 2, 'the initial state and one merged push');
  assert.equal(h.typeDebug(ZTUNNEL_NODE, CLUSTER_TYPE_URL)?.responses, 2);
  assert.equal(await h.metric('pilot_debounce_batch_size_count'), 1);
  assert.equal(await h.metric('pilot_debounce_batch_size_sum'), 50);
  assert.equal(await h.metric('pilot_xds_pushes{type="cds"}'), 2);
  assert.equal(await h.metric('pilot_proxy_convergence_time_count{type="cds"}'), 1);
});

test('a slow client that does not ACK blocks nobody and later gets one merged push', async (t) => {
  const h = await harness(t, { snapshot: snapshot({ clusters: { a: 'v0', b: 'v0' } }) });
  const slow = rawDelta(h.grpc.address);
  t.after(() => slow.end());
  slow.send(
    create(DeltaDiscoveryRequestSchema, {
      node: { id: 'slow' },
      typeUrl: CLUSTER_TYPE_URL,
      resourceNamesSubscribe: ['*'],
    }),
  );
  const first = await slow.next();
  assert.equal(first.resources.length, 2);

  const fast = new Recorder();
  h.delta('fast').watch(CLUSTER_TYPE_URL, fast);
  await fast.state({ a: 'v0', b: 'v0' });
  for (let i = 1; i <= 3; i++) {
    h.xds.update({ snapshot: snapshot({ clusters: { a: `v${i}`, b: 'v0' } }) });
    await fast.state({ a: `v${i}`, b: 'v0' });
  }

  const waiting = h.typeDebug('slow', CLUSTER_TYPE_URL);
  assert.equal(waiting?.awaitingAck, true);
  assert.equal(waiting?.pending, true, 'changes wait for the ACK');
  assert.equal(waiting?.responses, 1);
  assert.equal(slow.received.length, 1);

  slow.send(
    create(DeltaDiscoveryRequestSchema, { typeUrl: CLUSTER_TYPE_URL, responseNonce: first.nonce }),
  );
  const merged = await slow.next();
  assert.deepEqual(
    merged.resources.map((r) => `${r.name}=${unpackAnyAs(r.resource!, ClusterSchema).altStatName}`),
    ['a=v3'],
    'one push with the newest state of what changed',
  );
  assert.equal(merged.systemVersionInfo, h.xds.version);
  assert.equal(h.typeDebug('slow', CLUSTER_TYPE_URL)?.responses, 2);
});

test('delta reconnect: subscriptions resume, only what changed meanwhile is sent', async (t) => {
  const h = await harness(t, { snapshot: snapshot({ clusters: { a: 'v1', b: 'v1', c: 'v1' } }) });
  const clusters = new Recorder();
  const client = h.delta();
  const states: ConnectionState[] = [];
  client.onStateChange((s) => states.push(s));
  client.watch(CLUSTER_TYPE_URL, clusters);
  await clusters.state({ a: 'v1', b: 'v1', c: 'v1' });
  assert.equal(client.state, 'connected');

  h.grpc.kill();
  await eventually('the client to back off', () => client.state === 'backoff');
  h.xds.update({ snapshot: snapshot({ clusters: { a: 'v2', b: 'v1', d: 'v1' } }) });
  h.xds.flush();
  const again = await serveAds(h.xds, h.grpc.port);
  t.after(() => again.kill());

  const resumed = await clusters.state({ a: 'v2', b: 'v1', d: 'v1' });
  assert.deepEqual([...resumed.updated.keys()].sort(), ['a', 'd'], 'b was held and unchanged');
  assert.deepEqual(resumed.removed, ['c']);
  assert.equal(client.state, 'connected');
  // Attempts while the server was down may add more backoff/connecting rounds in between.
  assert.deepEqual(states.slice(0, 2), ['connected', 'backoff']);
  assert.equal(states.at(-1), 'connected');
  assert.equal(h.xds.connections, 1);
});

test('SotW reconnect: named subscriptions made on the fly are resumed', async (t) => {
  const h = await harness(t, { snapshot: snapshot({ routes: { r1: 'v1', r2: 'v1', r3: 'v1' } }) });
  const routes = new Recorder('route');
  const client = h.sotw();
  const watch = client.watch(ROUTE_CONFIGURATION_TYPE_URL, routes, ['r1']);
  await routes.state({ r1: 'v1' });
  watch.subscribe(['r3']);
  await routes.state({ r1: 'v1', r3: 'v1' });

  h.grpc.kill();
  await eventually('the client to back off', () => client.state === 'backoff');
  h.xds.update({ snapshot: snapshot({ routes: { r1: 'v2', r2: 'v2', r3: 'v2' } }) });
  h.xds.flush();
  const again = await serveAds(h.xds, h.grpc.port);
  t.after(() => again.kill());

  await routes.state({ r1: 'v2', r3: 'v2' });
  const [d] = await eventually('one connection', () => h.xds.debug().length === 1 && h.xds.debug());
  assert.deepEqual(d?.types[0]?.subscribed, ['r1', 'r3']);
});

test('close drains streams, refuses new ones and rejects further updates', async (t) => {
  const h = await harness(t, { snapshot: snapshot({ clusters: { a: 'v1' } }) });
  const clusters = new Recorder();
  const client = h.delta();
  client.watch(CLUSTER_TYPE_URL, clusters);
  await clusters.state({ a: 'v1' });

  await h.xds.close();
  assert.equal(h.xds.connections, 0);
  await eventually(
    'the client to lose its stream',
    () => client.state === 'backoff' || client.state === 'connecting',
  );
  assert.throws(() => h.xds.update({ snapshot: snapshot({}) }), /closed/);

  const raw = rawDelta(h.grpc.address);
  t.after(() => raw.end());
  raw.send(
    create(DeltaDiscoveryRequestSchema, { node: { id: 'late' }, typeUrl: CLUSTER_TYPE_URL }),
  );
  const s = await raw.status;
  assert.equal(s.code, status.UNAVAILABLE);
  assert.match(s.details, /shutting down/);
});
