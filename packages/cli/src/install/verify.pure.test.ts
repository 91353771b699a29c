import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verifyInstall } from './verify.pure.js';
import { refKey, refOf } from '../kube/objects.pure.js';

const deployment = (image: string, status: object) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    name: 'trellis-control-plane',
    namespace: 'trellis-system',
    generation: 1,
    labels: { 'app.kubernetes.io/component': 'control-plane' },
  },
  spec: { replicas: 1, template: { spec: { containers: [{ name: 'c', image }] } } },
  status: { observedGeneration: 1, ...status },
});
const crd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'x.security.istio.io' },
};
const sa = {
  apiVersion: 'v1',
  kind: 'ServiceAccount',
  metadata: { name: 'ztunnel', namespace: 'trellis-system' },
};

test('present, missing, not ready, outdated', () => {
  const want = [crd, sa, deployment('trellis/control-plane:0.2.0', {})];
  const live = new Map<string, object>([
    [
      refKey(refOf(crd)),
      { ...crd, status: { conditions: [{ type: 'Established', status: 'True' }] } },
    ],
    [
      refKey(refOf(want[2])),
      deployment('trellis/control-plane:0.1.0', {
        replicas: 1,
        readyReplicas: 1,
        updatedReplicas: 1,
        availableReplicas: 1,
      }),
    ],
  ]);
  assert.deepEqual(
    verifyInstall(want, live).map((c) => [c.object, c.state]),
    [
      ['CustomResourceDefinition x.security.istio.io', 'ok'],
      ['ServiceAccount trellis-system/ztunnel', 'missing'],
      ['Deployment trellis-system/trellis-control-plane', 'outdated'],
    ],
  );
  assert.match(
    verifyInstall(want, live)[2]!.detail,
    /runs trellis\/control-plane:0.1.0, this CLI installs trellis\/control-plane:0.2.0 \(trellis install upgrades it\)/,
  );
  live.set(
    refKey(refOf(want[2])),
    deployment('trellis/control-plane:0.2.0', {
      replicas: 1,
      readyReplicas: 0,
      updatedReplicas: 1,
    }),
  );
  assert.deepEqual(verifyInstall(want, live)[2]!.state, 'not-ready');
  assert.equal(verifyInstall(want, live)[2]!.component, 'control-plane');
});
