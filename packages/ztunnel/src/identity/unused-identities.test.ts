// Which certificates ztunnel may stop rotating: a pod's identity once no other pod on the node has
// it (in-pod), a workload's once no workload in the store has it (shared mode).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { workload } from '../test-support/fixtures.js';
import { StateStore } from '../state/store.js';
import { unusedPodIdentity, WorkloadIdentities } from './unused-identities.js';

const TD = 'cluster.local';

test('in-pod: a removed pod frees its identity only when no remaining pod shares it', () => {
  const a = { namespace: 'default', serviceAccount: 'a' };
  const b = { namespace: 'default', serviceAccount: 'b' };
  const aElsewhere = { namespace: 'other', serviceAccount: 'a' };
  assert.equal(unusedPodIdentity(TD, a, [b, aElsewhere]), 'spiffe://cluster.local/ns/default/sa/a');
  assert.equal(unusedPodIdentity(TD, a, [b, { ...a }]), undefined);
  assert.equal(unusedPodIdentity(TD, a, []), 'spiffe://cluster.local/ns/default/sa/a');
});

test('shared mode: an identity is unused once its last workload left the store or changed account', () => {
  const store = new StateStore();
  const usage = new WorkloadIdentities();
  const apply = (u: Parameters<StateStore['apply']>[0]) => usage.apply(store, store.apply(u));
  const w = (uid: string, serviceAccount: string) =>
    workload({ uid, serviceAccount, addresses: [] });
  assert.deepEqual(apply({ upsertWorkloads: [w('x1', 'x'), w('x2', 'x'), w('y1', 'y')] }), []);
  assert.deepEqual(apply({ removeWorkloads: ['x1'] }), [], 'x2 still has identity x');
  assert.deepEqual(apply({ removeWorkloads: ['x2'] }), ['spiffe://cluster.local/ns/default/sa/x']);
  // y1 changes its service account: y is left without a workload.
  assert.deepEqual(apply({ upsertWorkloads: [w('y1', 'z')] }), [
    'spiffe://cluster.local/ns/default/sa/y',
  ]);
  assert.deepEqual(apply({ removeWorkloads: ['y1', 'unknown'] }), [
    'spiffe://cluster.local/ns/default/sa/z',
  ]);
});
