// A worker's copy of the store, kept by the updates the primary forwards, stays equal to the
// primary's through upserts, replacements and removals of every kind, sent over JSON as on IPC.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { policy, service, workload } from '../test-support/fixtures.js';
import { StateStore, type StateUpdate } from '../state/store.js';
import { changeUpdate, snapshotUpdate } from './state-forward.js';

const overIpc = (u: StateUpdate) => JSON.parse(JSON.stringify(u)) as StateUpdate;

test('a copy started from a snapshot and fed each change stays equal to the primary store', () => {
  const primary = new StateStore();
  primary.apply({
    upsertWorkloads: [workload({ uid: 'K//Pod/default/a', addresses: ['10.0.0.1'] })],
    upsertServices: [service({ hostname: 'web.default.svc.cluster.local' })],
    upsertPolicies: [policy({ name: 'p1' })],
  });
  const copy = new StateStore();
  copy.apply(overIpc(snapshotUpdate(primary)));
  primary.subscribe((change) => copy.apply(overIpc(changeUpdate(primary, change))));
  assert.deepEqual(copy.dump(), primary.dump());

  primary.apply({
    upsertWorkloads: [
      workload({ uid: 'K//Pod/default/a', addresses: ['10.0.0.9'], serviceAccount: 'a' }),
      workload({ uid: 'K//Pod/default/b', addresses: ['10.0.0.2'] }),
    ],
    upsertPolicies: [policy({ name: 'p2', action: 'Deny' })],
  });
  assert.deepEqual(copy.dump(), primary.dump());
  assert.equal(copy.workloadByAddr('10.0.0.9')?.serviceAccount, 'a');
  assert.equal(copy.workloadByAddr('10.0.0.1'), undefined, 'the old address is gone from the copy');

  primary.apply({
    removeWorkloads: ['K//Pod/default/a'],
    removeServices: ['default/web.default.svc.cluster.local'],
    removePolicies: ['default/p1'],
  });
  assert.deepEqual(copy.dump(), primary.dump());
  assert.deepEqual(
    copy.workloads().map((w) => w.uid),
    ['K//Pod/default/b'],
  );
});
