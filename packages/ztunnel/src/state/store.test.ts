import assert from 'node:assert/strict';
import { test } from 'node:test';
import { policy, service, workload } from '../test-support/fixtures.js';
import type { StateChange } from './store.js';
import { StateStore } from './store.js';

const WEB = 'default/web.default.svc.cluster.local';

test('apply indexes workloads by uid and by (network, IP), and removes them from every index', () => {
  const store = new StateStore();
  const a = workload({
    uid: 'K//Pod/default/a',
    addresses: ['10.0.0.1', 'fd00::1'],
    services: { [WEB]: [{ servicePort: 80, targetPort: 8080 }] },
  });
  const b = workload({ uid: 'K//Pod/default/b', addresses: ['10.0.0.1'], network: 'other' });
  store.apply({
    upsertWorkloads: [a, b],
    upsertServices: [service({ hostname: 'web.default.svc.cluster.local' })],
  });

  assert.equal(store.workloadByUid('K//Pod/default/a'), a);
  assert.equal(store.workloadByAddr('10.0.0.1'), a);
  assert.equal(store.workloadByAddr('FD00:0::1'), a, 'IPv6 looked up in any spelling');
  assert.equal(
    store.workloadByAddr('::ffff:10.0.0.1'),
    a,
    'IPv4-mapped form finds the IPv4 workload',
  );
  assert.equal(store.workloadByAddr('10.0.0.1', { network: 'other' }), b);
  assert.equal(store.workloadByAddr('10.0.0.2'), undefined);
  assert.equal(store.workloadByAddr('not an ip'), undefined);
  assert.deepEqual(
    store.endpointsOf(WEB).map((e) => e.workload.uid),
    ['K//Pod/default/a'],
  );

  const change = store.apply({ removeWorkloads: ['K//Pod/default/a', 'K//Pod/default/missing'] });
  assert.deepEqual(change.workloads, { upserted: [], removed: ['K//Pod/default/a'] });
  assert.equal(store.workloadByUid('K//Pod/default/a'), undefined);
  assert.equal(store.workloadByAddr('10.0.0.1'), undefined);
  assert.equal(store.workloadByAddr('fd00::1'), undefined);
  assert.deepEqual(store.endpointsOf(WEB), []);
});

test('a replaced workload leaves nothing of its old addresses or services behind', () => {
  const store = new StateStore();
  store.apply({
    upsertWorkloads: [
      workload({ uid: 'w', addresses: ['10.0.0.1'], services: { 'default/a': [] } }),
    ],
  });
  store.apply({
    upsertWorkloads: [
      workload({ uid: 'w', addresses: ['10.0.0.2'], services: { 'default/b': [] } }),
    ],
  });
  assert.equal(store.workloadByAddr('10.0.0.1'), undefined);
  assert.equal(store.workloadByAddr('10.0.0.2')?.uid, 'w');
  assert.deepEqual(store.endpointsOf('default/a'), []);
  assert.deepEqual(
    store.endpointsOf('default/b').map((e) => e.workload.uid),
    ['w'],
  );
});

test('HOST_NETWORK workloads are not found by IP; overlapping IPs prefer a meshed Pod', () => {
  const store = new StateStore();
  store.apply({
    upsertWorkloads: [
      workload({
        uid: 'Kubernetes//Pod/kube-system/host',
        addresses: ['10.0.0.5'],
        networkMode: 'HostNetwork',
      }),
      workload({
        uid: 'Kubernetes/networking.istio.io/WorkloadEntry/default/we',
        addresses: ['10.0.0.6'],
        protocol: 'HBONE',
      }),
      workload({ uid: 'Kubernetes//Pod/default/plain', addresses: ['10.0.0.6'], protocol: 'TCP' }),
      workload({
        uid: 'Kubernetes//Pod/default/meshed',
        addresses: ['10.0.0.6'],
        protocol: 'HBONE',
      }),
    ],
  });
  assert.equal(store.workloadByAddr('10.0.0.5'), undefined);
  assert.equal(store.workloadByUid('Kubernetes//Pod/kube-system/host')?.networkMode, 'HostNetwork');
  assert.equal(store.workloadByAddr('10.0.0.6')?.uid, 'Kubernetes//Pod/default/meshed');
  store.apply({ removeWorkloads: ['Kubernetes//Pod/default/meshed'] });
  assert.equal(store.workloadByAddr('10.0.0.6')?.uid, 'Kubernetes//Pod/default/plain');
});

