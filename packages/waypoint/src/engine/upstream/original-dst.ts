// ORIGINAL_DST clusters: the upstream host is where the downstream connection was headed (for the
// waypoint, a workload-addressed HBONE CONNECT's `podIP:port`). The cluster's table says how each
// destination IP is reached (HBONE and the identity it must present, or plain TCP); an IP outside
// a table is not reached at all. Pure.
import { canonicalIp } from '@trellis/core';
import type { ClusterConfig, EndpointConfig } from '../model/cluster.js';

const NO_METADATA: EndpointConfig['metadata'] = new Map();

/** The endpoint for `address:port` in an ORIGINAL_DST cluster, or undefined when it is not served. */
export function originalDstEndpoint(
  cluster: ClusterConfig,
  address: string,
  port: number,
): EndpointConfig | undefined {
  const table = cluster.originalDst?.hosts;
  const known = table?.get(canonicalIp(address) ?? address);
  if (table && !known) return undefined;
  return {
    address,
    port,
    weight: 1,
    health: 'healthy',
    priority: 0,
    locality: '',
    hbone: known?.hbone ?? false,
    ...(known?.identity !== undefined ? { identity: known.identity } : {}),
    ...(known?.workload ? { workload: known.workload } : {}),
    metadata: NO_METADATA,
  };
}
