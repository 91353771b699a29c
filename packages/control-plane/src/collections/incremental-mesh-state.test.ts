import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ClusterSnapshot, Namespace, Service } from '../model/kube.js';
import { emptySnapshot } from '../model/kube.js';
import {
  APPS,
  makePod,
  makeService,
  mutate,
  rng,
  startingSnapshot,
} from '../test-support/random-cluster.js';
import { createMeshStateDeriver } from './incremental-mesh-state.js';
import { deriveMeshState, type MeshState } from './mesh-state.js';

/** The state as ordered entries, so that map order is compared too. */
function plain(state: MeshState) {
  return {
    ...state,
    waypoints: [...state.waypoints],
    services: [...state.services],
    workloads: [...state.workloads],
  };
}

test('after every random change the incremental state equals a full derivation', () => {
  for (let seed = 1; seed <= 30; seed++) {
    const r = rng(seed);
    const deriver = createMeshStateDeriver();
    let s: ClusterSnapshot = startingSnapshot(r);
    for (let step = 0; step < 120; step++) {
      s = mutate(s, r);
      assert.deepEqual(
        plain(deriver.derive(s)),
        plain(deriveMeshState(s)),
        `seed ${seed}, step ${step}`,
      );
    }
  }
});

test('duplicate objects fall back to a full derivation, then incremental again', () => {
  const r = rng(7);
  const deriver = createMeshStateDeriver({ clusterId: 'c1' });
  const pod = makePod(r, 'a', 'p0');
  let s: ClusterSnapshot = { ...emptySnapshot(), pods: [pod] };
  assert.deepEqual(plain(deriver.derive(s)), plain(deriveMeshState(s, { clusterId: 'c1' })));
  s = { ...s, pods: [pod, makePod(r, 'a', 'p0')] };
  assert.deepEqual(plain(deriver.derive(s)), plain(deriveMeshState(s, { clusterId: 'c1' })));
  s = { ...s, pods: [makePod(r, 'a', 'p0'), makePod(r, 'b', 'p1')] };
  assert.deepEqual(plain(deriver.derive(s)), plain(deriveMeshState(s, { clusterId: 'c1' })));
});

test('a pod change recomputes its own workload; every other info is the previous object', () => {
  const r = rng(3);
  const ns: Namespace = {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'a', labels: { 'istio.io/dataplane-mode': 'ambient' } },
  };
  const pods = Array.from({ length: 20 }, (_, i) => {
    const p = makePod(r, 'a', `p${i}`);
    p.status = {
      phase: 'Running',
      podIP: `10.0.0.${i + 1}`,
      conditions: [{ type: 'Ready', status: 'True' }],
    };
    delete p.metadata!.deletionTimestamp;
    return p;
  });
  const services = APPS.map(
    (app) =>
      ({
        ...makeService(r, 'a', app),
        spec: { clusterIP: '10.96.0.1', selector: { app }, ports: [{ port: 80 }] },
      }) as Service,
  );
  const deriver = createMeshStateDeriver();
  const before = deriver.derive({ ...emptySnapshot(), namespaces: [ns], pods, services });
  const changed = structuredClone(pods[5]!);
  changed.status!.conditions = [{ type: 'Ready', status: 'False' }];
  const nextPods = pods.slice();
  nextPods[5] = changed;
  const after = deriver.derive({ ...emptySnapshot(), namespaces: [ns], pods: nextPods, services });

  const uid = 'Kubernetes//Pod/a/p5';
  assert.equal(after.workloads.get(uid)?.healthy, false);
  const replaced = [...after.workloads]
    .filter(([k, w]) => before.workloads.get(k) !== w)
    .map(([k]) => k);
  assert.deepEqual(replaced, [uid]);
  assert.equal(after.services, before.services, 'no service changed: the same map');
  assert.equal(after.authorizationPolicies, before.authorizationPolicies);
});
