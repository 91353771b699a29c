import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StateStore } from '../state/store.js';
import { workload } from '../test-support/fixtures.js';
import { PodAddresses } from './pod-addresses.js';
import { findPodWorkload, podMatch } from './pod-workload.js';

// What ZDS says about a pod: its Kubernetes uid and workload_info.
const pod = { uid: '5f1c-uid', name: 'web-1', namespace: 'shop', serviceAccount: 'web' };
const wds = (fields: Partial<Parameters<typeof workload>[0]> = {}) =>
  workload({
    uid: 'Kubernetes//Pod/shop/web-1',
    name: 'web-1',
    namespace: 'shop',
    serviceAccount: 'web',
    addresses: ['10.1.0.7'],
    ...fields,
  });

test('the ZDS pod is matched by uid first, else by name, namespace and service account of a Pod workload', () => {
  assert.equal(podMatch(wds(), pod), 1);
  assert.equal(podMatch(workload({ uid: '5f1c-uid', name: 'other' }), pod), 2);
  assert.equal(podMatch(wds({ serviceAccount: 'default' }), pod), 0, 'another identity');
  assert.equal(podMatch(wds({ namespace: 'other' }), pod), 0);
  assert.equal(
    podMatch(wds({ uid: 'Kubernetes/networking.istio.io/WorkloadEntry/shop/web-1' }), pod),
    0,
    'not a pod',
  );
  assert.equal(podMatch(wds(), { ...pod, serviceAccount: '' }), 1, 'ZDS without a service account');
  const byUid = workload({
    uid: '5f1c-uid',
    name: 'web-1',
    namespace: 'shop',
    addresses: ['10.9.9.9'],
  });
  assert.equal(findPodWorkload([wds(), byUid], pod), byUid);
  assert.equal(findPodWorkload([wds({ name: 'web-2' })], pod), undefined);
});

test('the pod addresses follow its WDS workload, and a connection may wait for them', async () => {
  const store = new StateStore();
  const changes: string[][] = [];
  const addrs = new PodAddresses(store, pod, (_before, after) => changes.push([...after]));
  assert.deepEqual(addrs.ips, [], 'CNI ADD comes before the pod has an IP in WDS');
  const waiting = addrs.waitFor('10.1.0.7', 2000);
  const late = addrs.waitFor('10.1.0.8', 50);
  store.apply({
    upsertWorkloads: [workload({ uid: 'Kubernetes//Pod/shop/other', addresses: ['10.1.0.9'] })],
  });
  assert.deepEqual(addrs.ips, [], 'another pod changes nothing');
  store.apply({ upsertWorkloads: [wds()] });
  assert.equal(await waiting, true);
  assert.equal(await late, false, 'an address that never comes times out');
  const ips = addrs.ips;
  assert.deepEqual(ips, ['10.1.0.7']);
  assert.equal(addrs.workload?.uid, 'Kubernetes//Pod/shop/web-1');
  store.apply({ upsertWorkloads: [wds({ addresses: ['10.1.0.7', 'fd00::7'] })] });
  assert.equal(addrs.ips, ips, 'the same array, updated in place');
  assert.deepEqual(ips, ['10.1.0.7', 'fd00::7']);
  store.apply({ removeWorkloads: ['Kubernetes//Pod/shop/web-1'] });
  assert.deepEqual(ips, []);
  assert.deepEqual(changes, [['10.1.0.7'], ['10.1.0.7', 'fd00::7'], []]);
  const pending = addrs.waitFor('10.1.0.7', 5000);
  addrs.close();
  assert.equal(await pending, false, 'closing ends the wait');
  store.apply({ upsertWorkloads: [wds()] });
  assert.deepEqual(ips, [], 'closed: no longer follows the store');
});
