// The HBONE server: accepts TCP connections (its own listeners, or sockets handed over with
// handle()), picks the certificate for each connection's original destination IP, runs TLS 1.3 with
// ALPN h2 and a verified client SPIFFE identity, then serves CONNECT streams on an HTTP/2 session.
//
// Each connection is injected with emit('connection') into the tls.Server of the certificate chosen
// for it (one kept per certificate). Node marks a server-side TLSSocket as verified and
// handshake-complete (`authorized`, `secureConnecting`) only when a tls.Server wrapped it; a bare
// `new TLSSocket` would never reach an HTTP/2 session. The handshake starts only after
// certificateFor resolved.
import { constants } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import http2, { type ServerHttp2Session } from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import type { Meter } from '@opentelemetry/api';
import { canonicalIp, type Logger } from '@trellis/core';
import { mtlsServerOptions, PeerRejectedError, verifyPeer, type TrustBundle } from '@trellis/pki';
import type { Endpoint } from './authority.pure.js';
import type { ConnectionBudget } from './connection-budget.js';
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
  CLOSE_GRACE_MS,
  CONNECTION_WINDOW_BYTES,
  DRAIN_MS,
  H2_SETTINGS,
  HANDSHAKE_TIMEOUT_MS,
  MAX_SESSION_MEMORY_MB,
  SERVER_IDLE_TIMEOUT_MS,
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
  /**
   * A connection with no open stream for this long is sent GOAWAY and closed (also one whose
   * client never finished the HTTP/2 preface). Default 10 minutes.
   */
  readonly idleTimeoutMs?: number;
  /** A cap on accepted connections, shared with other servers (e.g. every pod of one ztunnel). */
  readonly budget?: ConnectionBudget;
  readonly meter?: Meter;
  readonly logger?: Logger;
}

export interface HboneServerEvents {
  /** A connection was refused before any stream: TLS failure, untrusted or wrong client identity, no certificate, connection cap reached. */
  clientError: [error: Error, socket: net.Socket];
}

/** A connection in its TLS handshake, and what its outcome does. */
interface Handshake {
  readonly socket: net.Socket;
  readonly secure: (tlsSocket: tls.TLSSocket) => void;
  readonly failed: (err: Error) => void;
}

