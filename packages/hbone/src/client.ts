// The pooled HBONE client: connect() sends one CONNECT on a pooled HTTP/2-over-mTLS connection and
// resolves with the tunnel once the server answered 200.
import { constants, type ClientHttp2Stream, type OutgoingHttpHeaders } from 'node:http2';
import type { Meter } from '@opentelemetry/api';
import { canonicalIp, type Logger } from '@trellis/core';
import { inspectCertificate, parseSvidSpiffeId } from '@trellis/pki';
import { formatAuthority, parseAuthority } from './authority.pure.js';
import {
  connectTcp,
  openConnection,
  type ClientCredentials,
  type OpenConnection,
  type SocketFactory,
} from './connection.js';
import { HboneConnectError, HboneStatusError, rstCodeName } from './errors.js';
import { HboneMetrics } from './metrics.js';
import { ConnectionPool, type Lease } from './pool.js';
import type { TunnelHeaders } from './server-stream.js';
import {
  CONNECT_TIMEOUT_MS,
  HBONE_PORT,
  IDLE_TIMEOUT_MS,
  MAX_STREAMS_PER_CONNECTION,
} from './settings.js';
import { TunnelStream } from './tunnel-stream.js';

export interface HboneClientOptions {
  /** Streams per connection before another is opened. Default 100. */
  readonly maxStreamsPerConnection?: number;
  /** A connection without streams is closed after this long. Default 5 minutes. */
  readonly idleTimeoutMs?: number;
  /** TCP connect plus TLS handshake limit. Default 10 s. */
  readonly connectTimeoutMs?: number;
  /** Makes the TCP socket of each new connection. Default net.connect (bound to sourceIp when given). */
  readonly connectSocket?: SocketFactory;
  readonly meter?: Meter;
  readonly logger?: Logger;
}

export interface ConnectOptions {
  /** The source workload's key, certificate chain and trust bundle; its SPIFFE ID is part of the pool key. */
  readonly source: ClientCredentials;
  /** The SPIFFE ID the server must present. */
  readonly destinationIdentity: string;
  /** Bind the connection to this source IP (the pod IP, in-pod). */
  readonly sourceIp?: string;
  /** The HBONE server's IP (the destination pod, or a waypoint). */
  readonly destinationIp: string;
  /** Default 15008. */
  readonly hbonePort?: number;
  /** Where the server should connect: `ip:port` or `[ipv6]:port`. */
  readonly target: string;
  readonly headers?: TunnelHeaders;
}

/** Source identities remembered (oldest forgotten first). */
const IDENTITY_CACHE_SIZE = 1024;

export class HboneClient {
  readonly #pool: ConnectionPool;
  readonly #metrics: HboneMetrics;
  readonly #options: HboneClientOptions;
  /** Source SPIFFE IDs by certificate chain text (callers build a new credentials object per call). */
  readonly #identities = new Map<string, string>();
  /** The same, by the chain array itself (a ztunnel passes one array per certificate). */
  readonly #identitiesByArray = new WeakMap<readonly string[], string>();

