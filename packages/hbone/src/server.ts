// The HBONE server: accepts TCP connections (its own listeners, or sockets handed over with
// handle()), picks the certificate for each connection's original destination IP, runs TLS 1.3 with
// ALPN h2 and a verified client SPIFFE identity, then serves CONNECT streams on an HTTP/2 session.
//
// Each connection gets its own tls.Server built from the certificate chosen for it, and is injected
// with emit('connection'). Node marks a server-side TLSSocket as verified and handshake-complete
// (`authorized`, `secureConnecting`) only when a tls.Server wrapped it; a bare `new TLSSocket`
// would never reach an HTTP/2 session. The handshake starts only after certificateFor resolved.
import { EventEmitter } from 'node:events';
import http2, { type ServerHttp2Session } from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import type { Meter } from '@opentelemetry/api';
import type { Logger } from '@trellis/core';
import { mtlsServerOptions, PeerRejectedError, verifyPeer, type TrustBundle } from '@trellis/pki';
import { canonicalIp, type Endpoint } from './authority.pure.js';
import { HboneMetrics } from './metrics.js';
import {
  dialTcp,
  serveConnect,
  type ConnectDecision,
  type ConnectRequest,
  type Dial,
  type StreamHandlers,
  type Terminate,
  type TunnelStats,
} from './server-stream.js';
import {
  CONNECTION_WINDOW_BYTES,
  DRAIN_MS,
  H2_SETTINGS,
  HANDSHAKE_TIMEOUT_MS,
  MAX_SESSION_MEMORY_MB,
  SERVER_MAX_CONCURRENT_STREAMS,
} from './settings.js';

/** The key and certificate chain (leaf first) the server presents for one destination IP. */
export interface ServerCertificate {
  readonly key: string;
  readonly certChain: string | readonly string[];
}

export interface HboneServerOptions {
  /** Roots that client certificates must chain to; bind it to the trust domain (parseTrustBundle(pem, { trustDomain })). */
  readonly trustBundle: TrustBundle;
  /** The certificate to present on a connection to `destinationIp` (e.g. the identity of the pod owning that IP). */
  readonly certificateFor: (
    destinationIp: string,
  ) => ServerCertificate | Promise<ServerCertificate>;
  /** The original destination of an accepted socket. Default: its local address (ztunnel passes netsys.originalDst). */
  readonly destinationOf?: (socket: net.Socket) => Endpoint | Promise<Endpoint>;
  /** Decides each CONNECT (401 when denied). Default: allow. */
  readonly onConnect?: (request: ConnectRequest) => ConnectDecision | Promise<ConnectDecision>;
  /** Opens the upstream connection (503 when it rejects). Default: TCP to the target, half-open allowed. */
  readonly dial?: Dial;
  /** Serves allowed tunnels in-process instead of dialling (see Terminate); dial is then unused. */
  readonly terminate?: Terminate;
  /** Called once per tunnel that got a 200, when both sides are done. */
  readonly onStreamClosed?: (request: ConnectRequest, stats: TunnelStats) => void;
  readonly handshakeTimeoutMs?: number;
  readonly meter?: Meter;
  readonly logger?: Logger;
}

export interface HboneServerEvents {
  /** A connection was refused before any stream: TLS failure, untrusted or wrong client identity, no certificate. */
  clientError: [error: Error, socket: net.Socket];
}

export class HboneServer extends EventEmitter<HboneServerEvents> {
  readonly #options: HboneServerOptions;
  readonly #handlers: StreamHandlers;
  readonly #metrics: HboneMetrics;
  readonly #listeners: net.Server[] = [];
  /** Accepted sockets without an HTTP/2 session yet (waiting for a certificate or in the handshake). */
  readonly #handshaking = new Set<net.Socket>();
  readonly #sessions = new Set<ServerHttp2Session>();
  readonly #refused = new WeakSet<net.Socket>();
  #closing = false;

  constructor(options: HboneServerOptions) {
    super();
    this.#options = options;
    this.#metrics = new HboneMetrics('inbound', options.meter);
    this.#handlers = {
      onConnect: options.onConnect ?? (() => ({ allow: true })),
      dial: options.dial ?? dialTcp,
      ...(options.terminate ? { terminate: options.terminate } : {}),
      metrics: this.#metrics,
      ...(options.onStreamClosed ? { onStreamClosed: options.onStreamClosed } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
    };
  }

