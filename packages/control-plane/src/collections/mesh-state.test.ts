import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSnapshot } from '../ingest/manifests.js';
import type { V1Pod } from '@kubernetes/client-node';
import { emptySnapshot, type ClusterSnapshot } from '../model/kube.js';
import { deriveMeshState } from './mesh-state.js';
import { translateState } from '../translate/translate-state.js';
import { toPeerAuthentication } from '../ingest/convert/istio-security.js';

function snapshot(yaml: string): ClusterSnapshot {
  const r = parseSnapshot(yaml);
  assert.deepEqual(r.problems, []);
  return r.snapshot;
}

const runningPod = (name: string, ns: string, ip: string, meta = '', spec = '') => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  namespace: ${ns}
${meta}spec:
  containers: [{ name: c, image: x }]
${spec}status:
  phase: Running
  podIP: ${ip}
  conditions: [{ type: Ready, status: "True" }]
`;

test('with hboneRequiresRedirection only pods the CNI agent annotated get HBONE', () => {
  const s = snapshot(
    [
      'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n  labels: { istio.io/dataplane-mode: ambient }\n',
      runningPod('labelled', 'a', '10.0.0.1'),
      runningPod(
        'redirected',
        'a',
        '10.0.0.2',
        '  annotations: { ambient.istio.io/redirection: enabled }\n',
      ),
    ].join('---\n'),
  );
  const byLabels = deriveMeshState(s);
  assert.deepEqual(
    [...byLabels.workloads.values()].map((w) => [w.name, w.ambient, w.tunnel]),
    [
      ['labelled', true, 'HBONE'],
      ['redirected', true, 'HBONE'],
    ],
  );
  const byAnnotation = deriveMeshState(s, { hboneRequiresRedirection: true });
  assert.deepEqual(
    [...byAnnotation.workloads.values()].map((w) => [w.name, w.tunnel]),
    [
      ['labelled', 'NONE'],
      ['redirected', 'HBONE'],
    ],
  );
});

test('a pod with an Istio sidecar is not enrolled even in an ambient namespace', () => {
  const s = snapshot(
    [
      'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n  labels: { istio.io/dataplane-mode: ambient }\n',
      runningPod('sidecar', 'a', '10.0.0.1', '  annotations: { sidecar.istio.io/status: "{}" }\n'),
    ].join('---\n'),
  );
  const w = [...deriveMeshState(s).workloads.values()][0]!;
  assert.equal(w.ambient, false);
  assert.equal(w.tunnel, 'NONE');
});

test('a selector-less Service backed by hand-made EndpointSlices maps the pods they list', () => {
  const s = snapshot(
    [
      runningPod('legacy', 'a', '10.0.0.9'),
      'apiVersion: v1\nkind: Service\nmetadata: { name: ext, namespace: a }\nspec:\n  clusterIP: 10.96.0.9\n  ports: [{ name: tcp, port: 5000, targetPort: 5001 }]\n',
      `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: ext-1, namespace: a, labels: { kubernetes.io/service-name: ext } }
addressType: IPv4
endpoints:
  - addresses: [10.0.0.9]
    targetRef: { kind: Pod, name: legacy }
  - addresses: [192.0.2.7]
    conditions: { ready: false }
ports: [{ name: tcp, port: 5001 }]
`,
    ].join('---\n'),
  );
  const state = deriveMeshState(s);
  const pod = state.workloads.get('Kubernetes//Pod/a/legacy')!;
  assert.deepEqual(pod.services, {
    'a/ext.a.svc.cluster.local': [{ servicePort: 5000, targetPort: 5001 }],
  });
  const external = state.workloads.get(
    'Kubernetes/discovery.k8s.io/EndpointSlice/a/ext-1/192.0.2.7',
  )!;
  assert.equal(external.healthy, false);
  assert.deepEqual(external.services, {
    'a/ext.a.svc.cluster.local': [{ servicePort: 5000, targetPort: 5001 }],
  });
  assert.equal(state.workloads.size, 2, 'the pod endpoint does not become a second workload');
});

test('waypoints admit other namespaces only as their HBONE listener allows', () => {
  const gateway = (name: string, allowed: string) => `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: ${name}, namespace: infra, labels: { istio.io/waypoint-for: all } }
