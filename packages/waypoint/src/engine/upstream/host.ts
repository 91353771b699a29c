// One upstream host (endpoint) of a cluster: its config, outstanding requests, outlier-detection
// state and its connections. A host keeps its state across EDS updates that keep its address.
import type { EndpointConfig } from '../model/cluster.js';
import type { H1Connection } from './h1-connection.js';
import type { H2Session } from './h2-session.js';

export class Host {
  readonly key: string;
  endpoint: EndpointConfig;
  /** Requests in flight (least-request balancing). */
  active = 0;
  /** False once an EDS update dropped it (connections drain, no new requests). */
  live = true;

  // Outlier detection.
  consecutive5xx = 0;
  consecutiveGatewayFailure = 0;
  consecutiveLocalFailure = 0;
  /** Epoch ms until which the host is ejected; 0 = not ejected. */
  ejectedUntil = 0;
  /** How many times it was ejected (the ejection time multiplier); decays while healthy. */
  ejections = 0;
  intervalTotal = 0;
  intervalFailures = 0;

  // Connections.
  readonly idle: H1Connection[] = [];
  readonly h1: Set<H1Connection> = new Set();
  readonly h2: H2Session[] = [];
  connecting = 0;

  constructor(endpoint: EndpointConfig) {
    this.endpoint = endpoint;
    this.key = hostKey(endpoint);
  }

  get ejected(): boolean {
    return this.ejectedUntil !== 0;
  }

  /** Usable for new requests: listed healthy, not ejected. */
  get healthy(): boolean {
    return this.live && this.endpoint.health === 'healthy' && this.ejectedUntil === 0;
  }

  get address(): string {
    const a = this.endpoint.address;
    return a.includes(':') ? `[${a}]:${this.endpoint.port}` : `${a}:${this.endpoint.port}`;
  }

  /** Open connections (HTTP/1.1 and HTTP/2) and ones being opened. */
  get connections(): number {
    return this.h1.size + this.h2.length + this.connecting;
  }
}

export function hostKey(e: EndpointConfig): string {
  return `${e.address}|${e.port}`;
}
