// The addresses of one in-pod proxy set, kept in step with the state store. ZDS hands ztunnel a
// pod before the pod has an IP in the API (CNI ADD runs before the runtime reports it), so the
// proxies start without addresses and learn them when the control plane sends the workload (see
// pod-workload.ts); a connection to an address not known yet waits for it a little, as upstream
// ztunnel waits for its local workload.
import type { Workload } from '../state/model.js';
import type { StateStore } from '../state/store.js';
import { findPodWorkload, podMatch } from './pod-workload.js';
import type { PodInfo } from './zds-messages.js';

/** How long a connection waits for the pod's workload to name its destination address. */
export const LOCAL_WORKLOAD_WAIT_MS = 5000;

export class PodAddresses {
  /** The pod's IPs; the same array throughout, updated in place. */
  readonly ips: string[] = [];
  #workload: Workload | undefined;
  readonly #unsubscribe: () => void;
  readonly #waiters = new Set<(closing: boolean) => void>();

  constructor(
    store: StateStore,
    pod: PodInfo,
    /** After the IPs changed (also for the first ones). */
    private readonly onChange: (
      before: readonly string[],
      after: readonly string[],
      workload: Workload | undefined,
    ) => void,
  ) {
    this.#set(findPodWorkload(store.workloads(), pod));
    this.#unsubscribe = store.subscribe((change) => {
      const current = this.#workload?.uid;
      const touched =
        change.workloads.removed.some((uid) => uid === current) ||
        change.workloads.upserted.some((uid) => {
          const w = store.workloadByUid(uid);
          return uid === current || (w !== undefined && podMatch(w, pod) > 0);
        });
      if (touched) this.#set(findPodWorkload(store.workloads(), pod));
    });
  }

  /** The pod's workload in the store, if the control plane has sent it. */
  get workload(): Workload | undefined {
    return this.#workload;
  }

  /** Whether `ip` is (or within `ms` becomes) one of the pod's addresses. */
  async waitFor(ip: string, ms = LOCAL_WORKLOAD_WAIT_MS): Promise<boolean> {
    if (this.ips.includes(ip)) return true;
    return new Promise((resolve) => {
      const check = (closing: boolean) => {
        if (closing) done(false);
        else if (this.ips.includes(ip)) done(true);
      };
      const timer = setTimeout(() => done(false), ms);
      const done = (v: boolean) => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve(v);
      };
      this.#waiters.add(check);
    });
  }

  close(): void {
    this.#unsubscribe();
    for (const w of [...this.#waiters]) w(true);
  }

  #set(w: Workload | undefined): void {
    this.#workload = w;
    const next = [...(w?.addresses ?? [])];
    if (next.length === this.ips.length && next.every((ip, i) => ip === this.ips[i])) return;
    const before = [...this.ips];
    this.ips.splice(0, this.ips.length, ...next);
    this.onChange(before, this.ips, w);
    for (const w of [...this.#waiters]) w(false);
  }
}