spec:
  gatewayClassName: trellis-waypoint
  listeners:
    - name: mesh
      port: 15008
      protocol: HBONE
      allowedRoutes:
        namespaces: ${allowed}
`;
  const s = snapshot(
    [
      'apiVersion: v1\nkind: Namespace\nmetadata: { name: infra }\n',
      'apiVersion: v1\nkind: Namespace\nmetadata: { name: team, labels: { tier: gold } }\n',
      gateway('shared', '{ from: All }'),
      gateway(
        'gold-only',
        '{ from: Selector, selector: { matchExpressions: [{ key: tier, operator: In, values: [gold] }] } }',
      ),
      gateway('silver-only', '{ from: Selector, selector: { matchLabels: { tier: silver } } }'),
      runningPod(
        'p1',
        'team',
        '10.0.0.1',
        '  labels: { istio.io/use-waypoint: shared, istio.io/use-waypoint-namespace: infra }\n',
      ),
      runningPod(
        'p2',
        'team',
        '10.0.0.2',
        '  labels: { istio.io/use-waypoint: gold-only, istio.io/use-waypoint-namespace: infra }\n',
      ),
      runningPod(
        'p3',
        'team',
        '10.0.0.3',
        '  labels: { istio.io/use-waypoint: silver-only, istio.io/use-waypoint-namespace: infra }\n',
      ),
    ].join('---\n'),
  );
  const w = deriveMeshState(s).workloads;
  assert.equal(w.get('Kubernetes//Pod/team/p1')?.waypoint?.waypoint, 'infra/shared');
  assert.equal(w.get('Kubernetes//Pod/team/p2')?.waypoint?.waypoint, 'infra/gold-only');
  assert.equal(w.get('Kubernetes//Pod/team/p3')?.waypoint, undefined);
  assert.equal(
    w.get('Kubernetes//Pod/team/p3')?.waypointProblem,
    'waypoint infra/silver-only does not allow attachment from namespace team',
  );
});

test('objects from client-node (Date timestamps) work like YAML ones (string timestamps)', () => {
  // Typed as client-node returns them: this only compiles while V1 objects fit the snapshot.
  const pod: V1Pod = {
    metadata: { name: 'p', namespace: 'a', deletionTimestamp: new Date('2026-01-01T00:00:00Z') },
    spec: { containers: [{ name: 'c' }] },
    status: {
      phase: 'Running',
      podIP: '10.0.0.1',
      conditions: [{ type: 'Ready', status: 'True' }],
    },
  };
  const pa = (name: string, created: Date | string, mode: string) =>
    toPeerAuthentication({
      metadata: { name, namespace: 'istio-system', creationTimestamp: created },
      spec: { mtls: { mode } },
    });
  const snapshot: ClusterSnapshot = {
    ...emptySnapshot(),
    pods: [pod],
    peerAuthentications: [
      pa('newer', new Date('2025-02-01T00:00:00Z'), 'PERMISSIVE'),
      pa('older', '2025-01-01T00:00:00Z', 'STRICT'),
    ],
  };
  const w = [...deriveMeshState(snapshot).workloads.values()][0]!;
  assert.equal(w.healthy, false, 'a Date deletionTimestamp marks the pod unhealthy');
  assert.deepEqual(
    w.authorizationPolicies,
    ['istio-system/istio_converted_static_strict'],
    'the older (STRICT) mesh policy wins',
  );
});

test('bad PeerAuthentication values are reported, not guessed', () => {
  const s = snapshot(`apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: typo, namespace: a }
spec:
  selector: { matchLabels: { app: x } }
  mtls: { mode: strict }
  portLevelMtls:
    http: { mode: STRICT }
`);
  const [pa] = deriveMeshState(s).peerAuthentications;
  assert.equal(pa?.mode, 'UNSET');
  assert.equal(
    pa?.problem,
    'mtls.mode "strict" is not one of UNSET, DISABLE, PERMISSIVE, STRICT; treated as UNSET; portLevelMtls key "http" is not a port number',
  );
});

test('a selector PeerAuthentication in the root namespace is ignored, with a note', () => {
  const s = snapshot(
    [
      runningPod('p', 'istio-system', '10.0.0.1', '  labels: { app: x }\n'),
      `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: rooted, namespace: istio-system }
