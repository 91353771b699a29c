// One set of listeners: outbound (15001), inbound HBONE (15008) and inbound plaintext (15006),
// served in this process (--workers 1). In-pod, one set per pod, its sockets opened in the pod's
// netns by the given ops and marked 0x539; in all-workloads mode (local runs and tests) one set in ztunnel's own
// namespace serves every workload.
import type { ZtunnelContext } from './context.js';
import { podAddresses, serveListeners, type ListenAddresses } from './listeners.js';
import {
  podHandlers,
  allWorkloadsHandlers,
  type PodProxySpec,
  type ProxyHandlers,
} from './proxy-handlers.js';
import type { SocketOps } from './socket-ops.js';

export type { ZtunnelContext } from './context.js';
export type { PodProxySpec } from './proxy-handlers.js';
export { DEFAULT_PORTS } from './listeners.js';

export interface ProxySet {
  readonly ports: { outbound: number; inbound: number; inboundPlaintext: number };
  close(drainMs?: number): Promise<void>;
}

/** Where all-workloads-mode listeners bind (host:port each). */
export type AllWorkloadsListenAddresses = ListenAddresses;

/**
 * Starts outbound (15001), inbound HBONE (15008) and inbound plaintext (15006) for one pod with
 * the given socket ops (in-pod: the pod's netns; dedicated mode: this one, at `addresses`).
 */
export async function startProxySet(
  ctx: ZtunnelContext,
  pod: PodProxySpec,
  ops: SocketOps,
  addresses: ListenAddresses = podAddresses(),
): Promise<ProxySet> {
  return serve(podHandlers(ctx, pod, ops), ops, addresses, true);
}

/**
 * All-workloads mode (host netns) for local runs and tests: one set of listeners for every workload in the store;
 * the source workload of an outbound connection is found by the client's address, no marks.
 */
export function startAllWorkloadsProxySet(
  ctx: ZtunnelContext,
  ops: SocketOps,
  addresses: AllWorkloadsListenAddresses,
): Promise<ProxySet> {
  return serve(allWorkloadsHandlers(ctx, ops), ops, addresses, false);
}

function serve(
  handlers: ProxyHandlers,
  ops: SocketOps,
  addresses: ListenAddresses,
  transparent: boolean,
): Promise<ProxySet> {
  return serveListeners(
    ops,
    addresses,
    { transparent },
    (kind, socket) => handlers.handle(kind, socket),
    (drainMs) => handlers.close(drainMs),
  );
}
