import { test } from 'node:test';
import assert from 'node:assert/strict';
import { leaseObject, microTime, nodeStatus } from './node-object.pure.js';

test('node status reports Ready, capacity, the InternalIP and the kubelet endpoint', () => {
  const s = nodeStatus(
    {
      name: 'n1',
      ip: '172.28.0.11',
      kubeletVersion: 'v1.34.4',
      kernelVersion: 'k',
      ready: true,
      readyMessage: 'ok',
    },
    'T',
    undefined,
  );
  assert.equal(s.conditions.find((c) => c.type === 'Ready')!.status, 'True');
  assert.deepEqual(s.addresses[0], { type: 'InternalIP', address: '172.28.0.11' });
  assert.equal(s.capacity.pods, '110');
  assert.equal(s.daemonEndpoints.kubeletEndpoint.Port, 10250);
});

test('lease renew times carry microseconds and the node owns its lease', () => {
  assert.equal(microTime(new Date('2026-01-02T03:04:05.678Z')), '2026-01-02T03:04:05.678000Z');
  const l = leaseObject('n1', 'uid', new Date(0));
  assert.equal(l.metadata.namespace, 'kube-node-lease');
  assert.equal(l.metadata.ownerReferences[0]!.uid, 'uid');
  assert.equal(l.spec.holderIdentity, 'n1');
});
