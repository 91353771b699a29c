// Envoy xDS v3 resources (LDS, RDS, CDS, EDS; SDS for ingress gateways) for waypoints, ingress
// gateways and proxyless gRPC clients: pure
// translators from the mesh state, plus `generateEnvoy`, the xDS server generator for those types.
import type { GenerateContext, GeneratedResources, Proxy } from '@trellis/xds';
import { createEnvoyOutputs, type EnvoyOutputs } from './envoy-outputs.js';
import { ENVOY_TYPES } from './envoy-types.js';
import type { EnvoyState } from './state.js';

export {
  envoyProxyRole,
  ROUTER_NODE_TYPE,
  WAYPOINT_NODE_TYPE,
  type EnvoyProxyRole,
} from './proxy-role.js';
export { proxylessResources } from './proxyless.js';
export { waypointResources } from './waypoint.js';
export { gatewayResources, sdsSecret } from './gateway-resources.js';
export {
  gatewayDecision,
  ingressGateways,
  isIngressGateway,
  sdsSecretName,
  PROTOCOL_ROUTE_KINDS,
  type GatewayDecision,
  type ListenerDecision,
} from './gateway-listeners.js';
export { workloadIndex } from './workload-index.js';
export { withRoutes, type EnvoyState, type RouteInputs } from './state.js';
export {
  routeAttachments,
  type ParentResult,
  type RouteAttachments,
  type RouteCondition,
  type RouteResult,
} from './route-attachment.js';
export { createEnvoyOutputs, type EnvoyOutputs } from './envoy-outputs.js';
export { updateSet, type EnvoySet, type EnvoySetKind, type PackedEnvoy } from './envoy-set.js';
export type { EnvoyResources } from './resources.js';
export type { EnvoyNote } from './notes.js';
export { clusterName, routeConfigName, WAYPOINT_LISTENER_NAME } from './names.js';
export { envoyResourcesToYaml } from './yaml.js';

/** The type URLs `generateEnvoy` serves. */
export const ENVOY_TYPE_URLS: readonly string[] = ENVOY_TYPES;

const shared = createEnvoyOutputs();

/**
 * xDS generator for the Envoy types: the proxy's set (the waypoint set for a waypoint, else the
 * proxyless set). `outputs` keeps the sets from one state to the next (the pipeline passes its
 * own; by default one shared by the callers of this function). Pure but for that memory.
 */
export function generateEnvoy(
  typeUrl: string,
  state: EnvoyState,
  proxy: Proxy,
  _ctx: GenerateContext,
  outputs: EnvoyOutputs = shared,
): GeneratedResources {
  return outputs.generate(typeUrl, state, proxy);
}
