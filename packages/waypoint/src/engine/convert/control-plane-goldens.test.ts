// The waypoint consumes what the control plane serves: every Envoy golden of the translator
// (packages/control-plane/testdata/envoy) decodes through the waypoint's converters without a
// NACK, and the waypoint-side models say what the goldens say.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { fromJson, type DescMessage, type JsonValue } from '@bufbuild/protobuf';
import { apiRegistry } from '@trellis/api';
import { ClusterSchema } from '@trellis/api/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '@trellis/api/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { ListenerSchema } from '@trellis/api/gen/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema } from '@trellis/api/gen/envoy/config/route/v3/route_pb.js';
import { parse } from 'yaml';
import { convertCluster, convertEndpoints } from './cluster.js';
import { convertListener } from './listener.js';
import { convertRouteConfiguration } from './route-config.js';
import { matchRoute } from '../router/select.js';
import type { Converted } from './common.js';

const DIR = fileURLToPath(new URL('../../../../control-plane/testdata/envoy/', import.meta.url));

function each<T>(
  file: string,
  schema: DescMessage,
  convert: (m: never) => Converted<T>,
): Map<string, T> {
  const out = new Map<string, T>();
  let text: string;
  try {
    text = readFileSync(`${DIR}${file}`, 'utf8');
  } catch {
    return out;
  }
  const doc = (parse(text) ?? {}) as Record<string, JsonValue>;
  for (const [name, json] of Object.entries(doc)) {
    const msg = fromJson(schema, json, { registry: apiRegistry });
    const c = convert(msg as never);
    assert.ok(c.ok, `${file} ${name}: ${c.ok ? '' : c.reason}`);
    out.set(name, c.value);
  }
  return out;
}

const cases = readdirSync(DIR)
  .filter((f) => f.startsWith('waypoint') && f.endsWith('.in.yaml'))
  .map((f) => f.slice(0, -'.in.yaml'.length));

test('the control plane has waypoint goldens to check', () => {
  assert.ok(cases.length >= 4, `found ${cases.length} in ${DIR}`);
});

for (const name of cases) {
  test(`the waypoint accepts the control plane's ${name} resources`, () => {
    const listeners = each(`${name}.listeners.golden.yaml`, ListenerSchema, convertListener);
    const routes = each(
      `${name}.routes.golden.yaml`,
      RouteConfigurationSchema,
      convertRouteConfiguration,
    );
    const clusters = each(`${name}.clusters.golden.yaml`, ClusterSchema, convertCluster);
    const endpoints = each(
      `${name}.endpoints.golden.yaml`,
      ClusterLoadAssignmentSchema,
      convertEndpoints,
    );
    for (const l of listeners.values()) {
      for (const c of l.chains) {
        if (c.terminal.kind === 'http') {
          const rds = c.terminal.http.routeConfigName!;
          assert.ok(routes.has(rds), `chain ${c.name} refers to ${rds}`);
          assert.equal(
            c.terminal.http.normalizePath,
            true,
            'paths are normalised before routing and policy',
          );
        } else {
          for (const t of c.terminal.tcp.targets)
            assert.ok(clusters.has(t.cluster), `${c.name} -> ${t.cluster}`);
        }
      }
    }
    for (const [n, c] of clusters) {
      if (c.originalDst) {
        // Workload-addressed traffic: every HBONE destination names the identity it must present.
        for (const h of c.originalDst.hosts?.values() ?? [])
          if (h.hbone) assert.match(h.identity!, /^spiffe:\/\//);
        continue;
      }
      assert.equal(c.edsName, n);
      assert.ok(endpoints.has(n), `endpoints of ${n}`);
    }
    for (const e of endpoints.values())
      for (const ep of e.endpoints) if (ep.hbone) assert.match(ep.identity!, /^spiffe:\/\//);
  });
}

test('traffic policies arrive as the waypoint models them (waypoint-traffic)', () => {
  const clusters = each('waypoint-traffic.clusters.golden.yaml', ClusterSchema, convertCluster);
  const cart = clusters.get('outbound|8080||cart.shop.svc.cluster.local')!;
  assert.equal(cart.lbPolicy, 'least-request');
  assert.deepEqual(cart.limits, {
    maxConnections: 10,
    maxPendingRequests: 5,
    maxRequests: 50,
    maxRetries: 2,
  });
  assert.equal(cart.outlier?.consecutive5xx, 3);
  assert.equal(cart.outlier?.enforcingConsecutiveGatewayFailure, 1);
  assert.equal(cart.outlier?.baseEjectionMs, 15_000);
  assert.equal(cart.panicThreshold, 0.3);
  assert.equal(
    clusters.get('outbound|8080||catalog.shop.svc.cluster.local')!.lbPolicy,
    'ring-hash',
  );
  const routes = each(
    'waypoint-traffic.routes.golden.yaml',
    RouteConfigurationSchema,
    convertRouteConfiguration,
  );
  const chaos = routes.get('cart.shop.svc.cluster.local:8080')!.virtualHosts[0]!.routes[0]!;
  assert.equal(chaos.perFilter.fault?.delay?.ms, 1500);
  assert.equal(
    chaos.perFilter.fault?.abort && 'httpStatus' in chaos.perFilter.fault.abort
      ? chaos.perFilter.fault.abort.httpStatus
      : 0,
    503,
  );
  const consumer = routes.get('catalog.shop.svc.cluster.local:8080')!.virtualHosts[0]!.routes[0]!;
  assert.equal(
    consumer.match.metadata.length,
    1,
    'a consumer route matches on the source namespace',
  );
  const md = (ns: string) => new Map([['istio_authn', { 'source.namespace': ns }]]);
  assert.equal(consumer.match.metadata[0]!(md('web')), true);
  assert.equal(consumer.match.metadata[0]!(md('shop')), false);
  // The whole table: callers from web get their consumer route, every other caller the default.
  const vh = routes.get('catalog.shop.svc.cluster.local:8080')!.virtualHosts[0]!;
  const routed = (ns: string) =>
    matchRoute(vh, {
      method: 'GET',
      path: '/items',
      authority: 'catalog.shop.svc.cluster.local:8080',
      scheme: 'http',
      headers: [],
      metadata: md(ns),
    })?.name;
  assert.equal(routed('web'), 'web.web-sees-catalog-v2.0.0');
  assert.equal(routed('shop'), 'default');
});
