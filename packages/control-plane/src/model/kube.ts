// The Kubernetes objects the control plane reads. Core kinds are the API server's JSON shapes
// (@kubernetes/client-node's types), checked at ingest against the fields Trellis reads; the CRDs
// (Gateway API, Istio security and networking) are typed records with the spec's defaults
// (gateway-api.ts, istio-security.ts, istio-networking.ts), made at ingest (ingest/convert). Types only: no client is created in this
// package's pure modules.
import type {
  V1EndpointSlice,
  V1LabelSelector,
  V1Namespace,
  V1Node,
  V1ObjectMeta,
  V1Pod,
  V1Service,
  V1ServiceAccount,
} from '@kubernetes/client-node';
import type {
  Gateway,
  GatewayClass,
  GRPCRoute,
  HTTPRoute,
  ListenerSet,
  ReferenceGrant,
  TCPRoute,
  TLSRoute,
} from './gateway-api.js';
import type { TlsSecret } from './secret.js';
import type { BackendTLSPolicy, CaConfigMap } from './backend-tls-policy.js';
import type { DestinationRule } from './istio-networking.js';
import type {
  AuthorizationPolicy,
  PeerAuthentication,
  RequestAuthentication,
} from './istio-security.js';

/**
 * An object as it arrives over the wire. client-node declares timestamps as `Date`, but watch
 * events and YAML files carry RFC 3339 strings, so both are accepted.
 */
export type Wire<T> = T extends Date
  ? Date | string
  : T extends (infer U)[]
    ? Wire<U>[]
    : T extends object
      ? { [K in keyof T]: Wire<T[K]> }
      : T;

export type ObjectMeta = Wire<V1ObjectMeta>;
export type LabelSelector = Wire<V1LabelSelector>;
export type Namespace = Wire<V1Namespace>;
export type Pod = Wire<V1Pod>;
export type Service = Wire<V1Service>;
export type EndpointSlice = Wire<V1EndpointSlice>;
export type Node = Wire<V1Node>;
export type ServiceAccount = Wire<V1ServiceAccount>;

/**
 * Everything the control plane knows about one cluster at one moment, as admitted by ingest: every
 * object passed the checks of ingest/convert (objects that did not are reported and left out).
 * Immutable by convention.
 */
export interface ClusterSnapshot {
  readonly namespaces: readonly Namespace[];
  readonly pods: readonly Pod[];
  readonly services: readonly Service[];
  readonly endpointSlices: readonly EndpointSlice[];
  readonly nodes: readonly Node[];
  readonly serviceAccounts: readonly ServiceAccount[];
  readonly authorizationPolicies: readonly AuthorizationPolicy[];
  readonly peerAuthentications: readonly PeerAuthentication[];
  /** Read by the waypoint translator only (JWT validation). */
  readonly requestAuthentications: readonly RequestAuthentication[];
  /** Read by the waypoint translator only (cluster traffic policies). */
  readonly destinationRules: readonly DestinationRule[];
  readonly gateways: readonly Gateway[];
  readonly httpRoutes: readonly HTTPRoute[];
  readonly grpcRoutes: readonly GRPCRoute[];
  /** Gateway API experimental routes, read for ingress Gateways only. */
  readonly tlsRoutes: readonly TLSRoute[];
  readonly tcpRoutes: readonly TCPRoute[];
  /** Cross-namespace certificateRefs and backendRefs. */
  readonly referenceGrants: readonly ReferenceGrant[];
  /** Listeners added to ingress Gateways. */
  readonly listenerSets: readonly ListenerSet[];
  /** Listener certificates of ingress Gateways (other Secrets hold no data here). */
  readonly secrets: readonly TlsSecret[];
  /** Which controller owns each class (an ingress class owned by another is not ours). */
  readonly gatewayClasses: readonly GatewayClass[];
  /** TLS the ingress gateways originate to the Services they target. */
  readonly backendTLSPolicies: readonly BackendTLSPolicy[];
  /** CA certificates (`ca.crt`) of BackendTLSPolicies (other keys are not kept). */
  readonly configMaps: readonly CaConfigMap[];
}

export function emptySnapshot(): ClusterSnapshot {
  return {
    namespaces: [],
    pods: [],
    services: [],
    endpointSlices: [],
    nodes: [],
    serviceAccounts: [],
    authorizationPolicies: [],
    peerAuthentications: [],
    requestAuthentications: [],
    destinationRules: [],
    gateways: [],
    httpRoutes: [],
    grpcRoutes: [],
    tlsRoutes: [],
    tcpRoutes: [],
    referenceGrants: [],
    listenerSets: [],
    secrets: [],
    gatewayClasses: [],
    backendTLSPolicies: [],
    configMaps: [],
  };
}

/** A raw object as read from YAML or the API server, before ingest checks it. */
export type RawObject = Readonly<Record<string, unknown>>;

/** The same lists as a ClusterSnapshot, of raw objects not yet checked. */
export type RawClusterSnapshot = { readonly [K in keyof ClusterSnapshot]: readonly RawObject[] };
