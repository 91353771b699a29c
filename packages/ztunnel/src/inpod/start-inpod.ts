// Wires in-pod mode: the ZDS client feeds the manager, which starts one proxy set per pod netns.
import type { Logger } from '@trellis/core';
import type { ZtunnelContext } from '../proxy/context.js';
import { startProxySet } from '../proxy/proxy-set.js';
import { InpodManager } from './pod-manager.js';
import { ZdsClient } from './zds-client.js';

export interface InpodMode {
  readonly manager: InpodManager;
  readonly zds: ZdsClient;
  /** Stops taking requests, then drains and closes every pod's proxies. */
  close(drainMs?: number): Promise<void>;
}

export function startInpodMode(
  ctx: ZtunnelContext,
  opts: { zdsSocket: string; logger: Logger; drainMs?: number },
): InpodMode {
  const manager = new InpodManager({
    logger: opts.logger,
    ...(opts.drainMs !== undefined ? { drainMs: opts.drainMs } : {}),
    ipsOf: (uid) => [...(ctx.store.workloadByUid(uid)?.addresses ?? [])],
    startPod: (pod, ops) => startProxySet(ctx, pod, ops),
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