test('services are indexed by key, hostname and (network, VIP), and VIP ranges are a fallback', () => {
  const store = new StateStore();
  const web = service({
    hostname: 'web.default.svc.cluster.local',
    vips: [{ network: '', address: '10.96.0.1' }],
  });
  const webOther = service({
    hostname: 'web.default.svc.cluster.local',
    namespace: 'other',
    vips: [{ network: '', address: '10.96.0.1' }],
  });
  const wide = service({
    hostname: 'wide.example',
    cidrVips: [{ network: '', address: '240.0.0.0', prefixLength: 8 }],
  });
  const narrow = service({
    hostname: 'narrow.example',
    cidrVips: [{ network: '', address: '240.1.0.0', prefixLength: 16 }],
  });
  store.apply({ upsertServices: [web, webOther, wide, narrow] });

  assert.equal(store.serviceByKey(WEB), web);
  assert.deepEqual(store.servicesByHost('web.default.svc.cluster.local'), [web, webOther]);
  assert.equal(store.serviceByVip('10.96.0.1'), web, 'first applied wins without other preference');
  assert.equal(
    store.serviceByVip('10.96.0.1', { namespace: 'other' }),
    webOther,
    'the client namespace wins',
  );
  assert.equal(store.serviceByVip('10.96.0.1', { network: 'elsewhere' }), undefined);
  assert.equal(store.serviceByVip('240.1.2.3'), narrow, 'longest prefix');
  assert.equal(store.serviceByVip('240.2.2.3'), wide);
  assert.deepEqual(
    store.services().map((s) => `${s.namespace}/${s.hostname}`),
    ['default/narrow.example', WEB, 'default/wide.example', 'other/web.default.svc.cluster.local'],
  );

  store.apply({ removeServices: [WEB] });
  assert.equal(store.serviceByVip('10.96.0.1'), webOther);
  assert.deepEqual(store.servicesByHost('web.default.svc.cluster.local'), [webOther]);
});

test('serviceByVip prefers a canonical service and hides NAMESPACE-visibility services from other namespaces', () => {
  const store = new StateStore();
  const vip = [{ network: '', address: '10.96.0.9' }];
  const plain = service({ hostname: 'a.example', namespace: 'x', vips: vip });
  const canonical = service({ hostname: 'b.example', namespace: 'y', vips: vip, canonical: true });
  const local = service({
    hostname: 'c.example',
    namespace: 'z',
    vips: vip,
    visibility: 'Namespace',
  });
  store.apply({ upsertServices: [plain, canonical, local] });
  assert.equal(store.serviceByVip('10.96.0.9'), canonical);
  assert.equal(store.serviceByVip('10.96.0.9', { namespace: 'q' }), canonical);
  assert.equal(store.serviceByVip('10.96.0.9', { namespace: 'z' }), local);
  store.apply({ removeServices: ['y/b.example', 'x/a.example'] });
  assert.equal(
    store.serviceByVip('10.96.0.9', { namespace: 'q' }),
    undefined,
    'hidden from namespace q',
  );
});

