// What RBAC permissions and principals look at for one request (or one TCP connection, where the
// HTTP parts are absent). Pure.
import type { HeaderSource } from '../convert/matchers.js';
import type { DynamicMetadata } from '../convert/metadata.js';

export interface AuthzInput {
  /** Request headers and pseudo-headers; undefined for a TCP connection. */
  readonly headers?: HeaderSource;
  /** The request path without the query (normalised as the listener says). */
  readonly urlPath?: string;
  readonly destinationIp: string;
  readonly destinationPort: number;
  /** The TCP peer of the connection (for a waypoint: the HBONE peer). */
  readonly directRemoteIp: string;
  /** The original client, from trusted forwarding information; else the direct peer. */
  readonly remoteIp: string;
  /** The peer's certificate identity: URI SAN (SPIFFE ID), undefined without mutual TLS. */
  readonly peerPrincipal?: string;
  readonly requestedServerName?: string;
  readonly metadata: DynamicMetadata;
}

/** The result of one RBAC engine: matched policy name, if any. */
export interface RbacResult {
  readonly allowed: boolean;
  readonly policy?: string;
}
