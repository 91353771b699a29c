// Make-before-break (XdsServerOptions.removalsAfter): a cluster gone from the snapshot reaches the
// client only after the routes moved off it were ACKed, on raw ADS streams so that every ACK is
// sent when the test says. Without the rule the removal would ride in the same push as the route
// change, and a proxy applying it first (Envoy, grpc-go) would fail the requests still routed to it.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { create } from '@bufbuild/protobuf';
import {
  CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
  CLUSTER_TYPE_URL,
  LISTENER_TYPE_URL,
  ROUTE_CONFIGURATION_TYPE_URL,
} from '@trellis/api';
import {
  DeltaDiscoveryRequestSchema,
  DiscoveryRequestSchema,
  type DeltaDiscoveryResponse,
  type DiscoveryResponse,
} from '@trellis/api/gen/envoy/service/discovery/v3/discovery_pb.js';
import { eventually } from '@trellis/core/test-support';
import { resourceSnapshotGenerator } from './generators.js';
import { ENVOY_REMOVAL_ORDER } from './server.js';
import { harness } from '../test-support/harness.js';
import { rawDelta, rawSotw, type RawStream } from '../test-support/raw-stream.js';
import { snapshot } from '../test-support/resources.js';

const WAYPOINT = 'router~10.0.0.9~waypoint-0.prod~prod.svc.cluster.local';
const SHORT: Record<string, string> = {
  [CLUSTER_TYPE_URL]: 'cds',
  [LISTENER_TYPE_URL]: 'lds',
  [ROUTE_CONFIGURATION_TYPE_URL]: 'rds',
  [CLUSTER_LOAD_ASSIGNMENT_TYPE_URL]: 'eds',
};
/** Route r sends to cluster a; the next snapshot moves it to b and a goes. */
const BEFORE = { clusters: { a: 'v1' }, listeners: { l: 'v1' }, routes: { r: 'to-a' } };
const AFTER = { clusters: { b: 'v1' }, listeners: { l: 'v1' }, routes: { r: 'to-b' } };

async function envoyHarness(t: TestContext, spec: Parameters<typeof snapshot>[0]) {
  return harness(t, {
    snapshot: snapshot(spec),
    generators: {
      [CLUSTER_TYPE_URL]: resourceSnapshotGenerator,
      [LISTENER_TYPE_URL]: resourceSnapshotGenerator,
      [ROUTE_CONFIGURATION_TYPE_URL]: resourceSnapshotGenerator,
      [CLUSTER_LOAD_ASSIGNMENT_TYPE_URL]: resourceSnapshotGenerator,
    },
    removalsAfter: ENVOY_REMOVAL_ORDER,
  });
}

/** "cds b" / "rds r": each SotW response's type and resource names (Any values decoded by name). */
function sotwText(r: DiscoveryResponse): string {
  const names = r.resources.map((a) => nameOf(a.value)).sort();
  return `${SHORT[r.typeUrl]} ${names.join(',')}`.trim();
}

/** The resource's name: the first length-delimited field (1) of Cluster, Listener, RouteConfiguration, CLA. */
function nameOf(bytes: Uint8Array): string {
  assert.equal(bytes[0], 0x0a, 'field 1, length-delimited');
  return Buffer.from(bytes.subarray(2, 2 + bytes[1]!)).toString();
}

function deltaText(r: DeltaDiscoveryResponse): string {
  const names = r.resources.map((x) => x.name).sort();
  const removed = [...r.removedResources].sort().map((n) => `-${n}`);
  return [SHORT[r.typeUrl], ...names, ...removed].join(' ');
}

/** Resolves with the next response unless none comes within `ms` (then undefined). */
async function nextWithin<T>(raw: RawStream<unknown, T>, ms: number): Promise<T | undefined> {
  const before = raw.received.length;
  await new Promise((r) => setTimeout(r, ms));
  return raw.received.length > before ? raw.next() : undefined;
}