  constructor(options: HboneClientOptions = {}) {
    this.#options = options;
    this.#metrics = new HboneMetrics('outbound', options.meter);
    this.#pool = new ConnectionPool({
      maxStreams: options.maxStreamsPerConnection ?? MAX_STREAMS_PER_CONNECTION,
      idleTimeoutMs: options.idleTimeoutMs ?? IDLE_TIMEOUT_MS,
      onOpened: () => this.#metrics.connectionOpened(),
      onClosed: () => this.#metrics.connectionClosed(),
    });
  }

  /**
   * Opens a tunnel to `target` through the HBONE server at destinationIp:hbonePort. Resolves after
   * the server answered 200; rejects with HboneStatusError (`status`) for any other answer, with
   * HboneConnectError when no connection or stream could be made.
   */
  async connect(options: ConnectOptions): Promise<TunnelStream> {
    const request = this.#validate(options);
    const open = (): Promise<OpenConnection> =>
      openConnection({
        credentials: options.source,
        destinationIdentity: options.destinationIdentity,
        ...(request.sourceIp ? { sourceIp: request.sourceIp } : {}),
        destinationIp: request.destinationIp,
        port: request.port,
        connectSocket: this.#options.connectSocket ?? connectTcp,
        timeoutMs: this.#options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
      });
    // A pooled connection may be going away as the request is sent (GOAWAY in flight): the server
    // then refuses the stream without having seen it, and one retry on a fresh connection is safe.
    for (let attempt = 1; ; attempt++) {
      const lease = this.#pool.acquire(request.key, open);
      let connection: OpenConnection;
      try {
        connection = await lease.connection;
      } catch (err) {
        lease.release();
        throw err;
      }
      try {
        return await this.#request(connection, lease, request.target, options.headers ?? {});
      } catch (err) {
        if (attempt >= 2 || !(err instanceof HboneConnectError) || !err.unprocessed) throw err;
        this.#options.logger?.debug(`${err.message}; retrying`);
      }
    }
  }

  /** Open connections and streams (reserved or open). */
  stats(): { connections: number; streams: number } {
    return this.#pool.stats();
  }

  /** Sends GOAWAY on every connection; resolves when their open streams are done and they closed. */
  close(): Promise<void> {
    return this.#pool.close();
  }

  #request(
    connection: OpenConnection,
    lease: Lease,
    target: string,
    headers: TunnelHeaders,
  ): Promise<TunnelStream> {
    const what = `HBONE CONNECT ${target} via ${connection.via}`;
    let stream: ClientHttp2Stream;
    try {
      stream = connection.session.request(requestHeaders(target, headers), { endStream: false });
    } catch (err) {
      lease.release();
      // The session is closing or closed: nothing was sent.
      return Promise.reject(
        new HboneConnectError(`${what} failed: ${(err as Error).message}`, {
          cause: err,
          unprocessed: true,
        }),
      );
    }
    stream.once('close', () => lease.release());
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        const unprocessed = stream.rstCode === constants.NGHTTP2_REFUSED_STREAM;
        reject(
          new HboneConnectError(`${what} failed: ${err.message}`, { cause: err, unprocessed }),
        );
      };
      const onClose = (): void => {
        const session = connection.session;
        onError(
          new Error(
            session.closed || session.destroyed
              ? 'the connection closed before the server answered (a server closes connections from clients whose certificate it refuses)'
              : `the stream closed before the server answered (RST_STREAM ${rstCodeName(stream.rstCode ?? 0)})`,
          ),
        );
      };
      stream.on('error', onError);
      stream.once('close', onClose);
      stream.once('response', (responseHeaders) => {
        stream.off('error', onError);
        stream.off('close', onClose);
        const status = Number(responseHeaders[':status']);
        if (status !== 200) {
          stream.on('error', () => undefined);
          stream.close(constants.NGHTTP2_CANCEL);
          reject(new HboneStatusError(status, target, connection.via));
          return;
        }
        const tunnel = new TunnelStream(stream, connection.peerIdentity, this.#metrics.bytes);
        this.#metrics.streamOpened();
        tunnel.once('close', () => this.#metrics.streamClosed());
        this.#options.logger?.debug(`${what}: tunnel open`);
        resolve(tunnel);
      });
    });
  }

  #validate(options: ConnectOptions): {
    key: string;
    target: string;
    sourceIp?: string;
    destinationIp: string;
    port: number;
  } {
    const target = parseAuthority(options.target);
    if (!target.ok) throw new TypeError(`HboneClient.connect: target ${target.reason}`);
    const destinationIp = canonicalIp(options.destinationIp);
    if (destinationIp === undefined) {
      throw new TypeError(
        `HboneClient.connect: destinationIp ${JSON.stringify(options.destinationIp)} is not an IP address`,
      );
    }
    const sourceIp = options.sourceIp === undefined ? undefined : canonicalIp(options.sourceIp);
    if (options.sourceIp !== undefined && sourceIp === undefined) {
      throw new TypeError(
        `HboneClient.connect: sourceIp ${JSON.stringify(options.sourceIp)} is not an IP address`,
      );
    }
    const port = options.hbonePort ?? HBONE_PORT;
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new TypeError(`HboneClient.connect: hbonePort ${port} is not a port number (1..65535)`);
    }
    const destinationIdentity = parseSvidSpiffeId(options.destinationIdentity).uri;
    const sourceIdentity = this.#sourceIdentity(options.source);
    return {
      key: JSON.stringify([
        sourceIdentity,
        destinationIdentity,
        sourceIp ?? '',
        destinationIp,
        port,
      ]),
      target: formatAuthority(target.value),
      ...(sourceIp ? { sourceIp } : {}),
      destinationIp,
      port,
    };
  }

  /**
   * The SPIFFE ID in the source certificate (the first of the chain). Parsing a certificate costs
   * milliseconds, so the answer is kept per chain text: a ztunnel opens a tunnel per connection with
   * the same few certificates.
   */
  #sourceIdentity(source: ClientCredentials): string {
    const chain = source.certChain;
    if (typeof chain === 'string') return this.#identityOfChain(chain);
    // The same array each time until the certificate rotates: no joining and hashing of its text.
    let identity = this.#identitiesByArray.get(chain);
    if (identity === undefined) {
      identity = this.#identityOfChain(chain.join('\n'));
      this.#identitiesByArray.set(chain, identity);
    }
    return identity;
  }

  #identityOfChain(chain: string): string {
    const known = this.#identities.get(chain);
    if (known) return known;
    const leaf = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(chain)?.[0];
    if (!leaf)
      throw new TypeError('HboneClient.connect: source.certChain holds no PEM certificate');
    const uris = inspectCertificate(leaf).subjectAltName?.uris ?? [];
    if (uris.length !== 1) {
      throw new TypeError(
        `HboneClient.connect: the source certificate has ${uris.length} URI SANs, expected one SPIFFE ID`,
      );
    }
    const identity = parseSvidSpiffeId(uris[0] as string).uri;
    // Bounded: certificates rotate, and a node hosts a bounded number of identities.
    if (this.#identities.size >= IDENTITY_CACHE_SIZE) {
      this.#identities.delete(this.#identities.keys().next().value as string);
    }
    this.#identities.set(chain, identity);
    return identity;
  }
}

function requestHeaders(target: string, headers: TunnelHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = { ':method': 'CONNECT', ':authority': target };
  if (headers.forwarded !== undefined) out['forwarded'] = headers.forwarded;
  if (headers.traceparent !== undefined) out['traceparent'] = headers.traceparent;
  if (headers.baggage !== undefined) out['baggage'] = headers.baggage;
  return out;
}
