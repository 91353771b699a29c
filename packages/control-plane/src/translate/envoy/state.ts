// The input of the Envoy translators: the derived mesh plus the Gateway API routes, which the
// collections do not derive (the translators read them as written).
import type { MeshState } from '../../collections/mesh-state.js';
import type {
  DestinationRule,
  GRPCRoute,
  HTTPRoute,
  RequestAuthentication,
} from '../../model/kube.js';

export interface RouteInputs {
  readonly httpRoutes?: readonly HTTPRoute[];
  readonly grpcRoutes?: readonly GRPCRoute[];
  /** JWT rules for waypoints (security.istio.io RequestAuthentication). */
  readonly requestAuthentications?: readonly RequestAuthentication[];
  /** Cluster traffic policies (networking.istio.io DestinationRule). */
  readonly destinationRules?: readonly DestinationRule[];
}

/** A MeshState with the routes; a plain MeshState is valid too (no routes). */
export type EnvoyState = MeshState & RouteInputs;

/**
 * Adds the snapshot's routes to a derived state. Call it once per snapshot and serve the result:
 * generated resources are cached per state object.
 */
export function withRoutes(state: MeshState, routes: RouteInputs): EnvoyState {
  return {
    ...state,
    httpRoutes: routes.httpRoutes ?? [],
    grpcRoutes: routes.grpcRoutes ?? [],
    requestAuthentications: routes.requestAuthentications ?? [],
    destinationRules: routes.destinationRules ?? [],
  };
}
