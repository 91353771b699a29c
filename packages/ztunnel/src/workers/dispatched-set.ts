// A listener set in the primary (--workers > 1): the same three listeners as proxy-set.ts, opened
// with pauseOnConnect so no byte is read here, each accepted socket handed to a worker.
import { podAddresses, serveListeners, type ListenAddresses } from '../proxy/listeners.js';
import type { PodProxySpec } from '../proxy/proxy-handlers.js';
import type { ProxySet } from '../proxy/proxy-set.js';
import type { SocketOps } from '../proxy/socket-ops.js';
import { ALL_WORKLOADS_SET } from './messages.js';
import type { WorkerPool } from './worker-pool.js';

/** One pod's listeners inside its netns (`netnsFd` is the primary's fd, which workers reopen). */
export function startDispatchedPodSet(
  pool: WorkerPool,
  pod: PodProxySpec,
  ops: SocketOps,
  netnsFd: number,
  addresses: ListenAddresses = podAddresses(),
): Promise<ProxySet> {
  return dispatch(pool, pod.uid, { pod, netnsFd }, ops, addresses, true);
}

/** The all-workloads listeners in this netns. */
export function startDispatchedAllWorkloadsSet(
  pool: WorkerPool,
  ops: SocketOps,
  addresses: ListenAddresses,
): Promise<ProxySet> {
  return dispatch(pool, ALL_WORKLOADS_SET, {}, ops, addresses, false);
}

function dispatch(
  pool: WorkerPool,
  key: string,
  spec: { pod?: PodProxySpec; netnsFd?: number },
  ops: SocketOps,
  addresses: ListenAddresses,
  transparent: boolean,
): Promise<ProxySet> {
  // Workers learn of the set first, so the first connection finds it there.
  pool.startSet(key, spec);
  return serveListeners(
    ops,
    addresses,
    { transparent, pauseOnConnect: true },
    (kind, socket) => pool.dispatch(key, kind, socket),
    (drainMs) => pool.stopSet(key, drainMs),
  );
}
