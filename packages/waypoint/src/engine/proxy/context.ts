// What an exchange knows besides its request: the connection it came on, the filter chain that
// serves it, and the engine's shared services. Roles (waypoint, gateway) fill ConnectionInfo.
import type { Duplex } from 'node:stream';
import type { Logger } from '@trellis/core';
import type { HeaderList } from '../http/headers.pure.js';
import type { HttpProtocol, RequestHead, ResponseHead } from '../http/message.pure.js';
import type { HttpManagerConfig } from '../model/listener.js';
import type { RouteTable } from '../model/route.js';
import type { ClusterRuntime } from '../upstream/cluster.js';
import type { PeerLabels } from '../telemetry/peer.js';
import type { Exchange } from './exchange.js';
import type { MirrorDrops } from './mirror-drops.js';

/** The downstream connection: addresses, identity and where it was headed. */
export interface ConnectionInfo {
  /** TCP peer (for a waypoint: the HBONE client). */
  readonly sourceAddress: string;
  readonly sourcePort: number;
  /** The original client when forwarded by a trusted hop (HBONE `forwarded`), else the peer. */
  readonly remoteAddress: string;
  /** Where the client was going (for a waypoint: the CONNECT target, e.g. a service VIP). */
  readonly destinationAddress: string;
  readonly destinationPort: number;
  /** The proxy's own address the connection reached (DOWNSTREAM_LOCAL_ADDRESS). */
  readonly localAddress: string;
  /** Verified peer identity (SPIFFE URI) under mutual TLS. */
  readonly peerPrincipal?: string;
  readonly sni?: string;
  /** "mutual_tls" or "none", as Istio's connection_security_policy label says. */
  readonly security: 'mutual_tls' | 'none';
  /** Telemetry labels of the client workload (HBONE baggage, identity). */
  readonly peer: PeerLabels;
  /** W3C trace context the connection carried (HBONE traceparent), used when a request has none. */
  readonly traceparent?: string;
}

/** How an exchange answers downstream; implemented by the HTTP/1.1 session and HTTP/2 streams. */
export interface Downstream {
  readonly protocol: HttpProtocol;
  sendInformational(status: number, headers: HeaderList): void;
  sendHead(head: ResponseHead, endStream: boolean, grpc: boolean): void;
  /** false: wait for onDrain. */
  sendData(chunk: Buffer, endStream: boolean): boolean;
  sendTrailers(trailers: HeaderList): void;
  /** Abort the response (HTTP/1.1: close the connection; HTTP/2: RST_STREAM). */
  reset(): void;
  /** Stop / restart delivering request body (upstream back-pressure). */
  pauseRequest(): void;
  resumeRequest(): void;
  /** Called when sendData may continue. */
  setDrainListener(fn: () => void): void;
  /**
   * HTTP/1.1 only: writes the 101 head and hands the connection over as a raw byte stream, with
   * the bytes the client sent after its request head.
   */
  upgrade?(head: ResponseHead): { socket: Duplex; buffered: Buffer | undefined };
}

/** A filter's verdict: continue, or answer locally. */
export interface LocalReply {
  readonly status: number;
  readonly body: string;
  readonly headers?: HeaderList;
  /** Envoy response flag for telemetry (e.g. "UH", "FI"), "-" when none. */
  readonly flag?: string;
  /** response_code_details, e.g. "rbac_access_denied_matched_policy[...]". */
  readonly details: string;
  /** gRPC status to answer a gRPC request with, instead of mapping the HTTP status. */
  readonly grpcStatus?: number;
}

export type FilterResult = LocalReply | undefined | Promise<LocalReply | undefined>;

/** One HTTP filter instance of a chain. */
export interface HttpFilterRuntime {
  readonly name: string;
  /** Disabled unless a route enables it. */
  readonly disabledByDefault: boolean;
  decode(ex: Exchange): FilterResult;
}

/** A filter chain that ends in the HTTP connection manager. */
export interface HttpChain {
  readonly name: string;
  readonly config: HttpManagerConfig;
  readonly filters: readonly HttpFilterRuntime[];
  /** The route table now (RDS updates replace it without touching the chain). */
  routes(): RouteTable | undefined;
}

/** Services shared by every exchange. */
export interface EngineServices {
  cluster(name: string): ClusterRuntime | undefined;
  readonly logger: Logger;
  readonly hostname: string;
  readonly random: () => number;
  /** Telemetry sink: metrics, access log, spans. */
  readonly telemetry: ExchangeObserver;
  /** True while draining: HTTP/1.1 responses say Connection: close. */
  draining(): boolean;
  /** Mirrored copies that could not be delivered (counted and logged). */
  readonly mirrorDrops: MirrorDrops;
}

/** Hears about every exchange once it is over (metrics, access log, tracing). */
export interface ExchangeObserver {
  started(ex: Exchange): void;
  finished(ex: Exchange): void;
}

export type { RequestHead };
