import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  backendNamespaceObjects,
  conformanceWaypoint,
  NAMESPACE_LABELS,
  planRun,
  suiteArgs,
} from './plan.pure.js';

const MESH = ['Mesh', 'HTTPRoute', 'GRPCRoute', 'MeshConsumerRoute'];
const accepted = (features?: string[]) => ({
  metadata: { name: 'trellis' },
  status: {
    conditions: [{ type: 'Accepted', status: 'True' }],
    ...(features ? { supportedFeatures: features.map((name) => ({ name })) } : {}),
  },
});

test('without the ingress GatewayClass, the gateway profiles are not run and say why', () => {
  const plan = planRun(['GATEWAY-HTTP', 'MESH-HTTP'], 'trellis', undefined, MESH);
  assert.deepEqual(plan.profiles, ['MESH-HTTP']);
  assert.deepEqual(plan.notRunnable, [
    {
      profile: 'GATEWAY-HTTP',
      reason: 'GatewayClass trellis not found (the ingress gateway is not installed)',
    },
  ]);
  assert.deepEqual(plan.supportedFeatures, [...MESH].sort());
});

test('a GatewayClass that is not Accepted keeps the gateway profiles out, with its message', () => {
  const gwc = {
    status: { conditions: [{ type: 'Accepted', status: 'False', message: 'bad params' }] },
  };
  const plan = planRun(['GATEWAY-TLS'], 'trellis', gwc, MESH);
  assert.deepEqual(plan.profiles, []);
  assert.match(plan.notRunnable[0]!.reason, /GatewayClass trellis is not Accepted: bad params/);
  assert.match(
    planRun(['GATEWAY-TLS'], 'x', { status: {} }, MESH).notRunnable[0]!.reason,
    /no status: is its controller running/,
  );
});

test('features: the GatewayClass status for gateway profiles, the mesh list for mesh profiles', () => {
  const gwc = accepted(['Gateway', 'HTTPRoute', 'ReferenceGrant']);
  const both = planRun(['GATEWAY-HTTP', 'MESH-GRPC'], 'trellis', gwc, MESH);
  assert.deepEqual(both.profiles, ['GATEWAY-HTTP', 'MESH-GRPC']);
  assert.deepEqual(both.supportedFeatures, [
    'GRPCRoute',
    'Gateway',
    'HTTPRoute',
    'Mesh',
    'MeshConsumerRoute',
    'ReferenceGrant',
  ]);
  assert.equal(both.featureSources.length, 2);
  const gatewayOnly = planRun(['GATEWAY-HTTP'], 'trellis', gwc, MESH);
  assert.deepEqual(gatewayOnly.supportedFeatures, ['Gateway', 'HTTPRoute', 'ReferenceGrant']);
  assert.deepEqual(planRun(['GATEWAY-HTTP'], 'trellis', accepted(), MESH).supportedFeatures, []);
});

test('suite flags: profiles, features, the enrolling namespace labels, implementation, report', () => {
  const plan = planRun(['MESH-HTTP'], 'trellis', undefined, MESH);
  const args = suiteArgs({
    plan,
    gatewayClass: 'trellis',
    version: '0.1.0',
    reportFile: '/r.yaml',
    skipTests: ['A', 'B'],
    runTest: undefined,
    debug: false,
    timeouts: undefined,
  });
  assert.ok(args.includes('-conformance-profiles=MESH-HTTP'));
  assert.ok(args.includes('-supported-features=GRPCRoute,HTTPRoute,Mesh,MeshConsumerRoute'));
  assert.ok(
    args.includes(
      '-namespace-labels=istio.io/dataplane-mode=ambient,istio.io/use-waypoint=waypoint,istio.io/use-waypoint-namespace=trellis-conformance',
    ),
  );
  assert.ok(args.includes('-report-output=/r.yaml') && args.includes('-skip-tests=A,B'));
  assert.ok(args.includes('-version=0.1.0') && args.includes('-gateway-class=trellis'));
  assert.ok(!args.some((a) => a.startsWith('-run-test') || a === '-debug'));
  const one = suiteArgs({
    plan,
    gatewayClass: 'trellis',
    version: '0.1.0',
    reportFile: undefined,
    skipTests: [],
    runTest: 'MeshBasic',
    debug: true,
    timeouts: 'RequestTimeout=20s',
    addresses: { usable: '172.28.3.254', unusable: '172.28.3.192' },
  });
  assert.ok(one.includes('-run-test=MeshBasic') && one.includes('-debug'));
  assert.ok(one.includes('-usable-address=172.28.3.254'));
  assert.ok(one.includes('-unusable-address=172.28.3.192'));
  assert.ok(!args.some((a) => a.includes('usable-address')));
  assert.ok(one.includes('-timeout-config-overrides=RequestTimeout=20s'));
  assert.ok(!one.some((a) => a.startsWith('-report-output') || a.startsWith('-skip-tests')));
});

