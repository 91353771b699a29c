// Istio networking.istio.io/v1 DestinationRule as the control plane holds it: checked at ingest
// (ingest/convert). The traffic policy (load balancing, connection pool limits, outlier detection,
// TLS origination) with its port-level settings; subsets are kept by name only, to say they are
// ignored (VirtualService, which selects them, is not read). Durations and enumerations stay as
// written and are reported where used (a translation note).
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

/** Client TLS towards the destination (`trafficPolicy.tls`). */
export interface ClientTls {
  /** DISABLE, SIMPLE, MUTUAL, ISTIO_MUTUAL as written. */
  readonly mode: string;
  readonly sni?: string;
  /** File paths in the waypoint's pod (Envoy's file data sources). */
  readonly caCertificates?: string;
  readonly clientCertificate?: string;
  readonly privateKey?: string;
  /** A Secret name instead of files: not supported (no SDS), reported. */
  readonly credentialName?: string;
  readonly subjectAltNames: readonly string[];
  readonly insecureSkipVerify?: boolean;
}

/** The parts of a traffic policy a port-level setting may override. */
export interface PortTrafficPolicy {
  readonly loadBalancer?: TrafficPolicy['loadBalancer'];
  readonly connectionPool?: TrafficPolicy['connectionPool'];
  readonly outlierDetection?: TrafficPolicy['outlierDetection'];
  readonly tls?: ClientTls;
}

export interface TrafficPolicy {
  readonly tls?: ClientTls;
  /** Per service port (`port.number`): each field set replaces the top-level one. */
  readonly portLevelSettings?: readonly (PortTrafficPolicy & { readonly port: number })[];
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
    /** Subset names (ignored: only VirtualService routes select subsets). */
    readonly subsets: readonly string[];
  };
}
