// The benchmark's synthetic cluster is served as intended, and one pod change repacks to exactly
// one changed Address (what makes the benchmark's delta pushes one resource each).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ADDRESS_TYPE_URL, AUTHORIZATION_TYPE_URL } from '@trellis/api';
import { deriveMeshState } from '../collections/mesh-state.js';
import { changedWdsTypes, packWds, type PackedWds } from '../server/wds-resources.js';
import { translateState } from '../translate/index.js';
import { syntheticCluster, withPodChange } from './synthetic-cluster.js';

const pack = (c: Parameters<typeof deriveMeshState>[0], previous?: PackedWds) =>
  packWds(translateState(deriveMeshState(c)), previous);

function changedNames(before: PackedWds, after: PackedWds): string[] {
  const a = before.get(ADDRESS_TYPE_URL)!;
  return [...after.get(ADDRESS_TYPE_URL)!]
    .filter(([name, r]) => a.get(name) !== r)
    .map(([name]) => name);
}

test('every pod and service is served, with its policies', () => {
  const cluster = syntheticCluster({ pods: 60, services: 30 });
  const state = deriveMeshState(cluster);
  assert.equal(state.workloads.size, 60);
  assert.equal(state.services.size, 30);
  const wds = pack(cluster);
  assert.equal(wds.get(ADDRESS_TYPE_URL)!.size, 90);
  assert.equal(wds.get(AUTHORIZATION_TYPE_URL)!.size, 5);
  for (const w of state.workloads.values())
    assert.equal(Object.keys(w.services).length, 1, `${w.name} backs one service`);
});

test('a readiness flip and an IP change each change exactly one Address', () => {
  let cluster = syntheticCluster({ pods: 60, services: 30 });
  let wds = pack(cluster);
  for (const step of [0, 1, 2, 3]) {
    const next = withPodChange(cluster, step, 30);
    const after = pack(next.cluster, wds);
    const changed = changedNames(wds, after);
    assert.equal(changed.length, 1, `step ${step} (${next.change}) changed ${changed.join(', ')}`);
    assert.match(changed[0]!, new RegExp(`/Pod/${next.pod}$`));
    assert.deepEqual(changedWdsTypes(wds, after), [ADDRESS_TYPE_URL]);
    cluster = next.cluster;
    wds = after;
  }
});

test('bad sizes are refused with the reason', () => {
  assert.throws(() => syntheticCluster({ pods: 5, services: 10 }), /1 <= services <= pods/);
});
