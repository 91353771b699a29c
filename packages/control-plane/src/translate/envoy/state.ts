// The input of the Envoy translators: the derived mesh plus what route attachment reads besides it
// (the Gateway API routes and Gateways, and namespace labels for allowedRoutes selectors), and
// what only waypoints read (RequestAuthentications, DestinationRules).
import type { MeshState } from '../../collections/mesh-state.js';
import type {
  Gateway,
  GatewayClass,
  GRPCRoute,
  HTTPRoute,
  ListenerSet,
  ReferenceGrant,
  TCPRoute,
  TLSRoute,
} from '../../model/gateway-api.js';
import type { TlsSecret } from '../../model/secret.js';
import type { BackendTLSPolicy, CaConfigMap } from '../../model/backend-tls-policy.js';
import type { DestinationRule } from '../../model/istio-networking.js';
import type { RequestAuthentication } from '../../model/istio-security.js';
import type { ClusterSnapshot, Namespace } from '../../model/kube.js';

export interface RouteInputs {
  readonly httpRoutes?: readonly HTTPRoute[];
  readonly grpcRoutes?: readonly GRPCRoute[];
  readonly gateways?: readonly Gateway[];
  readonly namespaces?: readonly Namespace[];
  /** JWT rules for waypoints. */
  readonly requestAuthentications?: readonly RequestAuthentication[];
  /** Cluster traffic policies for waypoints. */
  readonly destinationRules?: readonly DestinationRule[];
  /** Ingress gateways: L4 routes, cross-namespace grants, listener certificates. */
  readonly tlsRoutes?: readonly TLSRoute[];
  readonly tcpRoutes?: readonly TCPRoute[];
  readonly referenceGrants?: readonly ReferenceGrant[];
  /** Listeners added to ingress Gateways. */
  readonly listenerSets?: readonly ListenerSet[];
  readonly secrets?: readonly TlsSecret[];
  /** An ingress class whose GatewayClass names another controller is not ours. */
  readonly gatewayClasses?: readonly GatewayClass[];
  /** Ingress gateways: TLS to backends, and the ConfigMaps holding its CAs. */
  readonly backendTLSPolicies?: readonly BackendTLSPolicy[];
  readonly configMaps?: readonly CaConfigMap[];
}

/** A MeshState with the routes; a plain MeshState is valid too (no routes). */
export type EnvoyState = MeshState & RouteInputs;

/**
 * Adds the snapshot's routes, Gateways, namespaces and waypoint policies to a derived state. Call it once per
 * snapshot and serve the result: route attachment and generated resources are cached per state
 * object.
 */
export function withRoutes(
  state: MeshState,
  snapshot: Pick<ClusterSnapshot, 'httpRoutes' | 'grpcRoutes'> &
    Partial<
      Pick<
        ClusterSnapshot,
        | 'gateways'
        | 'namespaces'
        | 'requestAuthentications'
        | 'destinationRules'
        | 'tlsRoutes'
        | 'tcpRoutes'
        | 'referenceGrants'
        | 'listenerSets'
        | 'secrets'
        | 'gatewayClasses'
        | 'backendTLSPolicies'
        | 'configMaps'
      >
    >,
): EnvoyState {
  return {
    ...state,
    httpRoutes: snapshot.httpRoutes,
    grpcRoutes: snapshot.grpcRoutes,
    gateways: snapshot.gateways ?? [],
    namespaces: snapshot.namespaces ?? [],
    requestAuthentications: snapshot.requestAuthentications ?? [],
    destinationRules: snapshot.destinationRules ?? [],
    tlsRoutes: snapshot.tlsRoutes ?? [],
    tcpRoutes: snapshot.tcpRoutes ?? [],
    referenceGrants: snapshot.referenceGrants ?? [],
    listenerSets: snapshot.listenerSets ?? [],
    secrets: snapshot.secrets ?? [],
    gatewayClasses: snapshot.gatewayClasses ?? [],
    backendTLSPolicies: snapshot.backendTLSPolicies ?? [],
    configMaps: snapshot.configMaps ?? [],
  };
}
