// Wires in-pod mode: the ZDS client feeds the manager, which starts one proxy set per pod netns
// (in this process, or listeners here and connections in the workers), and forgets a pod's
// certificate once no other pod on the node uses its identity.
import type { Logger } from '@trellis/core';
import { unusedPodIdentity } from '../identity/unused-identities.js';
import type { ZtunnelContext } from '../proxy/context.js';
import type { ProxySet } from '../proxy/proxy-set.js';
import { startProxySet } from '../proxy/proxy-set.js';
import type { SocketOps } from '../proxy/socket-ops.js';
import type { StateStore } from '../state/store.js';
import { InpodManager, type PodSpec } from './pod-manager.js';
import { ZdsClient } from './zds-client.js';

export interface InpodMode {
  readonly manager: InpodManager;
  readonly zds: ZdsClient;
  /** Stops taking requests, then drains and closes every pod's proxies. */
  close(drainMs?: number): Promise<void>;
}

export interface InpodOptions {
  readonly zdsSocket: string;
  readonly logger: Logger;
  readonly drainMs?: number;
  readonly store: StateStore;
  readonly trustDomain: string;
  /** Starts one pod's proxy set; default startProxySet in this process (needs `ctx`). */
  readonly startPod: (pod: PodSpec, ops: SocketOps, netnsFd: number) => Promise<ProxySet>;
  /** Stops rotating a certificate no pod uses any more. */
  readonly forget: (identity: string) => void;
}

/** In-pod mode with every pod's proxies in this process. */
export function startInpodMode(
  ctx: ZtunnelContext,
  opts: { zdsSocket: string; logger: Logger; drainMs?: number },
): InpodMode {
  return startInpod({
    ...opts,
    store: ctx.store,
    trustDomain: ctx.identity.trustBundle.trustDomain ?? 'cluster.local',
    startPod: (pod, ops) => startProxySet(ctx, pod, ops),
    forget: (identity) => ctx.identity.forget(identity),
  });
}

export function startInpod(opts: InpodOptions): InpodMode {
  const manager = new InpodManager({
    logger: opts.logger,
    ...(opts.drainMs !== undefined ? { drainMs: opts.drainMs } : {}),
    startPod: opts.startPod,
    onRemoved: (pod, remaining) => {
      const unused = unusedPodIdentity(opts.trustDomain, pod, remaining);
      if (unused === undefined) return;
      opts.forget(unused);
      opts.logger.info(
        { identity: unused },
        'no pod uses this identity any more; certificate forgotten',
      );
    },
  });
  const zds = new ZdsClient({ path: opts.zdsSocket, manager, logger: opts.logger }).start();
  return {
    manager,
    zds,
    async close(drainMs) {
      await zds.close();
      await manager.close(drainMs);
    },
  };
}
