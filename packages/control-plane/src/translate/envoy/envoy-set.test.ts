// Incremental Envoy output equals a fresh build: after every random change (pods, services,
// slices, namespaces and their labels, nodes, policies, waypoint Gateways, HTTPRoutes and
// GRPCRoutes, reorders, equal copies) the sets brought forward from the previous state (proxyless,
// a namespace's proxyless set, every waypoint's) hold the same resources, bytes, versions and
// notes as sets built from nothing, and the Envoy types `update` reports changed are exactly those
// whose served resources differ. Plus the cost side: a pod change translates no Service again.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
  CLUSTER_TYPE_URL,
  LISTENER_TYPE_URL,
  ROUTE_CONFIGURATION_TYPE_URL,
} from '@trellis/api';
import type { GeneratedResources, Proxy } from '@trellis/xds';
import { createMeshStateDeriver } from '../../collections/incremental-mesh-state.js';
import { parseSnapshot } from '../../ingest/manifests.js';
import type { ClusterSnapshot } from '../../model/kube.js';
import { mutate, NAMESPACES, rng, startingSnapshot } from '../../test-support/random-cluster.js';
import { createEnvoyOutputs } from './envoy-outputs.js';
import { ENVOY_TYPES } from './envoy-types.js';
import { updateSet, type EnvoySet, type EnvoySetKind } from './envoy-set.js';
import { routeAttachments } from './route-attachment.js';
import { withRoutes, type EnvoyState } from './state.js';
import { workloadIndex, type WorkloadIndex } from './workload-index.js';
import { testProxy } from '../../test-support/proxy.js';

const wire = (r: GeneratedResources | undefined) =>
  [...(r ?? [])].map(([name, x]) => [
    name,
    x.version,
    Buffer.from(x.resource.value).toString('base64'),
  ]);

const proxy = testProxy;

const PROXIES = [
  proxy('plain-grpc-client'),
  ...NAMESPACES.map((ns) => proxy(`sidecar~10.0.0.1~app-0.${ns}~${ns}.svc.cluster.local`)),
  ...NAMESPACES.map((ns) =>
    proxy(`waypoint~10.0.0.2~wp-0.${ns}~${ns}.svc.cluster.local`, {
      LABELS: { 'gateway.networking.k8s.io/gateway-name': 'wp' },
    }),
  ),
];

const KINDS: EnvoySetKind[] = [
  { kind: 'proxyless' },
  ...NAMESPACES.map((ns) => ({ kind: 'proxyless' as const, clientNamespace: ns })),
  ...NAMESPACES.map((ns) => ({ kind: 'waypoint' as const, waypoint: `${ns}/wp` })),
];

/** The set a proxy should get: its waypoint's, its namespace's proxyless set, or the plain one. */
function expectedKind(p: Proxy, state: EnvoyState): EnvoySetKind | undefined {
  const ns = p.istio?.namespace ?? '';
  if (p.istio?.type === 'waypoint')
    return state.waypoints.has(`${ns}/wp`) ? { kind: 'waypoint', waypoint: `${ns}/wp` } : undefined;
  return routeAttachments(state).consumerNamespaces.has(ns)
    ? { kind: 'proxyless', clientNamespace: ns }
    : { kind: 'proxyless' };
}