spec:
  selector: { matchLabels: { app: x } }
  mtls: { mode: STRICT }
  portLevelMtls: { "80": { mode: PERMISSIVE } }
`,
    ].join('---\n'),
  );
  const state = deriveMeshState(s);
  assert.deepEqual(
    state.workloads.get('Kubernetes//Pod/istio-system/p')?.authorizationPolicies,
    [],
  );
  assert.deepEqual(state.peerAuthentications[0]?.portModes, []);
  assert.match(state.peerAuthentications[0]?.problem ?? '', /root namespace is ignored/);
});

test('pod IPs: a bad one is left out with a note, a shared one is noted on both pods, ::ffff:a.b.c.d is IPv4', () => {
  const s = snapshot(
    [
      runningPod('typo', 'a', '999.1.2.3'),
      runningPod('word', 'a', 'not-an-ip'),
      runningPod('first', 'a', '10.0.0.5'),
      runningPod('second', 'b', '10.0.0.5'),
      runningPod('mapped', 'a', '::ffff:10.0.0.7'),
      runningPod('host-1', 'a', '192.168.0.1', '', '  hostNetwork: true\n'),
      runningPod('host-2', 'a', '192.168.0.1', '', '  hostNetwork: true\n'),
      `apiVersion: v1
kind: Pod
metadata: { name: dual, namespace: a }
spec: { containers: [{ name: c, image: x }] }
status:
  phase: Running
  podIPs: [{ ip: 10.0.0.9 }, { ip: "fd00::zz" }]
`,
    ].join('---\n'),
  );
  const state = deriveMeshState(s);
  const w = (ns: string, name: string) => state.workloads.get(`Kubernetes//Pod/${ns}/${name}`);
  assert.deepEqual(w('a', 'typo')?.addresses, []);
  assert.equal(
    w('a', 'typo')?.addressProblem,
    'status.podIP "999.1.2.3" is not an IP address; ignored',
  );
  assert.equal(
    w('a', 'word')?.addressProblem,
    'status.podIP "not-an-ip" is not an IP address; ignored',
  );
  assert.equal(w('a', 'first')?.addressProblem, 'IP 10.0.0.5 is also claimed by pod b/second');
  assert.equal(w('b', 'second')?.addressProblem, 'IP 10.0.0.5 is also claimed by pod a/first');
  assert.deepEqual(w('a', 'mapped')?.addresses, ['10.0.0.7']);
  assert.equal(w('a', 'mapped')?.addressProblem, undefined);
  assert.equal(w('a', 'host-1')?.addressProblem, undefined, 'host-network pods share the node IP');
  assert.deepEqual(w('a', 'dual')?.addresses, ['10.0.0.9']);
  assert.equal(
    w('a', 'dual')?.addressProblem,
    'status.podIPs[1].ip "fd00::zz" is not an IP address; ignored',
  );

  // Every problem is a note (logged as a warning by the pipeline); a pod without a usable IP gets
  // no Address, and the mapped one is sent as 4 bytes.
  const wds = translateState(state);
  const notes = wds.notes.filter((n) => n.kind === 'Pod').map((n) => `${n.object}: ${n.message}`);
  assert.deepEqual(notes.sort(), [
    'a/dual: status.podIPs[1].ip "fd00::zz" is not an IP address; ignored',
    'a/first: IP 10.0.0.5 is also claimed by pod b/second',
    'a/typo: status.podIP "999.1.2.3" is not an IP address; ignored',
    'a/word: status.podIP "not-an-ip" is not an IP address; ignored',
    'b/second: IP 10.0.0.5 is also claimed by pod a/first',
  ]);
  assert.equal(wds.addresses.has('Kubernetes//Pod/a/typo'), false);
  const mapped = wds.addresses.get('Kubernetes//Pod/a/mapped');
  assert.equal(mapped?.type.case, 'workload');
  assert.deepEqual([...mapped.type.value.addresses[0]!], [10, 0, 0, 7]);
});
