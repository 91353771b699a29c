// Istio networking.istio.io/v1 DestinationRule as the control plane holds it: checked at ingest
// (ingest/convert). Only the service-level traffic policy is read (load balancing, connection
// pool limits, outlier detection); subsets, TLS and port-level policies are not. Durations and
// enumerations stay as written and are reported where used (a translation note).
import type { Meta } from './gateway-api.js';

export interface ConsistentHash {
  readonly httpHeaderName?: string;
  readonly httpCookie?: { readonly name: string; readonly path?: string; readonly ttl?: string };
  readonly useSourceIp?: boolean;
  readonly httpQueryParameterName?: string;
  readonly ringHash?: { readonly minimumRingSize?: number };
  readonly maglev?: { readonly tableSize?: number };
  /** Deprecated top-level form of `ringHash.minimumRingSize`. */
  readonly minimumRingSize?: number;
}

export interface TrafficPolicy {
  readonly loadBalancer?: {
    /** ROUND_ROBIN, LEAST_REQUEST, LEAST_CONN, RANDOM, ... as written. */
    readonly simple?: string;
    readonly consistentHash?: ConsistentHash;
  };
  readonly connectionPool?: {
    readonly tcp?: { readonly maxConnections?: number; readonly connectTimeout?: string };
    readonly http?: {
      readonly http1MaxPendingRequests?: number;
      readonly http2MaxRequests?: number;
      readonly maxRequestsPerConnection?: number;
      readonly maxRetries?: number;
      readonly idleTimeout?: string;
    };
  };
  readonly outlierDetection?: {
    readonly consecutive5xxErrors?: number;
    readonly consecutiveGatewayErrors?: number;
    readonly consecutiveLocalOriginFailures?: number;
    readonly splitExternalLocalOriginErrors?: boolean;
    readonly interval?: string;
    readonly baseEjectionTime?: string;
    readonly maxEjectionPercent?: number;
    readonly minHealthPercent?: number;
  };
}

export interface DestinationRule {
  readonly metadata: Meta;
  readonly spec: {
    /** The service's FQDN, `<name>.<ns>`, a short name (the rule's namespace) or `*.` wildcard. */
    readonly host: string;
    readonly trafficPolicy: TrafficPolicy;
  };
}
