// Open inbound connections kept under policy: after every change of the mesh state each one is
// decided again, and one no longer allowed (a DENY added, its ALLOW removed, STRICT turned on, its
// destination's waypoint changed) is closed, as upstream ztunnel does, so a long-lived connection
// does not outlive the policy that admitted it.
import type { Logger } from '@trellis/core';
import type { StateStore } from '../state/store.js';
import { decideInbound, type InboundAttempt } from './inbound-policy.js';

/** Why an open connection is closed: the decision's reason and, when a policy decided, its name. */
export interface Revocation {
  readonly reason: string;
  readonly policy?: string;
}

/** "<reason>: <policy>", or the reason alone. */
export function revocationText(r: Revocation): string {
  return r.policy ? `${r.reason}: ${r.policy}` : r.reason;
}

interface Watched {
  readonly attempt: InboundAttempt;
  readonly close: (revoked: Revocation) => void;
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

  /** Watches the connection `key` admitted by `attempt`; `close` ends it, saying why. */
  add(key: object, attempt: InboundAttempt, close: (revoked: Revocation) => void): void {
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
      const revoked: Revocation = d.policy
        ? { reason: d.reason, policy: d.policy }
        : { reason: d.reason };
      this.log.info(
        {
          peer: w.attempt.peerUri ?? w.attempt.sourceIp,
          target: w.attempt.destination,
          reason: revocationText(revoked),
        },
        'open connection closed: no longer allowed',
      );
      w.close(revoked);
    }
  }
}
