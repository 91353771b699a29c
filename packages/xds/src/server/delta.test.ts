// Delta ADS over loopback: wire-level checks with a raw stream, and our delta client.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { CLUSTER_TYPE_URL, unpackAnyAs } from '@trellis/api';
import { ClusterSchema } from '@trellis/api/gen/envoy/config/cluster/v3/cluster_pb.js';
import {
  DeltaDiscoveryRequestSchema,
  type DeltaDiscoveryResponse,
} from '@trellis/api/gen/envoy/service/discovery/v3/discovery_pb.js';
import { staticGenerator } from './generators.js';
import { harness, ZTUNNEL_NODE } from '../test-support/harness.js';
import { rawDelta } from '../test-support/raw-stream.js';
import { cluster, Recorder, snapshot } from '../test-support/resources.js';
import { eventually } from '@trellis/core/test-support';
import type { Generator } from './types.js';
import type { ResourceSnapshot } from './generators.js';

const tagsOf = (res: DeltaDiscoveryResponse) =>
  res.resources.map((r) => `${r.name}=${unpackAnyAs(r.resource!, ClusterSchema).altStatName}`);

test('delta: initial wildcard fetch, then one changed resource sends one resource and a removal sends removed_resources', async (t) => {
  const h = await harness(t, { snapshot: snapshot({ clusters: { a: 'v1', b: 'v1', c: 'v1' } }) });
  const raw = rawDelta(h.grpc.address);
  t.after(() => raw.end());
  const ack = (res: DeltaDiscoveryResponse) =>
    raw.send(
      create(DeltaDiscoveryRequestSchema, { typeUrl: res.typeUrl, responseNonce: res.nonce }),
    );

  raw.send(
    create(DeltaDiscoveryRequestSchema, {
      node: { id: ZTUNNEL_NODE },
      typeUrl: CLUSTER_TYPE_URL,
      resourceNamesSubscribe: ['*'],
    }),
  );
  const initial = await raw.next();
  assert.deepEqual(tagsOf(initial), ['a=v1', 'b=v1', 'c=v1']);
  assert.equal(initial.systemVersionInfo, '1');
  assert.ok(
    initial.resources.every((r) => r.version.length > 0),
    'each resource has a version',
  );
  ack(initial);

  h.xds.update({ snapshot: snapshot({ clusters: { a: 'v2', b: 'v1', c: 'v1' } }) });
  const changed = await raw.next();
  assert.deepEqual(tagsOf(changed), ['a=v2']);
  assert.deepEqual(changed.removedResources, []);
  ack(changed);

  h.xds.update({ snapshot: snapshot({ clusters: { a: 'v2', c: 'v1' } }) });
  const removed = await raw.next();
  assert.deepEqual(removed.resources, []);
  assert.deepEqual(removed.removedResources, ['b']);
  ack(removed);

  const d = await eventually('the removal to be ACKed', () => {
    const x = h.typeDebug(ZTUNNEL_NODE, CLUSTER_TYPE_URL);
    return x?.ackedNonce === removed.nonce && x;
  });
  assert.equal(d.ackedVersion, '3');
  assert.equal(d.resources, 2);
  assert.equal(d.responses, 3);
});

test('delta client: named subscriptions on the fly; a name that does not exist is reported removed', async (t) => {
  const h = await harness(t, { snapshot: snapshot({ clusters: { a: 'v1', b: 'v1', c: 'v1' } }) });
  const clusters = new Recorder();
  const watch = h.delta().watch(CLUSTER_TYPE_URL, clusters, ['a']);
  await clusters.state({ a: 'v1' });

  watch.subscribe(['b', 'ghost']);
  const added = await clusters.state({ a: 'v1', b: 'v1' });
  assert.deepEqual([...added.updated.keys()], ['b']);
  assert.deepEqual(added.removed, ['ghost'], 'the server answers for a name it does not have');

  watch.unsubscribe(['a', 'ghost']);
  await eventually(
    'the subscription to be just b',
    () => h.typeDebug(ZTUNNEL_NODE, CLUSTER_TYPE_URL)?.subscribed.join() === 'b',
  );
  assert.deepEqual([...watch.resources().values()], ['b=v1']);

  const from = clusters.changes.length;
  h.xds.update({ snapshot: snapshot({ clusters: { a: 'v2', b: 'v2', c: 'v2' } }) });
  const next = await clusters.next((c) => c.updated.size > 0, from);
  assert.deepEqual([...next.updated.keys()], ['b'], 'nothing outside the subscription is sent');

  watch.subscribe(['*']);
  await clusters.state({ a: 'v2', b: 'v2', c: 'v2' });
});

