// Which certificates ztunnel no longer needs, so the identity manager stops rotating them: in-pod,
// a pod's identity once no other pod on the node has it; in all-workloads mode, a workload's identity once
// no workload in the store has it. Pure.
import { workloadSpiffeId } from '../state/model.js';
import type { StateChange, StateStore } from '../state/store.js';

export interface PodIdentity {
  readonly namespace: string;
  readonly serviceAccount: string;
}

export const podSpiffeId = (trustDomain: string, p: PodIdentity) =>
  `spiffe://${trustDomain}/ns/${p.namespace}/sa/${p.serviceAccount}`;

/** The removed pod's SPIFFE ID when none of the remaining pods shares it. */
export function unusedPodIdentity(
  trustDomain: string,
  removed: PodIdentity,
  remaining: readonly PodIdentity[],
): string | undefined {
  const id = podSpiffeId(trustDomain, removed);
  return remaining.some((p) => podSpiffeId(trustDomain, p) === id) ? undefined : id;
}

/** Counts the workloads of each identity in a store as it changes. */
export class WorkloadIdentities {
  readonly #byUid = new Map<string, string>();
  readonly #count = new Map<string, number>();

  /** Takes in the store's change; returns the identities that no workload has any more. */
  apply(store: StateStore, change: StateChange): string[] {
    const touched = new Set<string>();
    for (const uid of [...change.workloads.removed, ...change.workloads.upserted]) {
      const before = this.#byUid.get(uid);
      if (before !== undefined) {
        this.#byUid.delete(uid);
        this.#count.set(before, (this.#count.get(before) ?? 1) - 1);
        touched.add(before);
      }
      const w = store.workloadByUid(uid);
      if (w) {
        const id = workloadSpiffeId(w);
        this.#byUid.set(uid, id);
        this.#count.set(id, (this.#count.get(id) ?? 0) + 1);
      }
    }
    const unused: string[] = [];
    for (const id of touched) {
      if ((this.#count.get(id) ?? 0) > 0) continue;
      this.#count.delete(id);
      unused.push(id);
    }
    return unused;
  }
}
