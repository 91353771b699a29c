import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod } from '../model/kube.js';
import { canonicalNameOf, canonicalRevisionOf, workloadNameOf } from './pod-meta.js';

const owned = (
  name: string,
  kind: string,
  owner: string,
  labels: Record<string, string> = {},
): Pod => ({
  metadata: {
    name,
    generateName: `${owner}-`,
    labels,
    ownerReferences: [{ apiVersion: 'v1', kind, name: owner, uid: 'u', controller: true }],
  },
});

test('workload names follow the owning controller', () => {
  assert.equal(
    workloadNameOf(
      owned('web-5d8f9-abc', 'ReplicaSet', 'web-5d8f9', { 'pod-template-hash': '5d8f9' }),
    ),
    'web',
  );
  assert.equal(
    workloadNameOf(owned('rs-abc', 'ReplicaSet', 'rs', {})),
    'rs',
    'a bare ReplicaSet keeps its name',
  );
  assert.equal(
    workloadNameOf(owned('nightly-28391040-x', 'Job', 'nightly-28391040')),
    'nightly',
    'CronJob from a timestamped Job',
  );
  assert.equal(workloadNameOf(owned('once-x', 'Job', 'once')), 'once');
  assert.equal(workloadNameOf({ metadata: { name: 'solo' } }), 'solo');
  assert.equal(
    workloadNameOf(
      owned('web-5d8f9-abc', 'ReplicaSet', 'web-5d8f9', {
        'pod-template-hash': '5d8f9',
        'service.istio.io/workload-name': 'front',
      }),
    ),
    'front',
  );
});

test('canonical name and revision fall back through the usual labels', () => {
  assert.equal(
    canonicalNameOf(
      { 'service.istio.io/canonical-name': 'c', 'app.kubernetes.io/name': 'k', app: 'a' },
      'w',
    ),
    'c',
  );
  assert.equal(canonicalNameOf({ 'app.kubernetes.io/name': 'k', app: 'a' }, 'w'), 'k');
  assert.equal(canonicalNameOf({ app: 'a' }, 'w'), 'a');
  assert.equal(canonicalNameOf({}, 'w'), 'w');
  assert.equal(canonicalRevisionOf({ version: 'v2' }), 'v2');
  assert.equal(canonicalRevisionOf({}), 'latest');
});