function sotwRequest(typeUrl: string, names: string[], ack?: DiscoveryResponse, error?: string) {
  return create(DiscoveryRequestSchema, {
    node: { id: WAYPOINT },
    typeUrl,
    resourceNames: names,
    versionInfo: ack && !error ? ack.versionInfo : '',
    responseNonce: ack?.nonce ?? '',
    ...(error ? { errorDetail: { code: 3, message: error } } : {}),
  });
}

test('SotW: a cluster the routes moved off stays in CDS until the route update is ACKed, then goes', async (t) => {
  const h = await envoyHarness(t, BEFORE);
  const raw = rawSotw(h.grpc.address) as RawStream<unknown, DiscoveryResponse>;
  t.after(() => raw.end());
  const subscribe = async (typeUrl: string, names: string[] = []) => {
    raw.send(sotwRequest(typeUrl, names));
    const r = await raw.next();
    raw.send(sotwRequest(typeUrl, names, r));
    return sotwText(r);
  };
  assert.equal(await subscribe(CLUSTER_TYPE_URL), 'cds a');
  assert.equal(await subscribe(LISTENER_TYPE_URL), 'lds l');
  assert.equal(await subscribe(ROUTE_CONFIGURATION_TYPE_URL, ['r']), 'rds r');
  await eventually('every type ACKed', () =>
    [CLUSTER_TYPE_URL, LISTENER_TYPE_URL, ROUTE_CONFIGURATION_TYPE_URL].every(
      (u) => h.typeDebug(WAYPOINT, u)?.ackedVersion === '1',
    ),
  );

  h.xds.update({ snapshot: snapshot(AFTER) });
  const cds = await raw.next();
  assert.equal(sotwText(cds), 'cds a,b', 'b added, a kept while r still sends to it');
  const rds = await raw.next();
  assert.equal(sotwText(rds), 'rds r');
  assert.deepEqual(h.typeDebug(WAYPOINT, CLUSTER_TYPE_URL)?.retained, ['a']);

  raw.send(sotwRequest(CLUSTER_TYPE_URL, [], cds));
  assert.equal(await nextWithin(raw, 300), undefined, 'no removal while the routes are not ACKed');
  raw.send(sotwRequest(ROUTE_CONFIGURATION_TYPE_URL, ['r'], rds));
  const removal = await raw.next();
  assert.equal(sotwText(removal), 'cds b', 'the routes ACKed: a goes');
  assert.equal(removal.versionInfo, '2');
  raw.send(sotwRequest(CLUSTER_TYPE_URL, [], removal));
  await eventually(
    'nothing retained',
    () => h.typeDebug(WAYPOINT, CLUSTER_TYPE_URL)?.retained.length === 0,
  );

  // A removal no route change comes with (the routes the client holds are current) goes at once.
  h.xds.update({ snapshot: snapshot({ ...AFTER, clusters: {} }), types: [CLUSTER_TYPE_URL] });
  assert.equal(sotwText(await raw.next()), 'cds');
});