test('delta NACK: counted, the rejected resource is not resent, the next change of another resource flows', async (t) => {
  const h = await harness(t, { snapshot: snapshot({ clusters: { a: 'v1', b: 'v1' } }) });
  const clusters = new Recorder();
  const watch = h.delta().watch(CLUSTER_TYPE_URL, clusters);
  await clusters.state({ a: 'v1', b: 'v1' });

  h.xds.update({ snapshot: snapshot({ clusters: { a: 'bad', b: 'v1' } }) });
  const nacked = await eventually('the NACK to be counted', () => {
    const d = h.typeDebug(ZTUNNEL_NODE, CLUSTER_TYPE_URL);
    return d?.nacks === 1 && d;
  });
  assert.match(nacked.lastError ?? '', /a: cluster a is marked bad/);
  assert.equal(await h.metric('pilot_total_xds_rejects{type="cds"}'), 1);
  assert.deepEqual([...watch.resources().values()].sort(), ['a=v1', 'b=v1']);

  h.xds.update({ snapshot: snapshot({ clusters: { a: 'bad', b: 'v2' } }) });
  const next = await clusters.state({ a: 'v1', b: 'v2' });
  assert.deepEqual([...next.updated.keys()], ['b'], 'only b: the rejected a is not sent again');
  const d = await eventually('version 3 to be ACKed', () => {
    const x = h.typeDebug(ZTUNNEL_NODE, CLUSTER_TYPE_URL);
    return x?.ackedVersion === '3' && x;
  });
  assert.equal(d.nacks, 1);
  assert.equal(d.responses, 3);
});

test('generators see the proxy: resources scoped per node id and metadata', async (t) => {
  const perNode: Generator<ResourceSnapshot> = (_type, _snapshot, proxy) =>
    new Map([
      [
        `for-${proxy.istio?.ip ?? proxy.id}`,
        { resource: cluster(`for-${proxy.istio?.ip ?? proxy.id}`) },
      ],
      [`meta-${String(proxy.metadata.CLUSTER_ID ?? 'none')}`, { resource: cluster('m') }],
    ]);
  const h = await harness(t, {
    snapshot: snapshot({}),
    generators: { [CLUSTER_TYPE_URL]: perNode },
  });
  const one = new Recorder();
  const two = new Recorder();
  h.delta(ZTUNNEL_NODE).watch(CLUSTER_TYPE_URL, one);
  h.delta({
    id: 'ztunnel~10.0.0.6~ztunnel-b.istio-system~istio-system.svc.cluster.local',
    metadata: { CLUSTER_ID: 'Kubernetes' },
  }).watch(CLUSTER_TYPE_URL, two);
  const a = await one.next();
  const b = await two.next();
  assert.deepEqual([...a.resources.keys()].sort(), ['for-10.0.0.5', 'meta-none']);
  assert.deepEqual([...b.resources.keys()].sort(), ['for-10.0.0.6', 'meta-Kubernetes']);
  assert.equal(h.xds.connections, 2);
});

test('a server without a snapshot accepts streams and serves after the first update', async (t) => {
  const h = await harness(t, { snapshot: undefined });
  const clusters = new Recorder();
  const client = h.delta();
  client.watch(CLUSTER_TYPE_URL, clusters);
  await eventually(
    'the subscription to be pending',
    () => h.typeDebug(ZTUNNEL_NODE, CLUSTER_TYPE_URL)?.pending === true,
  );
  assert.equal(clusters.changes.length, 0);
  assert.equal(h.xds.version, '0');
  h.xds.update({ snapshot: snapshot({ clusters: { a: 'v1' } }) });
  await clusters.state({ a: 'v1' });
  assert.equal(client.state, 'connected');
});

test('staticGenerator serves the same map to everyone', async (t) => {
  const h = await harness(t, {
    snapshot: snapshot({}),
    generators: { [CLUSTER_TYPE_URL]: staticGenerator(new Map([['s', cluster('s', 'fixed')]])) },
  });
  const clusters = new Recorder();
  h.delta().watch(CLUSTER_TYPE_URL, clusters);
  await clusters.state({ s: 'fixed' });
});
