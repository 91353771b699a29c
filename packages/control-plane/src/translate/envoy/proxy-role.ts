// Which resource set a connected xDS client gets.
//
// A waypoint identifies itself with an Istio-style node id `waypoint~<ip>~<pod>.<ns>~<ns>.svc.<domain>`;
// its Gateway is named by the pod label `gateway.networking.k8s.io/gateway-name`, read from the node
// metadata `LABELS` (what Istio's proxies send) or else from the pod in the mesh state. Every other
// client (proxyless gRPC, any node id) gets the proxyless set. An ingress gateway identifies itself
// with Istio's router node id `router~<ip>~<pod>.<ns>~<ns>.svc.<domain>` and the same label, naming
// a Gateway of an ingress class (`gatewayClasses`) in its namespace.
import type { JsonObject } from '@bufbuild/protobuf';
import type { Proxy } from '@trellis/xds';
import { ingressGateways } from './gateway-listeners.js';
import type { EnvoyState } from './state.js';
import type { WaypointInfo } from '../../model/waypoint-info.js';
import { LABEL_GATEWAY_NAME } from '../../model/well-known.js';

export const WAYPOINT_NODE_TYPE = 'waypoint';
/** Istio's node type of gateways. */
export const ROUTER_NODE_TYPE = 'router';

export type EnvoyProxyRole =
  | { kind: 'proxyless' }
  | { kind: 'waypoint'; waypoint: WaypointInfo }
  | { kind: 'gateway'; gateway: string }
  | { kind: 'unknown-waypoint'; reason: string };

export function envoyProxyRole(
  state: EnvoyState,
  proxy: Pick<Proxy, 'istio' | 'metadata'>,
): EnvoyProxyRole {
  const node = proxy.istio;
  if (node?.type !== WAYPOINT_NODE_TYPE && node?.type !== ROUTER_NODE_TYPE)
    return { kind: 'proxyless' };
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
      reason: `${node.type} ${node.id}: no ${LABEL_GATEWAY_NAME} label in node metadata LABELS or on pod ${node.namespace}/${node.podName}`,
    };
  if (node.type === ROUTER_NODE_TYPE) {
    const key = `${node.namespace}/${name}`;
    return ingressGateways(state).has(key)
      ? { kind: 'gateway', gateway: key }
      : {
          kind: 'unknown-waypoint',
          reason: `router ${node.id}: Gateway ${key} is not of a class of this control plane (${state.options.gatewayClasses.join(', ')})`,
        };
  }
  const waypoint = state.waypoints.get(`${node.namespace}/${name}`);
  if (!waypoint)
    return {
      kind: 'unknown-waypoint',
      reason: `waypoint ${node.id}: Gateway ${node.namespace}/${name} is not a waypoint`,
    };
  return { kind: 'waypoint', waypoint };
}
