// State-of-the-world ADS over loopback: our SotW client against the server.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { status } from '@grpc/grpc-js';
import { CLUSTER_TYPE_URL, LISTENER_TYPE_URL, ROUTE_CONFIGURATION_TYPE_URL } from '@trellis/api';
import { DiscoveryRequestSchema } from '@trellis/api/gen/envoy/service/discovery/v3/discovery_pb.js';
import { harness } from '../test-support/harness.js';
import { rawSotw } from '../test-support/raw-stream.js';
import { Recorder, snapshot } from '../test-support/resources.js';
import { eventually } from '@trellis/core/test-support';

const WAYPOINT = 'router~10.0.0.9~waypoint-0.prod~prod.svc.cluster.local';

test('SotW: initial fetch of a wildcard type; the ACK advances the ACKed version', async (t) => {
  const h = await harness(t, { snapshot: snapshot({ clusters: { a: 'v1', b: 'v1' } }) });
  const clusters = new Recorder();
  const watch = h.sotw(WAYPOINT).watch(CLUSTER_TYPE_URL, clusters);

  const first = await clusters.state({ a: 'v1', b: 'v1' });
  assert.equal(first.version, '1');
  const acked = await eventually('version 1 to be ACKed', () => {
    const d = h.typeDebug(WAYPOINT, CLUSTER_TYPE_URL);
    return d?.ackedVersion === '1' && d;
  });
  assert.deepEqual(acked.subscribed, ['*']);
  assert.equal(acked.ackedNonce, acked.sentNonce);
  assert.equal(acked.awaitingAck, false);

  h.xds.update({
    snapshot: snapshot({ clusters: { a: 'v2', b: 'v1' } }),
    types: [CLUSTER_TYPE_URL],
  });
  const second = await clusters.state({ a: 'v2', b: 'v1' });
  assert.equal(second.version, '2');
  assert.deepEqual([...second.updated.keys()], ['a'], 'only the cluster whose bytes changed');
  const d = await eventually('version 2 to be ACKed', () => {
    const x = h.typeDebug(WAYPOINT, CLUSTER_TYPE_URL);
    return x?.ackedVersion === '2' && x;
  });
  assert.equal(d.ackedNonce, d.sentNonce);
  assert.notEqual(d.ackedNonce, acked.ackedNonce);
  assert.equal(watch.version(), '2');
  assert.equal(await h.metric('pilot_xds_pushes{type="cds"}'), 2);
  assert.equal(await h.metric('pilot_xds'), 1);

  h.xds.update({ snapshot: snapshot({ clusters: { b: 'v1' } }) });
  const third = await clusters.state({ b: 'v1' });
  assert.deepEqual(third.removed, ['a'], 'a cluster missing from a CDS response is removed');
});

test('SotW: named RDS subscriptions get only those names, changed on the fly', async (t) => {
  const h = await harness(t, {
    snapshot: snapshot({ routes: { r1: 'v1', r2: 'v1', r3: 'v1' } }),
  });
  const routes = new Recorder('route');
  const watch = h.sotw(WAYPOINT).watch(ROUTE_CONFIGURATION_TYPE_URL, routes, ['r1']);
  await routes.state({ r1: 'v1' });

  watch.subscribe(['r2']);
  await routes.state({ r1: 'v1', r2: 'v1' });
  await eventually(
    'the routes to be ACKed',
    () => h.typeDebug(WAYPOINT, ROUTE_CONFIGURATION_TYPE_URL)?.ackedVersion === '1',
  );

  watch.unsubscribe(['r1']);
  const dropped = await routes.state({ r2: 'v1' });
  assert.deepEqual(dropped.removed, ['r1'], 'the client drops what it unsubscribed from');
  await eventually(
    'the route subscription to be just r2',
    () => h.typeDebug(WAYPOINT, ROUTE_CONFIGURATION_TYPE_URL)?.subscribed.join() === 'r2',
  );

  // The answer to the unsubscribe request (r2, unchanged) may still be on its way: skip empty changes.
  const from = routes.changes.length;
  h.xds.update({ snapshot: snapshot({ routes: { r1: 'v2', r2: 'v2', r3: 'v2' } }) });
  const next = await routes.next((c) => c.updated.size > 0, from);
  assert.deepEqual([...next.updated.keys()], ['r2']);
  assert.deepEqual([...watch.resources().values()], ['r2=v2']);
});

test('SotW NACK: counted and logged, the client keeps its config, the rejected content is not resent, other types flow', async (t) => {
  const h = await harness(t, {
    snapshot: snapshot({ clusters: { a: 'v1' }, listeners: { l: 'v1' } }),
  });
  const client = h.sotw(WAYPOINT);
  const clusters = new Recorder();
  const listeners = new Recorder('listener');
  const cds = client.watch(CLUSTER_TYPE_URL, clusters);
  client.watch(LISTENER_TYPE_URL, listeners);
  await clusters.state({ a: 'v1' });
  await listeners.state({ l: 'v1' });

  h.xds.update({ snapshot: snapshot({ clusters: { a: 'bad' }, listeners: { l: 'v1' } }) });
  const nacked = await eventually('the NACK to be counted', () => {
    const d = h.typeDebug(WAYPOINT, CLUSTER_TYPE_URL);
    return d?.nacks === 1 && d;
  });
  assert.match(nacked.lastError ?? '', /cluster a is marked bad/);
  assert.equal(nacked.ackedVersion, '1', 'the ACKed version stays at the last accepted one');
  assert.match(cds.lastError() ?? '', /cluster a is marked bad/);
  assert.deepEqual([...cds.resources().values()], ['a=v1']);
  assert.equal(cds.version(), '1');
  assert.equal(await h.metric('pilot_total_xds_rejects{type="cds"}'), 1);
  const logged = h.lines.find((l) => String(l.msg).includes('NACK'));
  assert.match(String(logged?.error), /cluster a is marked bad/);
  assert.equal(logged?.level, 'warn');

  // Every type is marked changed, but CDS content is the rejected one: not sent again.
  h.xds.update({ snapshot: snapshot({ clusters: { a: 'bad' }, listeners: { l: 'v2' } }) });
  await listeners.state({ l: 'v2' });
  assert.equal(h.typeDebug(WAYPOINT, CLUSTER_TYPE_URL)?.responses, 2);

  h.xds.update({ snapshot: snapshot({ clusters: { a: 'v3' }, listeners: { l: 'v2' } }) });
  await clusters.state({ a: 'v3' });
  await eventually(
    'version 4 to be ACKed',
    () => h.typeDebug(WAYPOINT, CLUSTER_TYPE_URL)?.ackedVersion === '4',
  );
});

test('SotW: a stream whose first request has no node is refused with INVALID_ARGUMENT', async (t) => {
  const h = await harness(t, { snapshot: snapshot({}) });
  const raw = rawSotw(h.grpc.address);
  t.after(() => raw.end());
  raw.send(create(DiscoveryRequestSchema, { typeUrl: CLUSTER_TYPE_URL }));
  const s = await raw.status;
  assert.equal(s.code, status.INVALID_ARGUMENT);
  assert.match(s.details, /node\.id/);
});
