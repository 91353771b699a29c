// Which resource set a connected xDS client gets.
//
// A waypoint identifies itself with an Istio-style node id `waypoint~<ip>~<pod>.<ns>~<ns>.svc.<domain>`;
// its Gateway is named by the pod label `gateway.networking.k8s.io/gateway-name`, read from the node
// metadata `LABELS` (what Istio's proxies send) or else from the pod in the mesh state. Every other
// client (proxyless gRPC, any node id) gets the proxyless set.
import type { JsonObject } from '@bufbuild/protobuf';
import type { Proxy } from '@trellis/xds';
import type { MeshState } from '../../collections/mesh-state.js';
import type { WaypointInfo } from '../../model/waypoint-info.js';
import { LABEL_GATEWAY_NAME } from '../../model/well-known.js';

export const WAYPOINT_NODE_TYPE = 'waypoint';

export type EnvoyProxyRole =
  | { kind: 'proxyless' }
  | { kind: 'waypoint'; waypoint: WaypointInfo }
  | { kind: 'unknown-waypoint'; reason: string };

export function envoyProxyRole(
  state: MeshState,
  proxy: Pick<Proxy, 'istio' | 'metadata'>,
): EnvoyProxyRole {
  const node = proxy.istio;
  if (node?.type !== WAYPOINT_NODE_TYPE) return { kind: 'proxyless' };
  const labels = proxy.metadata['LABELS'];
  const fromMetadata =
    labels && typeof labels === 'object' && !Array.isArray(labels)
      ? (labels as JsonObject)[LABEL_GATEWAY_NAME]
      : undefined;
  const pod = state.workloads.get(
    `${state.options.clusterId}//Pod/${node.namespace}/${node.podName}`,
  );
  const name = typeof fromMetadata === 'string' ? fromMetadata : pod?.labels[LABEL_GATEWAY_NAME];
  if (!name)
    return {
      kind: 'unknown-waypoint',
      reason: `waypoint ${node.id}: no ${LABEL_GATEWAY_NAME} label in node metadata LABELS or on pod ${node.namespace}/${node.podName}`,
    };
  const waypoint = state.waypoints.get(`${node.namespace}/${name}`);
  if (!waypoint)
    return {
      kind: 'unknown-waypoint',
      reason: `waypoint ${node.id}: Gateway ${node.namespace}/${name} is not a waypoint`,
    };
  return { kind: 'waypoint', waypoint };
}
