// The in-pod manager: one proxy set per pod netns handed over by the CNI agent. It owns each pod's
// netns fd from add until del (or until the pod is dropped after a snapshot) and closes it after
// the pod's proxies have drained.
import { closeSync, fstatSync } from 'node:fs';
import type { Logger } from '@trellis/core';
import type { SocketOps } from '../proxy/socket-ops.js';
import { netnsSocketOps } from './netns-socket-ops.js';
import type { PodInfo, ZdsRequest } from './zds-messages.js';

/** What the proxy side needs to know about a pod (proxy-set's PodProxySpec); its IPs come from
 * its workload in the state store (pod-addresses.ts). */
export type PodSpec = PodInfo;

export interface RunningPod {
  close(drainMs?: number): Promise<void>;
}

export interface InpodManagerOptions {
  /** Starts the pod's proxies with sockets from `ops` (made for `netnsFd`, which the manager owns). */
  startPod(pod: PodSpec, ops: SocketOps, netnsFd: number): Promise<RunningPod>;
  /** After a pod's proxies stopped; `remaining` are the pods still running. */
  onRemoved?(pod: PodInfo, remaining: readonly PodInfo[]): void;
  logger: Logger;
  /** How long a removed pod's connections may finish. */
  drainMs?: number;
  /** Socket ops for a netns fd; default netnsSocketOps. */
  opsFor?(netnsFd: number): SocketOps;
}

interface Pod {
  info: PodInfo;
  netnsFd: number;
  netnsId: string;
  running: RunningPod;
}

export class InpodManager {
  readonly #opts: InpodManagerOptions;
  readonly #pods = new Map<string, Pod>();
  /** uids named by the snapshot in progress; undefined once SnapshotSent arrived. */
  #snapshot: Set<string> | undefined = new Set();

  constructor(opts: InpodManagerOptions) {
    this.#opts = opts;
  }

  /** uids of the pods with running proxies. */
  get pods(): string[] {
    return [...this.#pods.keys()];
  }

  /** A new ZDS connection starts: its snapshot decides which pods survive. */
  beginSnapshot(): void {
    this.#snapshot = new Set();
  }

  /** Applies one request; throws (the ack carries the message) when it cannot be applied. */
  async handle(request: ZdsRequest): Promise<void> {
    switch (request.kind) {
      case 'add':
        return this.#add(request.pod, request.netnsFd);
      case 'keep':
        if (!this.#snapshot) {
          throw new Error(`keep ${request.uid}: only valid during a snapshot`);
        }
        if (!this.#pods.has(request.uid)) throw new Error(`keep ${request.uid}: unknown pod`);
        this.#snapshot.add(request.uid);
        return;
      case 'del':
        return this.#remove(request.uid, 'del');
      case 'snapshot-sent': {
        const named = this.#snapshot ?? new Set(this.#pods.keys());
        this.#snapshot = undefined;
        const stale = [...this.#pods.keys()].filter((uid) => !named.has(uid));
        await Promise.all(stale.map((uid) => this.#remove(uid, 'not in snapshot')));
        return;
      }
    }
  }

  /** Stops every pod (ztunnel shutdown). */
  async close(drainMs = this.#opts.drainMs): Promise<void> {
    await Promise.all(this.pods.map((uid) => this.#remove(uid, 'shutdown', drainMs)));
  }

  async #add(info: PodInfo, netnsFd: number): Promise<void> {
    let netnsId: string;
    try {
      const st = fstatSync(netnsFd);
      netnsId = `${st.dev}:${st.ino}`;
    } catch (err) {
      closeSync(netnsFd);
      throw new Error(`add ${info.uid}: the netns fd is unusable: ${(err as Error).message}`, {
        cause: err,
      });
    }
    this.#snapshot?.add(info.uid);
    const existing = this.#pods.get(info.uid);
    if (existing && existing.netnsId === netnsId) {
      // Same pod, same namespace (e.g. the agent re-sent it after a reconnect): keep the proxies.
      closeSync(netnsFd);
      return;
    }
    if (existing) await this.#remove(info.uid, 'replaced by a new netns');
    const ops = (this.#opts.opsFor ?? netnsSocketOps)(netnsFd);
    let running: RunningPod;
    try {
      running = await this.#opts.startPod(info, ops, netnsFd);
    } catch (err) {
      closeSync(netnsFd);
      throw new Error(`add ${info.uid}: starting the proxies failed: ${(err as Error).message}`, {
        cause: err,
      });
    }
    this.#pods.set(info.uid, { info, netnsFd, netnsId, running });
    this.#opts.logger.info({ uid: info.uid, pod: `${info.namespace}/${info.name}` }, 'pod added');
  }

  async #remove(uid: string, why: string, drainMs = this.#opts.drainMs): Promise<void> {
    const pod = this.#pods.get(uid);
    if (!pod) {
      if (why === 'del') this.#opts.logger.debug({ uid }, 'del for an unknown pod');
      return;
    }
    this.#pods.delete(uid);
    try {
      await pod.running.close(drainMs);
    } finally {
      closeSync(pod.netnsFd);
      this.#opts.logger.info({ uid, why }, 'pod removed');
      this.#opts.onRemoved?.(
        pod.info,
        [...this.#pods.values()].map((p) => p.info),
      );
    }
  }
}
