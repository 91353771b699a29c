// A rolling update under load: `kubectl rollout restart` of a workload while a pod keeps making
// requests (requestsDuring), then the checks every such test makes: each pod of the workload was
// replaced, enough requests were made, none failed.
import assert from 'node:assert/strict';
import type { Kubectl } from '@trellis/local-cluster';
import { failedRequests, requestsDuring } from './traffic.js';

export interface RolloutUnderLoad {
  readonly kubeconfig: string;
  readonly kubectl: Kubectl;
  /** e.g. "daemonset/ztunnel" in `namespace`. */
  readonly resource: string;
  readonly namespace: string;
  /** Label selector of the workload's pods. */
  readonly selector: string;
  readonly from: { namespace: string; pod: string };
  readonly urls: readonly string[];
  /** Fewer requests than this means the test saw too little to say anything. */
  readonly minRequests: number;
}

/** Runs the rolling update under load and asserts that no request failed; returns how many ran. */
export async function rolloutLosesNoRequest(o: RolloutUnderLoad): Promise<number> {
  const pods = () =>
    o.kubectl
      .getJson('pods', '-n', o.namespace, '-l', o.selector)
      .items.filter(
        (p: { metadata: { deletionTimestamp?: string } }) => !p.metadata.deletionTimestamp,
      )
      .map((p: { metadata: { name: string } }) => p.metadata.name) as string[];
  const before = pods();
  assert.ok(before.length > 0, `${o.resource} has running pods`);
  const out = await requestsDuring(o.kubeconfig, o.kubectl, o.from, o.urls, () => {
    o.kubectl.run(['rollout', 'restart', '-n', o.namespace, o.resource]);
    o.kubectl.run(['rollout', 'status', '-n', o.namespace, o.resource, '--timeout=180s']);
  });
  const after = pods();
  assert.equal(
    after.filter((p) => before.includes(p)).length,
    0,
    `every pod of ${o.resource} was replaced (before ${before.join(', ')}; after ${after.join(', ')})`,
  );
  const failed = failedRequests(out);
  assert.ok(out.length >= o.minRequests, `requests made during the update: ${out.length}`);
  assert.deepEqual(
    failed,
    [],
    `${failed.length} of ${out.length} requests failed during the update`,
  );
  return out.length;
}