test('incremental Envoy sets equal sets built from nothing after every random change', () => {
  for (let seed = 1; seed <= 8; seed++) {
    const r = rng(seed);
    const deriver = createMeshStateDeriver();
    const outputs = createEnvoyOutputs();
    let index: WorkloadIndex | undefined;
    const sets = new Map<EnvoySetKind, EnvoySet>();
    let s: ClusterSnapshot = startingSnapshot(r);
    let served = new Map<Proxy, Map<string, GeneratedResources>>();
    for (let step = 0; step < 60; step++) {
      s = mutate(s, r);
      const where = `seed ${seed}, step ${step}`;
      const state: EnvoyState = withRoutes(deriver.derive(s), s);
      index = workloadIndex(state, index);
      const fresh = workloadIndex(state);
      const fullSets = new Map<string, EnvoySet>();
      for (const kind of KINDS) {
        const next = updateSet(kind, state, index, sets.get(kind));
        sets.set(kind, next);
        const full = updateSet(kind, state, fresh);
        fullSets.set(JSON.stringify(kind), full);
        assert.deepEqual(
          next.resources.notes,
          full.resources.notes,
          `${where} ${JSON.stringify(kind)} notes`,
        );
        for (const t of ENVOY_TYPES)
          assert.deepEqual(
            wire(next.packed.get(t)),
            wire(full.packed.get(t)),
            `${where} ${JSON.stringify(kind)} ${t}`,
          );
      }
      // Through the outputs, as the pipeline and the generators use them.
      const changed = outputs.update(state);
      const now = new Map<Proxy, Map<string, GeneratedResources>>();
      const differs = new Set<string>();
      for (const p of PROXIES) {
        const byType = new Map<string, GeneratedResources>();
        for (const t of ENVOY_TYPES) {
          const got = outputs.generate(t, state, p);
          const kind = expectedKind(p, state);
          const expected = kind && fullSets.get(JSON.stringify(kind))?.packed.get(t);
          assert.deepEqual(wire(got), wire(expected), `${where} ${p.id} ${t}`);
          byType.set(t, got);
          const before = served.get(p)?.get(t);
          if (before && JSON.stringify(wire(before)) !== JSON.stringify(wire(got))) differs.add(t);
        }
        now.set(p, byType);
      }
      for (const t of differs)
        assert.ok(changed.includes(t), `${where}: ${t} changed but not reported`);
      served = now;
    }
  }
});

test('a proxy served the published snapshot while a newer state waits for its push holds the newest resources once that is published', () => {
  // The xDS server serves the snapshot it published; the pipeline has already brought the sets to
  // the next state, whose push (debounced) re-sends only the types update() reported changed. A
  // proxy that connects in between must not be left with the older state's resources.
  for (let seed = 1; seed <= 8; seed++) {
    const r = rng(seed);
    const deriver = createMeshStateDeriver();
    const outputs = createEnvoyOutputs();
    let s: ClusterSnapshot = startingSnapshot(r);
    let published: EnvoyState | undefined;
    const held = new Map<Proxy, Map<string, GeneratedResources>>();
    for (let step = 0; step < 60; step++) {
      s = mutate(s, r);
      const state: EnvoyState = withRoutes(deriver.derive(s), s);
      const changed = outputs.update(state);
      if (published)
        for (const p of PROXIES)
          if (!held.has(p) && r.chance(0.2))
            held.set(p, new Map(ENVOY_TYPES.map((t) => [t, outputs.generate(t, published!, p)])));
      published = state;
      for (const [p, byType] of held)
        for (const t of changed) byType.set(t, outputs.generate(t, state, p));
      const fresh = workloadIndex(state);
      for (const [p, byType] of held) {
        const kind = expectedKind(p, state);
        const expected = kind && updateSet(kind, state, fresh);
        for (const t of ENVOY_TYPES)
          assert.deepEqual(
            wire(byType.get(t)),
            wire(expected?.packed.get(t)),
            `seed ${seed}, step ${step}: ${p.id} holds ${t} of the published state`,
          );
      }
    }
  }
});

