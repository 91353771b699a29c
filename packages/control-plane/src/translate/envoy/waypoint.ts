// Resources for a waypoint (plain Envoy v3): one listener on the HBONE port with a filter chain per
// HTTP service port bound to the waypoint (matched by the service VIPs and port), each with RBAC
// filters from the L7 AuthorizationPolicies that apply and routes from the HTTPRoutes/GRPCRoutes
// attached to the Service (GAMMA) or to the waypoint Gateway; clusters and endpoints for every
// backend those routes use. Per service: service-resources.ts; the set: envoy-set.ts.
import type { WaypointInfo } from '../../model/waypoint-info.js';
import { updateSet } from './envoy-set.js';
import type { EnvoyResources } from './resources.js';
import type { EnvoyState } from './state.js';
import { workloadIndex } from './workload-index.js';

export { policiesFor } from './service-resources.js';

/** The waypoint's set, built from nothing (`createEnvoyOutputs` builds it incrementally). */
export function waypointResources(state: EnvoyState, waypoint: WaypointInfo): EnvoyResources {
  return updateSet({ kind: 'waypoint', waypoint: waypoint.key }, state, workloadIndex(state))
    .resources;
}
