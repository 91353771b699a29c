// The Kubernetes objects the control plane reads, as the API server returns them (JSON shapes).
// Core kinds reuse @kubernetes/client-node's types; the CRDs (Istio security, Gateway API) are
// declared here with the fields Trellis reads. Types only: no client is created in this package's
// pure modules.
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

/** Gateway API / Istio policy reference to a target object. */
export interface PolicyTargetReference {
  group?: string;
  kind: string;
  name: string;
  namespace?: string;
  sectionName?: string;
}

/** `security.istio.io/v1` AuthorizationPolicy `spec.rules[].from[].source`. */
export interface AuthorizationSource {
  principals?: string[];
  notPrincipals?: string[];
  requestPrincipals?: string[];
  notRequestPrincipals?: string[];
  namespaces?: string[];
  notNamespaces?: string[];
  serviceAccounts?: string[];
  notServiceAccounts?: string[];
  ipBlocks?: string[];
  notIpBlocks?: string[];
  remoteIpBlocks?: string[];
  notRemoteIpBlocks?: string[];
  [other: string]: unknown;
}

/** `spec.rules[].to[].operation`. */
export interface AuthorizationOperation {
  ports?: string[];
  notPorts?: string[];
  hosts?: string[];
  notHosts?: string[];
  methods?: string[];
  notMethods?: string[];
  paths?: string[];
  notPaths?: string[];
  [other: string]: unknown;
}

/** `spec.rules[].when[]`. */
export interface AuthorizationCondition {
  key: string;
  values?: string[];
  notValues?: string[];
}

export interface AuthorizationRule {
  from?: { source?: AuthorizationSource }[];
  to?: { operation?: AuthorizationOperation }[];
  when?: AuthorizationCondition[];
}

export interface AuthorizationPolicy {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: {
    selector?: { matchLabels?: Record<string, string> };
    targetRef?: PolicyTargetReference;
    targetRefs?: PolicyTargetReference[];
    /** ALLOW (default), DENY, AUDIT or CUSTOM. */
    action?: string;
    provider?: { name?: string };
    rules?: AuthorizationRule[];
  };
}

/** `security.istio.io/v1` RequestAuthentication: JWT validation rules. */
export interface RequestAuthentication {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: {
    selector?: { matchLabels?: Record<string, string> };
    targetRef?: PolicyTargetReference;
    targetRefs?: PolicyTargetReference[];
    jwtRules?: JwtRule[];
  };
}

export interface JwtRule {
  issuer?: string;
  audiences?: string[];
  jwksUri?: string;
  jwks?: string;
  fromHeaders?: { name?: string; prefix?: string }[];
  fromParams?: string[];
  fromCookies?: string[];
  outputPayloadToHeader?: string;
  forwardOriginalToken?: boolean;
  outputClaimToHeaders?: { header?: string; claim?: string }[];
  timeout?: string;
}

/**
 * `networking.istio.io/v1` DestinationRule: the traffic policy of a service's cluster (load
 * balancing, connection pool limits, outlier detection). Subsets are not read.
 */
export interface DestinationRule {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: {
    host?: string;
    trafficPolicy?: TrafficPolicy;
    exportTo?: string[];
  };
}

export interface TrafficPolicy {
  loadBalancer?: {
    simple?: string;
    consistentHash?: {
      httpHeaderName?: string;
      httpCookie?: { name?: string; path?: string; ttl?: string };
      useSourceIp?: boolean;
      httpQueryParameterName?: string;
      ringHash?: { minimumRingSize?: number };
      maglev?: { tableSize?: number };
      minimumRingSize?: number;
    };
  };
  connectionPool?: {
    tcp?: { maxConnections?: number; connectTimeout?: string };
    http?: {
      http1MaxPendingRequests?: number;
      http2MaxRequests?: number;
      maxRequestsPerConnection?: number;
      maxRetries?: number;
      idleTimeout?: string;
      h2UpgradePolicy?: string;
    };
  };
  outlierDetection?: {
    consecutive5xxErrors?: number;
    consecutiveGatewayErrors?: number;
    consecutiveLocalOriginFailures?: number;
    splitExternalLocalOriginErrors?: boolean;
    interval?: string;
    baseEjectionTime?: string;
    maxEjectionPercent?: number;
    minHealthPercent?: number;
  };
}

/** UNSET (inherit), DISABLE, PERMISSIVE or STRICT. */
export type MtlsModeName = 'UNSET' | 'DISABLE' | 'PERMISSIVE' | 'STRICT';

export interface PeerAuthentication {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: {
    selector?: { matchLabels?: Record<string, string> };
    mtls?: { mode?: string };
    /** Keyed by port number (a string in JSON). */
    portLevelMtls?: Record<string, { mode?: string }>;
  };
}

export interface GatewayListener {
  name: string;
  port: number;
  protocol: string;
  hostname?: string;
  allowedRoutes?: {
    namespaces?: { from?: string; selector?: LabelSelector };
    kinds?: { group?: string; kind: string }[];
  };
}

/** `gateway.networking.k8s.io/v1` Gateway. */
export interface Gateway {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: {
    gatewayClassName?: string;
    listeners?: GatewayListener[];
    addresses?: { type?: string; value: string }[];
  };
  status?: {
    addresses?: { type?: string; value: string }[];
  };
}

export interface ParentReference {
  group?: string;
  kind?: string;
  namespace?: string;
  name: string;
  sectionName?: string;
  port?: number;
}

/** `gateway.networking.k8s.io/v1` HTTPRoute; rules are kept as they come for the waypoint translators. */
export interface HTTPRoute {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: {
    parentRefs?: ParentReference[];
    hostnames?: string[];
    rules?: Record<string, unknown>[];
  };
}

/** `gateway.networking.k8s.io/v1` GRPCRoute. */
export interface GRPCRoute {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: {
    parentRefs?: ParentReference[];
    hostnames?: string[];
    rules?: Record<string, unknown>[];
  };
}

/** Everything the control plane knows about one cluster at one moment. Immutable by convention. */
export interface ClusterSnapshot {
  readonly namespaces: readonly Namespace[];
  readonly pods: readonly Pod[];
  readonly services: readonly Service[];
  readonly endpointSlices: readonly EndpointSlice[];
  readonly nodes: readonly Node[];
  readonly serviceAccounts: readonly ServiceAccount[];
  readonly authorizationPolicies: readonly AuthorizationPolicy[];
  readonly peerAuthentications: readonly PeerAuthentication[];
  readonly gateways: readonly Gateway[];
  readonly httpRoutes: readonly HTTPRoute[];
  readonly grpcRoutes: readonly GRPCRoute[];
  /** Read by the waypoint translator only (absent in snapshots built before these kinds). */
  readonly requestAuthentications?: readonly RequestAuthentication[];
  readonly destinationRules?: readonly DestinationRule[];
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
    gateways: [],
    httpRoutes: [],
    grpcRoutes: [],
    requestAuthentications: [],
    destinationRules: [],
  };
}