test('the shared waypoint admits routes and services of every namespace', () => {
  const [ns, gw] = conformanceWaypoint();
  assert.equal(ns.metadata.name, NAMESPACE_LABELS['istio.io/use-waypoint-namespace']);
  assert.equal(gw.metadata.name, NAMESPACE_LABELS['istio.io/use-waypoint']);
  assert.deepEqual(gw.spec.listeners, [
    {
      name: 'mesh',
      port: 15008,
      protocol: 'HBONE',
      allowedRoutes: { namespaces: { from: 'All' } },
    },
  ]);
  assert.equal(gw.spec.gatewayClassName, 'trellis-waypoint');
});

test("mesh-only runs: the backend namespaces' objects of the suite's base manifests, enrolled", () => {
  const base = [
    'apiVersion: v1\nkind: Namespace\nmetadata: {name: gateway-conformance-infra}',
    'apiVersion: v1\nkind: Service\nmetadata: {name: infra-backend-v1, namespace: gateway-conformance-infra}',
    'apiVersion: v1\nkind: Namespace\nmetadata: {name: gateway-conformance-app-backend, labels: {gateway-conformance: backend}}',
    'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app-backend-v1, namespace: gateway-conformance-app-backend}',
    'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: tls-backend, namespace: gateway-conformance-app-backend}\nspec: {template: {spec: {volumes: [{name: s, secret: {secretName: c}}]}}}',
    'apiVersion: v1\nkind: Namespace\nmetadata: {name: gateway-conformance-web-backend}',
    'apiVersion: v1\nkind: Service\nmetadata: {name: web-backend, namespace: gateway-conformance-web-backend}',
  ].join('\n---\n');
  const objects = backendNamespaceObjects(base);
  assert.deepEqual(
    objects.map((o) => `${o.kind}/${o.metadata.name}`),
    [
      'Namespace/gateway-conformance-app-backend',
      'Deployment/app-backend-v1',
      'Namespace/gateway-conformance-web-backend',
      'Service/web-backend',
    ],
  );
  assert.deepEqual(objects[0].metadata.labels, {
    'gateway-conformance': 'backend',
    ...NAMESPACE_LABELS,
  });
  assert.throws(
    () => backendNamespaceObjects(base.split('---')[0]!),
    /the base manifests lack the namespaces gateway-conformance-app-backend, gateway-conformance-web-backend/,
  );
});

test('--core-only declares only the core features of the profiles that run', () => {
  const gwc = accepted(['Gateway', 'HTTPRoute', 'ReferenceGrant', 'HTTPRouteQueryParamMatching']);
  const plan = planRun(['MESH-HTTP', 'GATEWAY-TLS'], 'trellis', gwc, MESH, true);
  assert.deepEqual(plan.supportedFeatures, ['Gateway', 'HTTPRoute', 'Mesh', 'ReferenceGrant']);
  assert.deepEqual(planRun(['MESH-GRPC'], 'trellis', undefined, MESH, true).supportedFeatures, [
    'GRPCRoute',
    'Mesh',
  ]);
});
