// The listener model: filter chains chosen per connection, each ending in an HTTP connection
// manager or a TCP proxy, with the HTTP filters the engine implements.
import type { FaultConfig } from './fault.js';
import type { JwtAuthnConfig } from '../jwt/model.js';
import type { RbacEngine } from '../rbac/compile.js';
import type { RouteTable } from './route.js';
import type { IpPredicate } from '../net/cidr.pure.js';

export interface ChainMatch {
  readonly destinationPort?: number;
  /** Destination IP ranges with their prefix lengths (the longest match wins). */
  readonly prefixRanges: readonly { readonly test: IpPredicate; readonly len: number }[];
  readonly sourcePrefixRanges: readonly { readonly test: IpPredicate; readonly len: number }[];
  readonly sourcePorts: readonly number[];
  readonly serverNames: readonly string[];
  readonly transportProtocol: string;
  readonly applicationProtocols: readonly string[];
}

export type HttpFilterModel =
  | {
      readonly kind: 'rbac';
      readonly name: string;
      readonly rules?: RbacEngine;
      readonly shadow?: RbacEngine;
      readonly shadowStatPrefix: string;
      readonly disabled: boolean;
    }
  | {
      readonly kind: 'fault';
      readonly name: string;
      readonly fault: FaultConfig;
      readonly disabled: boolean;
    }
  | { readonly kind: 'cors'; readonly name: string; readonly disabled: boolean }
  | {
      readonly kind: 'jwt';
      readonly name: string;
      readonly jwt: JwtAuthnConfig;
      readonly disabled: boolean;
    }
  | { readonly kind: 'router'; readonly name: string; readonly disabled: false };

export interface HttpManagerConfig {
  readonly statPrefix: string;
  /** RDS name, or an inline table. */
  readonly routeConfigName?: string;
  readonly routeConfig?: RouteTable;
  readonly filters: readonly HttpFilterModel[];
  /** 'auto' sniffs: the HTTP/2 preface means h2c, anything else HTTP/1.1. */
  readonly codec: 'auto' | 'http1' | 'http2';
  readonly normalizePath: boolean;
  readonly mergeSlashes: boolean;
  /** 0 = none. Envoy's default stream idle timeout is 5 minutes. */
  readonly streamIdleTimeoutMs: number;
  readonly requestTimeoutMs: number;
  /** Keep-alive connection idle timeout (common_http_protocol_options.idle_timeout); 0 = none. */
  readonly idleTimeoutMs: number;
  readonly maxRequestHeadersKb: number;
  readonly generateRequestId: boolean;
  readonly preserveExternalRequestId: boolean;
  readonly serverName: string;
  /** Upgrade types (lowercase) allowed on this listener, e.g. websocket. */
  readonly upgrades: ReadonlySet<string>;
  /** tracing: random sampling 0..1 for requests without a sampling decision; undefined = no tracing config. */
  readonly tracingSampling?: number;
  readonly stripAnyHostPort: boolean;
  /**
   * use_remote_address: the downstream connection's address is the client's, appended to
   * x-forwarded-for (unless skipXffAppend), as at the edge (Istio's gateways).
   */
  readonly useRemoteAddress: boolean;
  readonly skipXffAppend: boolean;
}

export interface TcpProxyConfig {
  readonly statPrefix: string;
  readonly targets: readonly { readonly cluster: string; readonly weight: number }[];
  readonly totalWeight: number;
  readonly idleTimeoutMs: number;
  readonly maxConnectAttempts: number;
}

export type TerminalFilter =
  | { readonly kind: 'http'; readonly http: HttpManagerConfig }
  | { readonly kind: 'tcp'; readonly tcp: TcpProxyConfig };

export interface FilterChainModel {
  readonly name: string;
  readonly match: ChainMatch;
  /** Network RBAC filters before the terminal filter (envoy.filters.network.rbac). */
  readonly networkRbac: readonly { readonly rules?: RbacEngine; readonly shadow?: RbacEngine }[];
  readonly terminal: TerminalFilter;
  /** TLS termination (transport_socket envoy.transport_sockets.tls); absent: raw bytes. */
  readonly tls?: DownstreamTlsModel;
}

/** A DownstreamTlsContext: the certificates to present and the handshake parameters. */
export interface DownstreamTlsModel {
  /** SDS secret names (`kubernetes://<ns>/<name>`), fetched over ADS. */
  readonly sdsCertificates: readonly string[];
  /** Inline certificates (tls_certificates), validated at conversion. */
  readonly inlineCertificates: readonly TlsCertificateModel[];
  /** ALPN protocols offered (empty: no ALPN, so HTTP/1.1). */
  readonly alpn: readonly string[];
  readonly minVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  readonly maxVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  /** OpenSSL cipher list for TLS <= 1.2 (cipher_suites joined), undefined: Node's default. */
  readonly ciphers?: string;
  /** Client certificates are asked for and checked against these CAs (a validation_context). */
  readonly clientValidation?: ClientValidationModel;
}

/** A DownstreamTlsContext's client certificate validation. */
export interface ClientValidationModel {
  /** PEM CA certificates (validation_context.trusted_ca). */
  readonly trustedCa: string;
  /** require_client_certificate: a client without a certificate fails the handshake. */
  readonly requireCertificate: boolean;
  /** trust_chain_verification ACCEPT_UNTRUSTED: a certificate that does not verify is let in. */
  readonly acceptUntrusted: boolean;
}

/** A certificate chain and its private key, PEM, checked to belong together. */
export interface TlsCertificateModel {
  readonly certChain: string;
  readonly privateKey: string;
  /** The leaf's subject alternative names (for /config_dump). */
  readonly dnsNames: readonly string[];
  readonly notAfter: string;
}

export interface ListenerModel {
  readonly name: string;
  readonly address?: { readonly ip: string; readonly port: number };
  readonly chains: readonly FilterChainModel[];
  readonly defaultChain?: FilterChainModel;
}