test('endpoints come from workloads whatever order workloads and services arrive in', () => {
  const store = new StateStore();
  store.apply({
    upsertWorkloads: [
      workload({
        uid: 'w1',
        addresses: ['10.0.0.1'],
        services: { [WEB]: [{ servicePort: 80, targetPort: 8080 }] },
      }),
    ],
  });
  assert.deepEqual(
    store.endpointsOf(WEB).map((e) => e.workload.uid),
    ['w1'],
    'known before the service',
  );
  const web = service({
    hostname: 'web.default.svc.cluster.local',
    ports: [{ servicePort: 80, targetPort: 0, appProtocol: 'TCP' }],
  });
  store.apply({ upsertServices: [web] });
  assert.deepEqual(store.endpointsOf(web), [
    { workload: store.workloadByUid('w1'), ports: [{ servicePort: 80, targetPort: 8080 }] },
  ]);
  assert.deepEqual(store.servicesOf(store.workloadByUid('w1')!), [web]);
  const pick = store.pickEndpoint(web, 80);
  assert.deepEqual(pick.kind === 'endpoint' && [pick.workload.uid, pick.address, pick.port], [
    'w1',
    '10.0.0.1',
    8080,
  ]);
});

test('policies are found by global scope, namespace and the workload selector list', () => {
  const store = new StateStore();
  const global = policy({ name: 'mesh', namespace: 'istio-system', scope: 'Global' });
  const ns = policy({ name: 'ns-wide', namespace: 'default', scope: 'Namespace' });
  const otherNs = policy({ name: 'ns-wide', namespace: 'other', scope: 'Namespace' });
  const selected = policy({ name: 'web-only', namespace: 'default', scope: 'WorkloadSelector' });
  const unselected = policy({ name: 'api-only', namespace: 'default', scope: 'WorkloadSelector' });
  store.apply({ upsertPolicies: [global, ns, otherNs, selected, unselected] });

  const web = workload({
    uid: 'web',
    namespace: 'default',
    authorizationPolicies: ['default/web-only', 'default/not-sent-yet'],
  });
  assert.deepEqual(
    store.policiesFor(web).map((p) => `${p.namespace}/${p.name}`),
    ['default/ns-wide', 'default/web-only', 'istio-system/mesh'],
  );
  const elsewhere = workload({ uid: 'x', namespace: 'third' });
  assert.deepEqual(store.policiesFor(elsewhere), [global]);

  // A policy whose scope changes moves between indexes.
  store.apply({
    upsertPolicies: [{ ...ns, scope: 'WorkloadSelector' }],
    removePolicies: ['istio-system/mesh'],
  });
  assert.deepEqual(
    store.policiesFor(web).map((p) => p.name),
    ['web-only'],
  );
  assert.deepEqual(store.policiesFor(elsewhere), []);
  assert.equal(store.policy('default/ns-wide')?.scope, 'WorkloadSelector');
});

test('one apply is one change: subscribers see it complete, once, with only real changes', () => {
  const store = new StateStore();
  const seen: { change: StateChange; workloads: number; services: number; policies: number }[] = [];
  const unsubscribe = store.subscribe((change) =>
    seen.push({
      change,
      workloads: store.workloads().length,
      services: store.services().length,
      policies: store.policies().length,
    }),
  );
  const w = workload({ uid: 'w', addresses: ['10.0.0.1'] });
  const s = service({ hostname: 'web.default.svc.cluster.local' });
  const p = policy({ name: 'p' });
  store.apply({ upsertWorkloads: [w], upsertServices: [s], upsertPolicies: [p] });
  assert.equal(seen.length, 1);
  assert.deepEqual(seen[0], {
    change: {
      workloads: { upserted: ['w'], removed: [] },
      services: { upserted: [WEB], removed: [] },
      policies: { upserted: ['default/p'], removed: [] },
    },
    workloads: 1,
    services: 1,
    policies: 1,
  });

  // Resending identical values changes nothing and notifies nobody.
  const same = store.apply({
    upsertWorkloads: [{ ...w }],
    upsertPolicies: [{ ...p }],
    removeServices: ['default/none'],
  });
  assert.equal(seen.length, 1);
  assert.deepEqual(same.workloads, { upserted: [], removed: [] });

  store.apply({ upsertPolicies: [{ ...p, action: 'Deny' }], removeWorkloads: ['w'] });
  assert.equal(seen.length, 2);
  assert.deepEqual(seen[1].change.policies, { upserted: ['default/p'], removed: [] });
  assert.deepEqual(seen[1].change.workloads, { upserted: [], removed: ['w'] });

  unsubscribe();
  store.apply({ removePolicies: ['default/p'] });
  assert.equal(seen.length, 2);
});

