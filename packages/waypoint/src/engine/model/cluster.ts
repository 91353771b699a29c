// Clusters and their endpoints, as the upstream manager uses them.
import type { MetadataValue } from '../convert/metadata.js';

export type LbPolicy =
  | 'round-robin'
  | 'least-request'
  | 'random'
  | 'ring-hash'
  | 'maglev'
  /** ORIGINAL_DST clusters: the host is where the downstream connection was going. */
  | 'cluster-provided';

export interface CircuitBreakerLimits {
  readonly maxConnections: number;
  readonly maxPendingRequests: number;
  readonly maxRequests: number;
  readonly maxRetries: number;
}

/** Envoy's defaults for the DEFAULT priority. */
export const DEFAULT_LIMITS: CircuitBreakerLimits = {
  maxConnections: 1024,
  maxPendingRequests: 1024,
  maxRequests: 1024,
  maxRetries: 3,
};

export interface OutlierConfig {
  readonly intervalMs: number;
  readonly baseEjectionMs: number;
  readonly maxEjectionMs: number;
  readonly maxEjectionPercent: number;
  readonly consecutive5xx: number;
  /** 0..1 chance that reaching the threshold ejects. */
  readonly enforcingConsecutive5xx: number;
  readonly consecutiveGatewayFailure: number;
  readonly enforcingConsecutiveGatewayFailure: number;
  /** When true, connect failures and resets count separately (consecutive_local_origin_failure). */
  readonly splitLocalOrigin: boolean;
  readonly consecutiveLocalOriginFailure: number;
  readonly enforcingConsecutiveLocalOriginFailure: number;
  readonly enforcingSuccessRate: number;
  readonly successRateMinimumHosts: number;
  readonly successRateRequestVolume: number;
  readonly successRateStdevFactor: number;
  readonly failurePercentageThreshold: number;
  readonly enforcingFailurePercentage: number;
  readonly failurePercentageMinimumHosts: number;
  readonly failurePercentageRequestVolume: number;
}

export type UpstreamProtocol = 'http1' | 'http2' | 'downstream';

export interface ClusterConfig {
  readonly name: string;
  /** The ClusterLoadAssignment name to subscribe to (EDS), or undefined for a static cluster. */
  readonly edsName?: string;
  /**
   * How long the cluster may warm (wait for its first EDS answer) before routes naming it are
   * applied anyway: eds_config.initial_fetch_timeout; unset or 0 = the 15 s default (never forever).
   */
  readonly initialFetchTimeoutMs?: number;
  /** Endpoints given inline (STATIC clusters). */
  readonly staticEndpoints?: EndpointSet;
  readonly connectTimeoutMs: number;
  readonly lbPolicy: LbPolicy;
  readonly leastRequestChoices: number;
  readonly ringSize: { readonly min: number; readonly max: number };
  readonly limits: CircuitBreakerLimits;
  readonly outlier?: OutlierConfig;
  readonly protocol: UpstreamProtocol;
  /** Idle upstream connections are closed after this (ms); Envoy default 1 hour. */
  readonly idleTimeoutMs: number;
  /** 0 = unlimited. */
  readonly maxRequestsPerConnection: number;
  /** Below this share of healthy hosts, all hosts are used (panic mode). 0..1, default 0.5. */
  readonly panicThreshold: number;
  /** Cluster metadata (filter -> struct), e.g. istio.services for telemetry. */
  readonly metadata: ReadonlyMap<string, Record<string, MetadataValue>>;
  /**
   * ORIGINAL_DST: the upstream host is the downstream's destination (a workload-addressed HBONE
   * CONNECT's `podIP:port`). `hosts` (cluster metadata `trellis.original_dst`) says, per IP, how
   * to reach it; an IP it does not list is refused. Undefined hosts: plain TCP to any destination.
   */
  readonly originalDst?: { readonly hosts?: ReadonlyMap<string, OriginalDstHost> };
  /** TLS originated to the endpoint (transport socket `envoy.transport_sockets.tls`). */
  readonly tls?: UpstreamTls;
}

/** A certificate or key: a file in the proxy's filesystem, or PEM given inline. */
export type DataRef = { readonly file: string } | { readonly pem: string };

export interface UpstreamTls {
  readonly sni?: string;
  /** Trusted roots; none: the system's. */
  readonly ca?: DataRef;
  /** Client certificate chain and key (mutual TLS). */
  readonly cert?: DataRef;
  readonly key?: DataRef;
  /** The server certificate must carry one of these (DNS or URI); none: the SNI, if any. */
  readonly sans: readonly { readonly type: 'dns' | 'uri'; readonly value: string }[];
  /** trust_chain_verification ACCEPT_UNTRUSTED: any certificate is accepted. */
  readonly skipVerify: boolean;
  readonly alpn: readonly string[];
}

/** How an original destination IP is reached: HBONE with the identity it must present, or TCP. */
export interface OriginalDstHost {
  readonly hbone: boolean;
  readonly identity?: string;
  readonly workload?: WorkloadLabels;
}

export type HealthStatus = 'healthy' | 'unhealthy' | 'draining' | 'degraded';

export interface EndpointConfig {
  readonly address: string;
  readonly port: number;
  readonly weight: number;
  readonly health: HealthStatus;
  readonly priority: number;
  readonly locality: string;
  /** Reach it through HBONE (endpoint metadata envoy.transport_socket_match {tunnel: hbone}). */
  readonly hbone: boolean;
  /** The SPIFFE ID the endpoint must present (trellis.identity, or istio's workload metadata). */
  readonly identity?: string;
  /** Telemetry: the workload behind it. */
  readonly workload?: WorkloadLabels;
  readonly metadata: ReadonlyMap<string, Record<string, MetadataValue>>;
}

export interface WorkloadLabels {
  readonly name: string;
  readonly namespace: string;
  readonly canonicalService: string;
  readonly canonicalRevision: string;
  readonly cluster: string;
}

export interface EndpointSet {
  readonly clusterName: string;
  readonly endpoints: readonly EndpointConfig[];
}