  /** Listens with a new TCP listener (any net.ListenOptions, including { fd }); call again for more addresses. */
  listen(options: net.ListenOptions): Promise<net.AddressInfo> {
    if (this.#closing) return Promise.reject(new Error('HboneServer.listen: the server is closed'));
    const listener = net.createServer((socket) => this.handle(socket));
    this.#listeners.push(listener);
    return new Promise((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(options, () => {
        listener.off('error', reject);
        resolve(listener.address() as net.AddressInfo);
      });
    });
  }

  /** Serves a TCP connection accepted elsewhere (e.g. on a listener created inside a pod netns). */
  handle(socket: net.Socket): void {
    if (this.#closing) {
      socket.destroy();
      return;
    }
    holdReading(socket);
    this.#handshaking.add(socket);
    socket.once('close', () => this.#handshaking.delete(socket));
    // Errors after the handshake reach the TLS socket and the HTTP/2 session; these are the ones before.
    socket.on('error', (err) => {
      if (this.#handshaking.has(socket)) this.#refuse(err, socket);
    });
    this.#accept(socket).catch((err: Error) => this.#refuse(err, socket));
  }

  /** Open HTTP/2 sessions (connections past the handshake). */
  get connections(): number {
    return this.#sessions.size;
  }

  /**
   * Graceful shutdown: stops accepting, drops connections still in their handshake, sends GOAWAY on
   * every session and lets open streams finish; after `drainMs` whatever is left is closed.
   */
  async close(options: { drainMs?: number } = {}): Promise<void> {
    this.#closing = true;
    const listenersClosed = this.#listeners.map(
      (l) => new Promise<void>((resolve) => l.close(() => resolve())),
    );
    for (const socket of this.#handshaking) socket.destroy();
    const sessionsClosed = [...this.#sessions].map(
      (session) =>
        new Promise<void>((resolve) => {
          if (session.destroyed) resolve();
          else session.once('close', () => resolve());
          session.close();
        }),
    );
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, options.drainMs ?? DRAIN_MS);
    });
    await Promise.race([Promise.all(sessionsClosed), deadline]);
    clearTimeout(timer);
    for (const session of this.#sessions) session.destroy();
    await Promise.all([...sessionsClosed, ...listenersClosed]);
  }

  async #accept(socket: net.Socket): Promise<void> {
    const source = endpoint(socket.remoteAddress, socket.remotePort, 'remote address');
    const destination = await this.#destinationOf(socket);
    const certificate = await this.#options.certificateFor(destination.address);
    if (socket.destroyed || this.#closing) {
      socket.destroy();
      return;
    }
    const tlsServer = tls.createServer({
      ...mtlsServerOptions({ ...certificate, trustBundle: this.#options.trustBundle }),
      // Refused chains are reported by verifyPeer below, in words rather than as a bare reset.
      rejectUnauthorized: false,
      ALPNProtocols: ['h2'],
      handshakeTimeout: this.#options.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS,
    });
    tlsServer.on('tlsClientError', (err) => this.#refuse(err, socket));
    tlsServer.on('secureConnection', (tlsSocket: tls.TLSSocket) => {
      if (tlsSocket.alpnProtocol !== 'h2') {
        this.#refuse(
          new Error(
            `the client did not negotiate ALPN "h2" (got ${String(tlsSocket.alpnProtocol)})`,
          ),
          socket,
          tlsSocket,
        );
        return;
      }
      const check = verifyPeer(tlsSocket, { trustBundle: this.#options.trustBundle });
      if (!check.ok) {
        this.#refuse(new PeerRejectedError(check.reason), socket, tlsSocket);
        return;
      }
      if (this.#closing) {
        tlsSocket.destroy();
        return;
      }
      this.#handshaking.delete(socket);
      this.#serve(tlsSocket, { peer: check.spiffeId, source, destination });
    });
    tlsServer.emit('connection', socket);
  }

  #serve(tlsSocket: tls.TLSSocket, connection: Parameters<typeof serveConnect>[2]): void {
    const session = http2.performServerHandshake(tlsSocket, {
      settings: { ...H2_SETTINGS, maxConcurrentStreams: SERVER_MAX_CONCURRENT_STREAMS },
      maxSessionMemory: MAX_SESSION_MEMORY_MB,
    });
    session.setLocalWindowSize(CONNECTION_WINDOW_BYTES);
    this.#sessions.add(session);
    this.#metrics.connectionOpened();
    this.#options.logger?.debug(
      `HBONE connection from ${connection.peer.uri} at ${connection.source.address}`,
    );
    session.on('error', (err) => this.#options.logger?.debug({ err }, 'HBONE session error'));
    session.once('close', () => {
      this.#sessions.delete(session);
      this.#metrics.connectionClosed();
    });
    session.on('stream', (stream, headers) => {
      serveConnect(stream, headers, connection, this.#handlers).catch((err: Error) => {
        this.#options.logger?.warn({ err }, 'HBONE stream handler failed');
        stream.destroy();
      });
    });
  }

  async #destinationOf(socket: net.Socket): Promise<Endpoint> {
    if (!this.#options.destinationOf)
      return endpoint(socket.localAddress, socket.localPort, 'local address');
    const found = await this.#options.destinationOf(socket);
    return endpoint(found.address, found.port, 'destination');
  }

  #refuse(err: Error, socket: net.Socket, tlsSocket?: tls.TLSSocket): void {
    if (this.#refused.has(socket)) return;
    this.#refused.add(socket);
    tlsSocket?.destroy();
    socket.destroy();
    if (this.#closing) return;
    this.#options.logger?.debug({ err }, 'HBONE connection refused');
    this.emit('clientError', err, socket);
  }
}

/**
 * Stops `socket` reading until the TLS layer takes it over (it starts reading again itself), so the
 * ClientHello stays in the kernel while the certificate is looked up. Bytes read before the wrap
 * would be fed to TLS from JS, which leaves it with small receive buffers (1 KiB and 16 KiB in
 * turn) for the whole connection: ~8 KiB per read instead of ~38 KiB, four times the read calls
 * (measured on loopback). Node does the same for a listener's `pauseOnConnect`; a socket that
 * already holds bytes is left as it is.
 */
function holdReading(socket: net.Socket): void {
  const handle = (socket as unknown as { _handle?: { reading?: boolean; readStop?(): number } })
    ._handle;
  if (!handle?.readStop || socket.readableLength > 0) return;
  handle.reading = false;
  handle.readStop();
}

function endpoint(address: string | undefined, port: number | undefined, what: string): Endpoint {
  const ip = address === undefined ? undefined : canonicalIp(address);
  if (ip === undefined || port === undefined) {
    throw new Error(
      `the connection's ${what} is unknown or not an IP (${String(address)}:${String(port)}); is the socket connected?`,
    );
  }
  return { address: ip, port };
}
