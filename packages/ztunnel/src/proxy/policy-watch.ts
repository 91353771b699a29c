// Open inbound connections kept under policy: after every change of the mesh state each one is
// decided again, and one no longer allowed (a DENY added, its ALLOW removed, STRICT turned on, its
// destination's waypoint changed) is closed, as upstream ztunnel does, so a long-lived connection
// does not outlive the policy that admitted it.
import type { Logger } from '@trellis/core';
import type { StateStore } from '../state/store.js';
import { decideInbound, type InboundAttempt } from './inbound-policy.js';

interface Watched {
  readonly attempt: InboundAttempt;
  readonly close: (reason: string) => void;
}

export class PolicyWatch {
  readonly #open = new Map<object, Watched>();
  readonly #stop: () => void;

  constructor(
    private readonly store: StateStore,
    private readonly log: Logger,
  ) {
    this.#stop = store.subscribe(() => this.#recheck());
  }

  /** Watches the connection `key` admitted by `attempt`; `close` ends it with the reason. */
  add(key: object, attempt: InboundAttempt, close: (reason: string) => void): void {
    this.#open.set(key, { attempt, close });
  }

  delete(key: object): void {
    this.#open.delete(key);
  }

  get size(): number {
    return this.#open.size;
  }

  /** Stops watching (the listeners are closing). */
  stop(): void {
    this.#stop();
    this.#open.clear();
  }

  #recheck(): void {
    for (const [key, w] of this.#open) {
      const d = decideInbound(this.store, w.attempt);
      if (d.allow) continue;
      this.#open.delete(key);
      const reason = d.policy ? `${d.reason}: ${d.policy}` : d.reason;
      this.log.info(
        {
          peer: w.attempt.peerUri ?? w.attempt.sourceIp,
          target: w.attempt.destination,
          reason,
        },
        'open connection closed: no longer allowed',
      );
      w.close(reason);
    }
  }
}
