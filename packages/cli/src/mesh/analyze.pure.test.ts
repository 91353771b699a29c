import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze, type AnalysisInput } from './analyze.pure.js';

const ns = (name: string, labels: Record<string, string> = {}) => ({ metadata: { name, labels } });
const pod = (
  namespace: string,
  name: string,
  labels: Record<string, string> = {},
  nodeName = 'n1',
) => ({
  metadata: { namespace, name, labels },
  spec: { nodeName },
  status: { phase: 'Running' },
});
const agent = (nodeName: string, ready = true) => ({
  metadata: { namespace: 'trellis-system', name: `trellis-cni-node-${nodeName}` },
  spec: { nodeName },
  status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});

const empty: AnalysisInput = {
  rootNamespace: 'trellis-system',
  namespaces: [],
  pods: [],
  services: [],
  authorizationPolicies: [],
  peerAuthentications: [],
  requestAuthentications: [],
  gateways: [],
  httpRoutes: [],
  grpcRoutes: [],
  cniAgentPods: [agent('n1'), agent('n2')],
};

const codes = (input: Partial<AnalysisInput>) =>
  analyze({ ...empty, ...input }).map((f) => `${f.code} ${f.object}`);

test('a policy whose selector or targetRef matches nothing (TR0001); matching ones are fine', () => {
  const pods = [pod('shop', 'web-1', { app: 'web' })];
  const input = {
    namespaces: [ns('shop')],
    pods,
    services: [{ metadata: { namespace: 'shop', name: 'web' } }],
    authorizationPolicies: [
      {
        metadata: { namespace: 'shop', name: 'typo' },
        spec: { selector: { matchLabels: { app: 'wbe' } } },
      },
      {
        metadata: { namespace: 'shop', name: 'ok' },
        spec: { selector: { matchLabels: { app: 'web' } } },
      },
      {
        metadata: { namespace: 'shop', name: 'gone' },
        spec: { targetRefs: [{ kind: 'Service', name: 'cart' }] },
      },
      {
        metadata: { namespace: 'shop', name: 'svc' },
        spec: { targetRefs: [{ kind: 'Service', name: 'web' }] },
      },
      // Root namespace: selects across the mesh.
      {
        metadata: { namespace: 'trellis-system', name: 'mesh' },
        spec: { selector: { matchLabels: { app: 'web' } } },
      },
    ],
    peerAuthentications: [
      {
        metadata: { namespace: 'other', name: 'pa' },
        spec: { selector: { matchLabels: { app: 'web' } } },
      },
    ],
  };
  assert.deepEqual(codes(input), [
    'TR0001 AuthorizationPolicy shop/gone',
    'TR0001 AuthorizationPolicy shop/typo',
    'TR0001 PeerAuthentication other/pa',
  ]);
  const typo = analyze({ ...empty, ...input }).find((f) => f.object.endsWith('/typo'))!;
  assert.match(typo.message, /selector app=wbe matches no pod in namespace shop/);
  assert.match(typo.fix, /kubectl get pods -n shop --show-labels/);
});

test('istio.io/use-waypoint naming a missing waypoint (TR0002) on namespaces, services and pods', () => {
  const input = {
    namespaces: [
      ns('shop', { 'istio.io/use-waypoint': 'waypoint' }),
      ns('ok', { 'istio.io/use-waypoint': 'wp' }),
    ],
    services: [
      { metadata: { namespace: 'ok', name: 'svc', labels: { 'istio.io/use-waypoint': 'nope' } } },
    ],
    pods: [pod('ok', 'p', { 'istio.io/use-waypoint': 'none' })],
    gateways: [
      { metadata: { namespace: 'ok', name: 'wp' }, spec: { gatewayClassName: 'istio-waypoint' } },
    ],
  };
  assert.deepEqual(codes(input), ['TR0002 Namespace shop', 'TR0002 Service ok/svc']);
  assert.match(
    analyze({ ...empty, ...input })[0]!.fix,
    /trellis waypoint apply -n shop --name waypoint/,
  );
});

test('a route backend that does not exist (TR0003), in its own or another namespace', () => {
  const input = {
    services: [{ metadata: { namespace: 'shop', name: 'web' } }],
    httpRoutes: [
      {
        metadata: { namespace: 'shop', name: 'r' },
        spec: {
          rules: [
            {
              backendRefs: [
                { name: 'web' },
                { name: 'web-v2' },
                { name: 'web', namespace: 'other' },
              ],
            },
          ],
        },
      },
    ],
    grpcRoutes: [
      {
        metadata: { namespace: 'shop', name: 'g' },
        spec: { rules: [{ backendRefs: [{ name: 'web', kind: 'Service' }] }] },
      },
    ],
  };
  const findings = analyze({ ...empty, ...input });
  assert.deepEqual(
    findings.map((f) => f.message),
    [
      'backendRef Service shop/web-v2 does not exist; requests routed to it fail with 500',
      'backendRef Service other/web does not exist; requests routed to it fail with 500',
    ],
  );
});

test('STRICT while pods outside the mesh exist (TR0004); PERMISSIVE or no outsiders is fine', () => {
  const input = {
    namespaces: [
      ns('shop', { 'istio.io/dataplane-mode': 'ambient' }),
      ns('legacy'),
      ns('kube-system'),
    ],
    pods: [pod('shop', 'web'), pod('legacy', 'batch'), pod('kube-system', 'coredns')],
    peerAuthentications: [
      { metadata: { namespace: 'shop', name: 'strict' }, spec: { mtls: { mode: 'STRICT' } } },
      { metadata: { namespace: 'shop', name: 'loose' }, spec: { mtls: { mode: 'PERMISSIVE' } } },
    ],
  };
  const findings = analyze({ ...empty, ...input });
  assert.deepEqual(
    findings.map((f) => `${f.code} ${f.object}`),
    ['TR0004 PeerAuthentication shop/strict'],
  );
  assert.match(
    findings[0]!.message,
    /1 pod\(s\) outside the mesh \(namespaces legacy\) cannot reach the 1 workload\(s\) it covers/,
  );
  assert.deepEqual(
    codes({ ...input, pods: [pod('shop', 'web'), pod('kube-system', 'coredns')] }),
    [],
  );
});

test('an enrolled namespace with pods on a node without a Ready CNI agent (TR0005)', () => {
  const input = {
    namespaces: [ns('shop', { 'istio.io/dataplane-mode': 'ambient' })],
    pods: [
      pod('shop', 'a', {}, 'n1'),
      pod('shop', 'b', {}, 'n2'),
      pod('shop', 'c', { 'istio.io/dataplane-mode': 'none' }, 'n3'),
    ],
    cniAgentPods: [agent('n1'), agent('n2', false)],
  };
  const findings = analyze({ ...empty, ...input });
  assert.deepEqual(
    findings.map((f) => `${f.code} ${f.object}`),
    ['TR0005 Namespace shop'],
  );
  assert.match(findings[0]!.message, /not Ready on node\(s\) n2/);
  const noAgent = analyze({ ...empty, ...input, cniAgentPods: undefined });
  assert.match(noAgent[0]!.message, /the CNI agent is not installed/);
});

test('-n keeps the findings of one namespace', () => {
  const input = {
    ...empty,
    namespaces: [
      ns('a', { 'istio.io/use-waypoint': 'x' }),
      ns('b', { 'istio.io/use-waypoint': 'y' }),
    ],
  };
  assert.deepEqual(
    analyze(input, 'b').map((f) => f.object),
    ['Namespace b'],
  );
});
