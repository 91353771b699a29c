// Every generated resource decodes back with @bufbuild/protobuf (nested Anys included), and the
// proxyless set passes @grpc/grpc-js-xds's own resource validators, the ones a gRPC client runs
// before it ACKs. The waypoint's Envoy-only features are rejected by those same validators, which
// shows they are strict (and why the proxyless translation avoids them).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  equals,
  fromBinary,
  isMessage,
  type DescMessage,
  type Message,
  type MessageShape,
} from '@bufbuild/protobuf';
import type { Any } from '@bufbuild/protobuf/wkt';
import { packAny, unpackAny } from '@trellis/api';
import { ClusterSchema } from '@trellis/api/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '@trellis/api/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { ListenerSchema } from '@trellis/api/gen/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema } from '@trellis/api/gen/envoy/config/route/v3/route_pb.js';
import { ClusterResourceType } from '@grpc/grpc-js-xds/build/src/xds-resource-type/cluster-resource-type.js';
import { EndpointResourceType } from '@grpc/grpc-js-xds/build/src/xds-resource-type/endpoint-resource-type.js';
import { ListenerResourceType } from '@grpc/grpc-js-xds/build/src/xds-resource-type/listener-resource-type.js';
import { RouteConfigurationResourceType } from '@grpc/grpc-js-xds/build/src/xds-resource-type/route-config-resource-type.js';
import type {
  XdsDecodeContext,
  XdsResourceType,
} from '@grpc/grpc-js-xds/build/src/xds-resource-type/xds-resource-type.js';
import { setup as setupRouterFilter } from '@grpc/grpc-js-xds/build/src/http-filter/router-filter.js';
import { deriveMeshState } from '../../collections/mesh-state.js';
import { parseManifests, snapshotFromObjects } from '../../ingest/manifests.js';
import { proxylessResources } from './proxyless.js';
import type { EnvoyResources } from './resources.js';
import { withRoutes } from './state.js';
import { waypointResources } from './waypoint.js';

const TESTDATA = fileURLToPath(new URL('../../../testdata/envoy/', import.meta.url));
const cases = readdirSync(TESTDATA)
  .filter((n) => n.endsWith('.in.yaml'))
  .sort();

function load(file: string): { proxyless: boolean; resources: EnvoyResources } {
  const text = readFileSync(join(TESTDATA, file), 'utf8');
  const waypointKey = /^# proxy: waypoint (\S+)$/m.exec(text)?.[1];
  const { snapshot } = snapshotFromObjects(parseManifests(text, file).objects);
  const state = withRoutes(deriveMeshState(snapshot), snapshot);
  if (!waypointKey) return { proxyless: true, resources: proxylessResources(state) };
  return {
    proxyless: false,
    resources: waypointResources(state, state.waypoints.get(waypointKey)!),
  };
}

/** Packs, encodes, decodes, and unpacks every nested Any with the API registry. */
function roundTrip<Desc extends DescMessage>(
  schema: Desc,
  name: string,
  m: MessageShape<Desc>,
): void {
  const any = packAny(schema, m);
  const back = fromBinary(schema, any.value);
  assert.ok(equals(schema, back, m), `${name} does not survive encoding`);
  let nested = 0;
  visitAnys(back, (a) => {
    nested++;
    assert.doesNotThrow(() => unpackAny(a), `${name}: nested ${a.typeUrl} does not unpack`);
  });
  if (schema.typeName === ListenerSchema.typeName)
    assert.ok(nested > 0, `${name} has no typed filter configs`);
}

function visitAnys(value: unknown, fn: (a: Any) => void): void {
  if (Array.isArray(value)) value.forEach((v) => visitAnys(v, fn));
  else if (isMessage(value)) {
    if ((value as Message).$typeName === 'google.protobuf.Any') {
      const any = value as Any;
      fn(any);
      visitAnys(unpackAny(any), fn);
      return;
    }
    for (const v of Object.values(value)) visitAnys(v, fn);
  } else if (value && typeof value === 'object')
    for (const v of Object.values(value)) visitAnys(v, fn);
}

for (const file of cases) {
  test(`every resource of ${file} decodes back`, () => {
    const { resources: r } = load(file);
    for (const [n, m] of r.listeners) roundTrip(ListenerSchema, n, m);
    for (const [n, m] of r.routes) roundTrip(RouteConfigurationSchema, n, m);
    for (const [n, m] of r.clusters) roundTrip(ClusterSchema, n, m);
    for (const [n, m] of r.endpoints) roundTrip(ClusterLoadAssignmentSchema, n, m);
  });
}

// grpc-js-xds validates listeners against its HTTP filter registry; the router is what we use.
setupRouterFilter();
const context = {
  server: {},
  bootstrap: { certificateProviders: {} },
} as unknown as XdsDecodeContext;

function grpcDecode<Desc extends DescMessage>(
  type: XdsResourceType,
  schema: Desc,
  m: MessageShape<Desc>,
): { name: string; error?: string } {
  const any = packAny(schema, m);
  return type.decode(context, { type_url: any.typeUrl, value: Buffer.from(any.value) });
}

function assertGrpcAccepts(r: EnvoyResources): number {
  let checked = 0;
  const check = <Desc extends DescMessage>(
    type: XdsResourceType,
    schema: Desc,
    all: ReadonlyMap<string, MessageShape<Desc>>,
  ) => {
    for (const [name, m] of all) {
      const result = grpcDecode(type, schema, m);
      assert.equal(result.error, undefined, `grpc-js-xds rejects ${name}: ${result.error}`);
      assert.equal(result.name, name);
      checked++;
    }
  };
  check(ListenerResourceType.get(), ListenerSchema, r.listeners);
  check(RouteConfigurationResourceType.get(), RouteConfigurationSchema, r.routes);
  check(ClusterResourceType.get(), ClusterSchema, r.clusters);
  check(EndpointResourceType.get(), ClusterLoadAssignmentSchema, r.endpoints);
  return checked;
}

for (const file of cases) {
  const { proxyless } = load(file);
  if (!proxyless) continue;
  test(`grpc-js-xds accepts the proxyless resources of ${file}`, () => {
    const { resources } = load(file);
    assert.ok(assertGrpcAccepts(resources) >= 4);
  });
}

test('grpc-js-xds rejects what only Envoy understands (the validators are strict)', () => {
  const { resources } = load('waypoint-httproute.in.yaml');
  const routes = resources.routes.get('reviews.bookinfo.svc.cluster.local:9080')!;
  const result = grpcDecode(RouteConfigurationResourceType.get(), RouteConfigurationSchema, routes);
  assert.match(result.error ?? '', /unsupported path_specifier: path_separated_prefix/);
  assert.match(result.error ?? '', /unsupported action: redirect/);
});
