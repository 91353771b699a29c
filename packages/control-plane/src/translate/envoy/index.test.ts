// generateEnvoy as the xDS server calls it: which proxy gets which set, and per-state caching.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CLUSTER_TYPE_URL,
  LISTENER_TYPE_URL,
  ADDRESS_TYPE_URL,
  SECRET_TYPE_URL,
} from '@trellis/api';
import type { GenerateContext } from '@trellis/xds';
import { deriveMeshState } from '../../collections/mesh-state.js';
import { parseSnapshot } from '../../ingest/manifests.js';
import { ENVOY_TYPE_URLS, envoyProxyRole, generateEnvoy, withRoutes } from './index.js';
import { testProxy } from '../../test-support/proxy.js';

const YAML = `
apiVersion: v1
kind: Namespace
metadata: { name: shop, labels: { istio.io/use-waypoint: waypoint } }
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: waypoint, namespace: shop }
spec:
  gatewayClassName: trellis-waypoint
  listeners: [{ name: mesh, port: 15008, protocol: HBONE }]
---
apiVersion: v1
kind: Pod
metadata: { name: waypoint-0, namespace: shop, labels: { gateway.networking.k8s.io/gateway-name: waypoint } }
spec: { containers: [{ name: c, image: w }] }
status: { phase: Running, podIP: 10.0.0.9, conditions: [{ type: Ready, status: "True" }] }
---
apiVersion: v1
kind: Service
metadata: { name: cart, namespace: shop }
spec:
  clusterIP: 10.96.0.5
  ports: [{ name: http, port: 80 }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: edge, namespace: shop }
spec:
  gatewayClassName: trellis
  listeners:
    - name: https
      port: 443
      protocol: HTTPS
      tls: { certificateRefs: [{ name: edge-cert }] }
---
apiVersion: v1
kind: Secret
metadata: { name: edge-cert, namespace: shop }
type: kubernetes.io/tls
stringData:
  tls.crt: "-----BEGIN CERTIFICATE-----\\nZWRnZQ==\\n-----END CERTIFICATE-----\\n"
  tls.key: "-----BEGIN PRIVATE KEY-----\\nZWRnZQ==\\n-----END PRIVATE KEY-----\\n"
`;

function state() {
  const { snapshot, problems } = parseSnapshot(YAML);
  assert.deepEqual(problems, []);
  return withRoutes(deriveMeshState(snapshot), snapshot);
}

const proxy = testProxy;

const ctx: GenerateContext = {
  subscription: undefined as never,
  protocol: 'sotw',
  snapshotVersion: '1',
};
const WAYPOINT_NODE = 'waypoint~10.0.0.9~waypoint-0.shop~shop.svc.cluster.local';

test('serves the four Envoy types and SDS', () => {
  assert.equal(ENVOY_TYPE_URLS.length, 5);
  assert.ok(ENVOY_TYPE_URLS.includes(LISTENER_TYPE_URL));
  assert.ok(ENVOY_TYPE_URLS.includes(SECRET_TYPE_URL));
});

test('a router node of an ingress Gateway gets its gateway set, others no Secret', () => {
  const s = state();
  const labels = (name: string) => ({ LABELS: { 'gateway.networking.k8s.io/gateway-name': name } });
  const router = proxy(
    'router~10.0.0.8~edge-trellis-0.shop~shop.svc.cluster.local',
    labels('edge'),
  );
  assert.deepEqual(envoyProxyRole(s, router), { kind: 'gateway', gateway: 'shop/edge' });
  assert.deepEqual([...generateEnvoy(LISTENER_TYPE_URL, s, router, ctx).keys()], ['0.0.0.0_443']);
  assert.deepEqual(
    [...generateEnvoy(SECRET_TYPE_URL, s, router, ctx).keys()],
    ['kubernetes://shop/edge-cert'],
  );
  // A router claiming a waypoint (or no Gateway of ours) gets nothing.
  const wrong = proxy('router~10.0.0.8~x-0.shop~shop.svc.cluster.local', labels('waypoint'));
  assert.equal(envoyProxyRole(s, wrong).kind, 'unknown-waypoint');
  assert.equal(generateEnvoy(LISTENER_TYPE_URL, s, wrong, ctx).size, 0);
  for (const id of [WAYPOINT_NODE, 'my-grpc-client'])
    assert.equal(generateEnvoy(SECRET_TYPE_URL, s, proxy(id), ctx).size, 0, id);
});

test('any non-waypoint client gets the proxyless set', () => {
  const s = state();
  for (const id of ['sidecar~10.0.0.1~app-0.shop~shop.svc.cluster.local', 'my-grpc-client']) {
    const listeners = generateEnvoy(LISTENER_TYPE_URL, s, proxy(id), ctx);
    assert.ok(listeners.has('cart.shop.svc.cluster.local:80'), id);
    assert.ok(listeners.has('cart.shop:80'));
  }
});

test('a waypoint is found by its node metadata LABELS, or else by its pod', () => {
  const s = state();
  const byLabels = envoyProxyRole(
    s,
    proxy('waypoint~10.0.0.7~other-pod.shop~shop.svc.cluster.local', {
      LABELS: { 'gateway.networking.k8s.io/gateway-name': 'waypoint' },
    }),
  );
  assert.equal(byLabels.kind === 'waypoint' && byLabels.waypoint.key, 'shop/waypoint');
  const byPod = envoyProxyRole(s, proxy(WAYPOINT_NODE));
  assert.equal(byPod.kind === 'waypoint' && byPod.waypoint.key, 'shop/waypoint');
  const listeners = generateEnvoy(LISTENER_TYPE_URL, s, proxy(WAYPOINT_NODE), ctx);
  assert.deepEqual([...listeners.keys()], ['waypoint_inbound']);
  assert.deepEqual(
    [...generateEnvoy(CLUSTER_TYPE_URL, s, proxy(WAYPOINT_NODE), ctx).keys()],
    ['outbound|80||cart.shop.svc.cluster.local'],
  );
});

test('an unidentifiable waypoint gets nothing rather than the wrong configuration', () => {
  const s = state();
  const unknown = proxy('waypoint~10.0.0.8~stray-0.shop~shop.svc.cluster.local');
  const role = envoyProxyRole(s, unknown);
  assert.equal(role.kind, 'unknown-waypoint');
  assert.match(role.kind === 'unknown-waypoint' ? role.reason : '', /gateway-name/);
  assert.equal(generateEnvoy(LISTENER_TYPE_URL, s, unknown, ctx).size, 0);
  const notAWaypoint = proxy('waypoint~10.0.0.8~x.shop~shop.svc.cluster.local', {
    LABELS: { 'gateway.networking.k8s.io/gateway-name': 'ingress' },
  });
  assert.equal(generateEnvoy(LISTENER_TYPE_URL, s, notAWaypoint, ctx).size, 0);
});

test('results are computed once per state object and per resource set', () => {
  const s = state();
  const p = proxy('sidecar~10.0.0.1~app-0.shop~shop.svc.cluster.local');
  const first = generateEnvoy(CLUSTER_TYPE_URL, s, p, ctx);
  assert.equal(generateEnvoy(CLUSTER_TYPE_URL, s, proxy('other-client'), ctx), first);
  const again = generateEnvoy(CLUSTER_TYPE_URL, state(), p, ctx);
  assert.deepEqual(
    [...again].map(([n, r]) => [n, r.version]),
    [...first].map(([n, r]) => [n, r.version]),
    'an equal new state is translated again to the same resources and versions',
  );
  assert.equal(generateEnvoy(ADDRESS_TYPE_URL, s, p, ctx).size, 0, 'other types are not ours');
});