export class HboneServer extends EventEmitter<HboneServerEvents> {
  readonly #options: HboneServerOptions;
  readonly #handlers: StreamHandlers;
  readonly #metrics: HboneMetrics;
  readonly #listeners: net.Server[] = [];
  /** Every accepted TCP socket still open, so nothing outlives close(). */
  readonly #sockets = new Set<net.Socket>();
  /** Accepted sockets without an HTTP/2 session yet (waiting for a certificate or in the handshake). */
  readonly #handshaking = new Set<net.Socket>();
  readonly #sessions = new Set<ServerHttp2Session>();
  readonly #refused = new WeakSet<net.Socket>();
  /** A tls.Server per certificate (see #keptTlsServer). */
  readonly #tlsServers = new WeakMap<readonly string[], { key: string; server: tls.Server }>();
  /** Connections in their TLS handshake on a kept tls.Server, by their addresses. */
  readonly #handshakes = new Map<string, Handshake>();
  /** close() called: sessions get GOAWAY (new ones after their first stream). */
  #draining = false;
  /** Past close()'s accepting period: new connections are refused. */
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
    const listener = net.createServer({ noDelay: true }, (socket) => this.handle(socket));
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
    const budget = this.#options.budget;
    if (budget && !budget.acquire()) {
      this.#metrics.refused('limit');
      socket.destroy();
      this.emit(
        'clientError',
        new Error(
          `connection refused: the cap of ${budget.max} inbound HBONE connections is reached`,
        ),
        socket,
      );
      return;
    }
    // HTTP/2 has no use for a TCP half-close: a client's FIN ends the connection. Listeners that
    // also carry plain TCP relays (ztunnel's) accept half-open sockets, and TLS inherits that, so
    // a session whose client vanished would otherwise stay open until the idle timeout.
    socket.allowHalfOpen = false;
    holdReading(socket);
    this.#sockets.add(socket);
    this.#handshaking.add(socket);
    socket.once('close', () => {
      this.#sockets.delete(socket);
      this.#handshaking.delete(socket);
      budget?.release();
    });
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
   * Graceful shutdown. Every session gets GOAWAY and its open streams may finish. For the first
   * `acceptMs` (default 0) new connections are still taken, each session told GOAWAY once its first
   * stream arrives: peers whose endpoint lists still name this server (a pod being deleted stays
   * in them for a moment) are served rather than refused, and move on. Then the listeners close and
   * connections still in their handshake are dropped; after `drainMs` (counted from the call) every
   * connection left is closed, whatever state it is in (a client that sent part of the HTTP/2
   * preface and stopped reading would otherwise keep its session from ever closing).
   */
  async close(options: { drainMs?: number; acceptMs?: number } = {}): Promise<void> {
    const drainMs = options.drainMs ?? DRAIN_MS;
    const deadlineAt = Date.now() + drainMs;
    this.#draining = true;
    for (const session of this.#sessions) session.close();
    const acceptMs = Math.min(options.acceptMs ?? 0, drainMs);
    if (acceptMs > 0) await new Promise((resolve) => setTimeout(resolve, acceptMs));
    this.#closing = true;
    const listenersClosed = this.#listeners.map(
      (l) => new Promise<void>((resolve) => l.close(() => resolve())),
    );
    for (const socket of this.#handshaking) socket.destroy();
    for (const session of this.#sessions) session.close();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, deadlineAt - Date.now()));
    });
    await Promise.race([this.#socketsClosed(), deadline]);
    clearTimeout(timer);
    for (const session of this.#sessions) session.destroy();
    for (const socket of this.#sockets) socket.destroy();
    await Promise.all([this.#socketsClosed(), ...listenersClosed]);
  }

  /** Resolves when every accepted socket open now has emitted 'close' (it then leaves #sockets). */
  #socketsClosed(): Promise<void> {
    return Promise.all([...this.#sockets].map((s) => once(s, 'close'))).then(() => undefined);
  }

  async #accept(socket: net.Socket): Promise<void> {
    const source = endpoint(socket.remoteAddress, socket.remotePort, 'remote address');
    const destination = await this.#destinationOf(socket);
    const certificate = await this.#options.certificateFor(destination.address);
    if (socket.destroyed || this.#closing) {
      socket.destroy();
      return;
    }
    const handshake: Handshake = {
      socket,
      failed: (err) => this.#refuse(err, socket),
      secure: (tlsSocket) => this.#secured(tlsSocket, socket, source, destination),
    };
    const kept = this.#keptTlsServer(certificate);
    const at = kept && addressesOf(socket);
    if (kept && at && !this.#handshakes.has(at)) {
      this.#handshakes.set(at, handshake);
      socket.once('close', () => {
        if (this.#handshakes.get(at) !== handshake) return;
        this.#handshakes.delete(at);
        handshake.failed(new Error('the client closed the connection during the TLS handshake'));
      });
      kept.emit('connection', socket);
      return;
    }
    // A chain given as one string, or a second handshake between the same addresses at once (in
    // another network namespace): a tls.Server of its own.
    const own = this.#createTlsServer(certificate);
    own.on('tlsClientError', handshake.failed);
    own.on('secureConnection', handshake.secure);
    own.emit('connection', socket);
  }

  /**
   * The tls.Server for `certificate`, kept per chain array (what the identity manager hands out
   * once per certificate; a rotated certificate is a new array and its server goes with the old
   * one) and used only with the key it was made with. node:tls builds a TLS context per tls.Server
   * (milliseconds of CPU: the key and chain parsed again); a kept one serves every connection to
   * that certificate, each handed back to its own handshake by the connection's addresses.
   */
  #keptTlsServer(certificate: ServerCertificate): tls.Server | undefined {
    if (typeof certificate.certChain === 'string') return undefined;
    const kept = this.#tlsServers.get(certificate.certChain);
    if (kept?.key === certificate.key) return kept.server;
    const server = this.#createTlsServer(certificate);
    server.on('secureConnection', (tlsSocket: tls.TLSSocket) => {
      const handshake = this.#handshakeOf(tlsSocket);
      if (handshake) handshake.secure(tlsSocket);
      else tlsSocket.destroy();
    });
    server.on('tlsClientError', (err, tlsSocket) => {
      // Not found: the connection is gone (its close reports it); nothing else is waiting.
      this.#handshakeOf(tlsSocket)?.failed(err);
      tlsSocket.destroy();
    });
    this.#tlsServers.set(certificate.certChain, { key: certificate.key, server });
    return server;
  }

  /** The handshake waiting for this TLS socket's connection, taken off the waiting list. */
  #handshakeOf(tlsSocket: tls.TLSSocket): Handshake | undefined {
    const at = addressesOf(tlsSocket);
    const handshake = at === undefined ? undefined : this.#handshakes.get(at);
    if (!handshake || handshake.socket.destroyed) return undefined;
    this.#handshakes.delete(at!);
    return handshake;
  }

  #createTlsServer(certificate: ServerCertificate): tls.Server {
    return tls.createServer({
      ...mtlsServerOptions({ ...certificate, trustBundle: this.#options.trustBundle }),
      // Refused chains are reported by verifyPeer below, in words rather than as a bare reset.
      rejectUnauthorized: false,
      ALPNProtocols: ['h2'],
      handshakeTimeout: this.#options.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS,
      // No resumption: every connection presents its client certificate and has it checked (a
      // kept server would otherwise take back its own session tickets).
      secureOptions: constants.SSL_OP_NO_TICKET,
    });
  }

  /** The TLS handshake of `socket` succeeded: checks ALPN and the client's identity, then serves. */
  #secured(
    tlsSocket: tls.TLSSocket,
    socket: net.Socket,
    source: Endpoint,
    destination: Endpoint,
  ): void {
    if (tlsSocket.alpnProtocol !== 'h2') {
      this.#refuse(
        new Error(`the client did not negotiate ALPN "h2" (got ${String(tlsSocket.alpnProtocol)})`),
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
    this.#serve(tlsSocket, socket, { peer: check.spiffeId, source, destination });
  }

  #serve(
    tlsSocket: tls.TLSSocket,
    socket: net.Socket,
    connection: Parameters<typeof serveConnect>[2],
  ): void {
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
    // Idle: no open stream for idleTimeoutMs (from the start, or since the last stream closed).
    const idleMs = this.#options.idleTimeoutMs ?? SERVER_IDLE_TIMEOUT_MS;
    let streams = 0;
    let idle: NodeJS.Timeout | undefined;
    const armIdle = () => {
      idle = setTimeout(() => this.#closeIdle(session, socket, connection.peer.uri), idleMs);
      idle.unref();
    };
    armIdle();
    // A session whose peer never finished the preface may never emit 'close' once its socket is
    // cut, so the socket's own close ends it too.
    const ended = () => {
      clearTimeout(idle);
      if (!this.#sessions.delete(session)) return;
      this.#metrics.connectionClosed();
      if (!session.destroyed) session.destroy();
    };
    session.once('close', ended);
    socket.once('close', ended);
    session.on('stream', (stream, headers) => {
      if (streams++ === 0) clearTimeout(idle);
      // Draining: this stream is served, the client takes the next ones elsewhere.
      if (this.#draining && !session.closed) session.close();
      stream.once('close', () => {
        if (--streams === 0 && !session.closed && !session.destroyed) armIdle();
      });
      serveConnect(stream, headers, connection, this.#handlers).catch((err: Error) => {
        this.#options.logger?.warn({ err }, 'HBONE stream handler failed');
        stream.destroy();
      });
    });
  }

  /** GOAWAY to an idle connection; cut it if the client has not closed it shortly after. */
  #closeIdle(session: ServerHttp2Session, socket: net.Socket, peer: string): void {
    this.#metrics.idleClosed();
    this.#options.logger?.debug(`HBONE connection from ${peer} idle: closing it`);
    session.close();
    setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
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

/**
 * Both ends of a TCP connection, as one key: unique among a host's open connections but for
 * network namespaces with the same addresses. A TLS socket reports those of the socket it wraps.
 */
function addressesOf(socket: net.Socket): string | undefined {
  const { localAddress, localPort, remoteAddress, remotePort } = socket;
  if (localAddress === undefined || remoteAddress === undefined) return undefined;
  return `${localAddress} ${localPort} ${remoteAddress} ${remotePort}`;
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