test('a throwing subscriber does not stop the others, and the error still surfaces', () => {
  const store = new StateStore();
  let second = 0;
  store.subscribe(() => {
    throw new Error('listener bug');
  });
  store.subscribe(() => second++);
  assert.throws(() => store.apply({ upsertPolicies: [policy({ name: 'p' })] }), /listener bug/);
  assert.equal(second, 1);
  assert.equal(store.policies().length, 1, 'the change was applied');
});

test('waypointFor resolves a workload or service waypoint by service name or by address', () => {
  const store = new StateStore({ random: () => 0.9 });
  const wpService = service({
    hostname: 'wp.default.svc.cluster.local',
    vips: [{ network: '', address: '10.96.0.50' }],
  });
  const wpPod = workload({ uid: 'wp-pod', addresses: ['10.0.0.50'] });
  const byName = {
    destination: {
      kind: 'hostname',
      namespace: 'default',
      hostname: 'wp.default.svc.cluster.local',
    },
    hbonePort: 15008,
  } as const;
  const byPodIp = {
    destination: { kind: 'address', network: '', address: '10.0.0.50' },
    hbonePort: 15008,
  } as const;
  const byVip = {
    destination: { kind: 'address', network: '', address: '10.96.0.50' },
    hbonePort: 15008,
  } as const;
  const nowhere = {
    destination: { kind: 'address', network: '', address: '10.9.9.9' },
    hbonePort: 15008,
  } as const;
  store.apply({ upsertServices: [wpService], upsertWorkloads: [wpPod] });

  assert.equal(store.waypointFor(workload({ uid: 'plain' })), undefined);
  assert.deepEqual(store.waypointFor(workload({ uid: 'a', waypoint: byName })), {
    gateway: byName,
    service: wpService,
  });
  assert.deepEqual(store.waypointFor(service({ hostname: 'x', waypoint: byPodIp })), {
    gateway: byPodIp,
    workload: wpPod,
  });
  assert.deepEqual(store.waypointFor(service({ hostname: 'x', waypoint: byVip })), {
    gateway: byVip,
    service: wpService,
  });
  assert.deepEqual(store.waypointFor(service({ hostname: 'x', waypoint: nowhere })), {
    gateway: nowhere,
  });

  // Weighted waypoints: the injected random (0.9) lands in the second entry (weights 1 and 3).
  const weighted = service({
    hostname: 'x',
    waypoint: byName,
    weightedWaypoints: [
      { destination: byName, weight: 1 },
      { destination: byPodIp, weight: 3 },
    ],
  });
  assert.deepEqual(store.waypointFor(weighted), { gateway: byPodIp, workload: wpPod });
});

test('dump lists everything sorted, services with their endpoints', () => {
  const store = new StateStore();
  store.apply({
    upsertWorkloads: [
      workload({ uid: 'b', services: { [WEB]: [{ servicePort: 80, targetPort: 8080 }] } }),
      workload({ uid: 'a' }),
    ],
    upsertServices: [service({ hostname: 'web.default.svc.cluster.local' })],
    upsertPolicies: [policy({ name: 'z' }), policy({ name: 'y' })],
  });
  const dump = store.dump();
  assert.deepEqual(
    dump.workloads.map((w) => w.uid),
    ['a', 'b'],
  );
  assert.deepEqual(dump.services[0].endpoints, { b: [{ servicePort: 80, targetPort: 8080 }] });
  assert.deepEqual(
    dump.policies.map((p) => p.name),
    ['y', 'z'],
  );
});