test('a pod change re-translates no Service: only the endpoints of its service change', () => {
  const yaml = [
    'apiVersion: v1\nkind: Namespace\nmetadata: { name: shop, labels: { istio.io/dataplane-mode: ambient } }',
    ...['a', 'b', 'c'].map(
      (app) =>
        `apiVersion: v1\nkind: Service\nmetadata: { name: ${app}, namespace: shop }\nspec: { clusterIP: 10.96.0.${app.charCodeAt(0)}, selector: { app: ${app} }, ports: [{ name: http, port: 80 }] }`,
    ),
    ...['a', 'b', 'c'].map(
      (app, i) =>
        `apiVersion: v1\nkind: Pod\nmetadata: { name: ${app}-0, namespace: shop, labels: { app: ${app} } }\nspec: { containers: [{ name: c, image: x }] }\nstatus: { phase: Running, podIP: 10.0.0.${i + 1}, conditions: [{ type: Ready, status: "True" }] }`,
    ),
  ].join('\n---\n');
  const { snapshot } = parseSnapshot(yaml);
  const deriver = createMeshStateDeriver();
  const first = withRoutes(deriver.derive(snapshot), snapshot);
  const kind: EnvoySetKind = { kind: 'proxyless' };
  const index = workloadIndex(first);
  const before = updateSet(kind, first, index);
  const pods = snapshot.pods.slice();
  const changed = structuredClone(pods[1]!);
  changed.status!.conditions = [{ type: 'Ready', status: 'False' }];
  pods[1] = changed;
  const nextSnapshot = { ...snapshot, pods };
  const second = withRoutes(deriver.derive(nextSnapshot), nextSnapshot);
  const after = updateSet(kind, second, workloadIndex(second, index), before);
  for (const t of [LISTENER_TYPE_URL, ROUTE_CONFIGURATION_TYPE_URL, CLUSTER_TYPE_URL])
    assert.equal(
      after.packed.get(t),
      before.packed.get(t),
      `${t}: the same map, nothing re-packed`,
    );
  const eds = (s: EnvoySet) =>
    new Map([...s.packed.get(CLUSTER_LOAD_ASSIGNMENT_TYPE_URL)!].map(([n, r]) => [n, r.version]));
  const was = eds(before);
  assert.deepEqual(
    [...eds(after)].filter(([n, v]) => was.get(n) !== v).map(([n]) => n),
    ['outbound|80||b.shop.svc.cluster.local'],
  );
});

test('found by the soak benchmark: the outputs do not keep earlier states alive', async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const r = rng(5);
  const deriver = createMeshStateDeriver();
  const outputs = createEnvoyOutputs();
  let s = startingSnapshot(r);
  for (let i = 0; i < 5; i++) s = mutate(s, r);
  let state: EnvoyState = withRoutes(deriver.derive(s), s);
  for (const t of ENVOY_TYPES) outputs.generate(t, state, PROXIES[0]!);
  const first = new WeakRef(state);
  for (let step = 0; step < 10; step++) {
    s = mutate(s, r);
    state = withRoutes(deriver.derive(s), s);
    outputs.update(state);
    for (const t of ENVOY_TYPES) outputs.generate(t, state, PROXIES[0]!);
  }
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  assert.equal(first.deref(), undefined, 'the first state was collected');
});

test('a waypoint proxy identified only once its pod appears is pushed its set then', () => {
  const base = `apiVersion: v1
kind: Namespace
metadata: { name: shop, labels: { istio.io/use-waypoint: wp } }
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: wp, namespace: shop }
spec: { gatewayClassName: trellis-waypoint, listeners: [{ name: mesh, port: 15008, protocol: HBONE }] }
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: shop }
spec: { clusterIP: 10.96.0.1, ports: [{ name: http, port: 80 }] }
`;
  const pod = `---
apiVersion: v1
kind: Pod
metadata: { name: wp-0, namespace: shop, labels: { gateway.networking.k8s.io/gateway-name: wp } }
spec: { containers: [{ name: w, image: x }] }
status: { phase: Running, podIP: 10.0.0.9 }
`;
  const deriver = createMeshStateDeriver();
  const outputs = createEnvoyOutputs();
  const at = (yaml: string) => {
    const { snapshot } = parseSnapshot(yaml);
    return withRoutes(deriver.derive(snapshot), snapshot);
  };
  const waypoint = proxy('waypoint~10.0.0.9~wp-0.shop~shop.svc.cluster.local');
  const first = at(base);
  outputs.update(first);
  assert.equal(outputs.generate(LISTENER_TYPE_URL, first, waypoint).size, 0, 'not identified yet');
  const second = at(base + pod);
  assert.deepEqual(outputs.update(second), [...ENVOY_TYPES], 'every Envoy type is pushed again');
  assert.deepEqual(
    [...outputs.generate(LISTENER_TYPE_URL, second, waypoint).keys()],
    ['waypoint_inbound'],
  );
});