test('SotW: a NACKed route update keeps the cluster the client still routes to, until a route update is ACKed', async (t) => {
  const h = await envoyHarness(t, BEFORE);
  const raw = rawSotw(h.grpc.address) as RawStream<unknown, DiscoveryResponse>;
  t.after(() => raw.end());
  for (const [typeUrl, names] of [
    [CLUSTER_TYPE_URL, []],
    [ROUTE_CONFIGURATION_TYPE_URL, ['r']],
  ] as const) {
    raw.send(sotwRequest(typeUrl, [...names]));
    raw.send(sotwRequest(typeUrl, [...names], await raw.next()));
  }
  await eventually(
    'the routes ACKed',
    () => h.typeDebug(WAYPOINT, ROUTE_CONFIGURATION_TYPE_URL)?.ackedVersion === '1',
  );

  h.xds.update({ snapshot: snapshot(AFTER) });
  const cds = await raw.next();
  const rds = await raw.next();
  assert.deepEqual([sotwText(cds), sotwText(rds)], ['cds a,b', 'rds r']);
  raw.send(sotwRequest(CLUSTER_TYPE_URL, [], cds));
  raw.send(sotwRequest(ROUTE_CONFIGURATION_TYPE_URL, ['r'], rds, 'route r is bad'));
  await eventually(
    'the NACK',
    () => h.typeDebug(WAYPOINT, ROUTE_CONFIGURATION_TYPE_URL)?.nacks === 1,
  );
  assert.equal(await nextWithin(raw, 300), undefined, 'the client kept the route to a: a stays');
  assert.deepEqual(h.typeDebug(WAYPOINT, CLUSTER_TYPE_URL)?.retained, ['a']);

  h.xds.update({ snapshot: snapshot({ ...AFTER, routes: { r: 'to-b-fixed' } }) });
  const fixed = await raw.next();
  assert.equal(sotwText(fixed), 'rds r');
  raw.send(sotwRequest(ROUTE_CONFIGURATION_TYPE_URL, ['r'], fixed));
  assert.equal(sotwText(await raw.next()), 'cds b');
});

test('delta: the removal of a cluster waits for the routes ACK, and its endpoints removal for the cluster removal ACK', async (t) => {
  const h = await envoyHarness(t, { ...BEFORE, endpoints: { a: 'v1' } });
  const raw = rawDelta(h.grpc.address) as RawStream<unknown, DeltaDiscoveryResponse>;
  t.after(() => raw.end());
  let first = true;
  const request = (typeUrl: string, subscribe: string[], ack?: DeltaDiscoveryResponse) =>
    create(DeltaDiscoveryRequestSchema, {
      ...(first ? { node: { id: WAYPOINT } } : {}),
      typeUrl,
      resourceNamesSubscribe: subscribe,
      responseNonce: ack?.nonce ?? '',
    });
  const subscribe = async (typeUrl: string, names: string[]) => {
    raw.send(request(typeUrl, names));
    first = false;
    const r = await raw.next();
    raw.send(request(typeUrl, [], r));
    return deltaText(r);
  };
  assert.equal(await subscribe(CLUSTER_TYPE_URL, ['*']), 'cds a');
  assert.equal(await subscribe(ROUTE_CONFIGURATION_TYPE_URL, ['r']), 'rds r');
  assert.equal(await subscribe(CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, ['a']), 'eds a');
  await eventually('every type ACKed', () =>
    [CLUSTER_TYPE_URL, ROUTE_CONFIGURATION_TYPE_URL, CLUSTER_LOAD_ASSIGNMENT_TYPE_URL].every(
      (u) => h.typeDebug(WAYPOINT, u)?.ackedVersion === '1',
    ),
  );

  h.xds.update({ snapshot: snapshot({ ...AFTER, endpoints: { b: 'v1' } }) });
  const cds = await raw.next();
  const rds = await raw.next();
  assert.deepEqual(
    [deltaText(cds), deltaText(rds)],
    ['cds b', 'rds r'],
    'b added, no removal of a yet; the endpoints of a are not removed either',
  );
  assert.deepEqual(h.typeDebug(WAYPOINT, CLUSTER_TYPE_URL)?.retained, ['a']);
  assert.deepEqual(h.typeDebug(WAYPOINT, CLUSTER_LOAD_ASSIGNMENT_TYPE_URL)?.retained, ['a']);

  raw.send(request(CLUSTER_TYPE_URL, [], cds));
  assert.equal(await nextWithin(raw, 300), undefined, 'no removal while the routes are not ACKed');
  raw.send(request(ROUTE_CONFIGURATION_TYPE_URL, [], rds));
  const removal = await raw.next();
  assert.equal(deltaText(removal), 'cds -a');
  assert.equal(
    await nextWithin(raw, 300),
    undefined,
    'the endpoints of a stay until the cluster removal is ACKed',
  );
  raw.send(request(CLUSTER_TYPE_URL, [], removal));
  assert.equal(deltaText(await raw.next()), 'eds -a');
});
