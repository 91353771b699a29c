// The primary's state store, forwarded to workers: a full snapshot for a (re)started worker, then
// every applied change as an update holding the changed objects. Pure.
import type { StateChange, StateStore, StateUpdate } from '../state/store.js';

/** Everything in the store, as one update for an empty store. */
export function snapshotUpdate(store: StateStore): StateUpdate {
  return {
    upsertWorkloads: store.workloads(),
    upsertServices: store.services(),
    upsertPolicies: store.policies(),
  };
}

/** The update that makes a copy of the store (before `change`) equal to the store after it. */
export function changeUpdate(store: StateStore, change: StateChange): StateUpdate {
  const present = <T>(keys: readonly string[], get: (k: string) => T | undefined): T[] =>
    keys.map(get).filter((v): v is T => v !== undefined);
  return {
    removeWorkloads: change.workloads.removed,
    removeServices: change.services.removed,
    removePolicies: change.policies.removed,
    upsertWorkloads: present(change.workloads.upserted, (k) => store.workloadByUid(k)),
    upsertServices: present(change.services.upserted, (k) => store.serviceByKey(k)),
    upsertPolicies: present(change.policies.upserted, (k) => store.policy(k)),
  };
}
