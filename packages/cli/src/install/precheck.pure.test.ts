import { test } from 'node:test';
import assert from 'node:assert/strict';
import { precheck, type ClusterFacts } from './precheck.pure.js';

const readyNode = (name: string, kernelVersion = '6.1.0', extra: object = {}) => ({
  metadata: { name },
  spec: extra,
  status: {
    conditions: [{ type: 'Ready', status: 'True' }],
    nodeInfo: { kernelVersion, operatingSystem: 'linux' },
  },
});

const healthy: ClusterFacts = {
  serverVersion: { major: '1', minor: '34', gitVersion: 'v1.34.4' },
  clusterAdmin: true,
  nodes: [readyNode('a'), readyNode('b')],
  crds: [],
  deployments: [],
  daemonSets: [],
  mutatingWebhooks: [],
  namespaces: [],
  tokenRequestServed: true,
};

const byCheck = (facts: ClusterFacts) =>
  Object.fromEntries(precheck(facts).map((r) => [r.check, r]));

test('a healthy cluster passes every check', () => {
  const results = precheck(healthy);
  assert.deepEqual(
    results.filter((r) => r.status !== 'ok'),
    [],
  );
  assert.ok(results.length >= 8);
});

test('each blocker fails with what to do', () => {
  const r = byCheck({
    ...healthy,
    serverVersion: { major: '1', minor: '27+', gitVersion: 'v1.27.3-gke.100' },
    clusterAdmin: false,
    nodes: [
      readyNode('old', '4.14.0'),
      {
        ...readyNode('down'),
        status: { conditions: [{ type: 'Ready', status: 'False' }], nodeInfo: {} },
      },
    ],
    crds: [
      {
        metadata: {
          name: 'authorizationpolicies.security.istio.io',
          labels: { app: 'istio-pilot' },
        },
      },
      {
        metadata: {
          name: 'gateways.gateway.networking.k8s.io',
          annotations: { 'gateway.networking.k8s.io/bundle-version': 'v1.0.0' },
        },
      },
    ],
    deployments: [
      { metadata: { name: 'istiod', namespace: 'istio-system', labels: { app: 'istiod' } } },
    ],
    daemonSets: [{ metadata: { name: 'ztunnel', namespace: 'istio-system' } }],
    tokenRequestServed: false,
  });
  assert.equal(r['kubernetes version']!.status, 'fail');
  assert.match(r['kubernetes version']!.hint!, /1\.30 or later/);
  assert.equal(r['permissions']!.status, 'fail');
  assert.equal(r['istio']!.status, 'fail');
  assert.match(
    r['istio']!.message,
    /Deployment istio-system\/istiod, DaemonSet istio-system\/ztunnel, CRD authorizationpolicies.security.istio.io \(not Trellis's\)/,
  );
  assert.match(r['istio']!.hint!, /istioctl uninstall --purge/);
  assert.equal(r['kernel']!.status, 'fail');
  assert.match(r['kernel']!.message, /old \(4\.14\.0\)/);
  assert.equal(r['nodes']!.status, 'warn');
  assert.match(r['nodes']!.message, /1 of 2 nodes are not Ready: down/);
  assert.equal(r['gateway api']!.status, 'fail');
  assert.equal(r['service account tokens']!.status, 'fail');
});

test('Trellis itself is not a conflict; a terminating namespace is', () => {
  const ours = byCheck({
    ...healthy,
    crds: [
      {
        metadata: {
          name: 'peerauthentications.security.istio.io',
          labels: { 'app.kubernetes.io/part-of': 'trellis' },
        },
      },
    ],
    daemonSets: [{ metadata: { name: 'ztunnel', namespace: 'trellis-system' } }],
    deployments: [
      {
        metadata: {
          name: 'trellis-control-plane',
          namespace: 'trellis-system',
          labels: { 'app.kubernetes.io/version': '0.1.0' },
        },
      },
    ],
  });
  assert.equal(ours['istio']!.status, 'ok');
  assert.equal(
    ours['trellis']!.message,
    'Trellis 0.1.0 is installed; install upgrades it in place',
  );
  const terminating = byCheck({
    ...healthy,
    namespaces: [
      { metadata: { name: 'trellis-system', deletionTimestamp: '2026-01-01T00:00:00Z' } },
    ],
  });
  assert.equal(terminating['trellis']!.status, 'fail');
});

test('GKE nodes get the CNI binary directory hint', () => {
  const r = byCheck({
    ...healthy,
    nodes: [readyNode('g', '6.1.0', { providerID: 'gce://p/z/g' })],
  });
  assert.equal(r['cni directories']!.status, 'warn');
  assert.match(r['cni directories']!.hint!, /--set cni.binDir=\/home\/kubernetes\/bin/);
});
