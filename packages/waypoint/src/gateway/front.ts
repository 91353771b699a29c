// The gateway's front door: one plain TCP server per Listener the control plane sends
// (`0.0.0.0_<port>` bound to its address), opened and closed as listeners come and go. Each
// connection gets Envoy's tls_inspector treatment when the listener's chains need it (SNI and
// ALPN read from the ClientHello, nothing consumed), then the filter chain is chosen by port,
// server name (exact, then the longest `*.` wildcard), transport protocol and ALPN, and the
// connection is served: TLS terminated with the chain's certificate then HTTP (HTTP/1.1 or h2 by
// ALPN) or TCP, or passed through untouched (TLS passthrough, TCP). No chain: closed.
import net from 'node:net';
import { once } from 'node:events';
import tls from 'node:tls';
import type { Logger } from '@trellis/core';
import type { ChainRuntime, Engine } from '../engine/engine.js';
import type { ClientValidationModel, ListenerModel } from '../engine/model/listener.js';
import type { ConnectionInfo } from '../engine/proxy/context.js';
import type { PeerLabels } from '../engine/telemetry/peer.js';
import { inspectClientHello } from './client-hello.pure.js';
import { TlsContexts } from './tls-contexts.js';

/** Envoy's listener_filters_timeout: the ClientHello and the handshake must finish within it. */
export const HANDSHAKE_TIMEOUT_MS = 15_000;

export interface GatewayFrontOptions {
  readonly engine: Engine;
  readonly logger: Logger;
  /** Telemetry labels of the gateway itself (Istio's source_* labels with reporter="source"). */
  readonly self: PeerLabels;
  /** Host every listener binds instead of its own address (tests). */
  readonly bindHost?: string;
}

interface Bound {
  readonly host: string;
  readonly port: number;
  readonly server: net.Server;
  /** The port actually bound (the listener's, or the kernel's choice for port 0). */
  listening?: number;
  error?: string;
}

export class GatewayFront {
  readonly #o: GatewayFrontOptions;
  readonly #tls: TlsContexts;
  readonly #bound = new Map<string, Bound>();
  readonly #sockets = new Set<net.Socket>();
  #closing = false;

  constructor(o: GatewayFrontOptions) {
    this.#o = o;
    this.#tls = new TlsContexts(o.engine);
  }

  /** Opens a server for each listener with an address, closes those whose listener went away. */
  sync(): void {
    if (this.#closing) return;
    const want = new Map<string, { host: string; port: number }>();
    for (const name of this.#o.engine.listenerNames()) {
      const a = this.#o.engine.listener(name)?.address;
      if (a) want.set(name, { host: this.#o.bindHost ?? (a.ip || '0.0.0.0'), port: a.port });
    }
    for (const [name, b] of this.#bound) {
      const w = want.get(name);
      if (!w || w.host !== b.host || w.port !== b.port) {
        b.server.close();
        this.#bound.delete(name);
        this.#o.logger.info({ listener: name }, 'listener closed');
      }
    }
    for (const [name, w] of want) if (!this.#bound.has(name)) this.#open(name, w.host, w.port);
  }

  /** Listener name -> the port it listens on (or why it could not bind). */
  status(): Record<string, { port?: number; error?: string }> {
    const out: Record<string, { port?: number; error?: string }> = {};
    for (const [name, b] of this.#bound)
      out[name] = {
        ...(b.listening !== undefined ? { port: b.listening } : {}),
        ...(b.error ? { error: b.error } : {}),
      };
    return out;
  }

  /** Resolves once every listener known now is bound (or failed to). */
  async listening(): Promise<void> {
    await Promise.all(
      [...this.#bound.values()]
        .filter((b) => b.listening === undefined && b.error === undefined)
        .map((b) => Promise.race([once(b.server, 'listening'), once(b.server, 'error')])),
    );
  }

  get connections(): number {
    return this.#sockets.size;
  }

  /**
   * For the first `acceptMs` (default 0) new connections are still taken (the engine, draining,
   * tells each to close after its request: clients whose load balancer still sends here are served
   * rather than refused); then the listeners close, connections still being inspected or
   * handshaking are dropped, and the others get until `drainMs` after the call to finish (the
   * engine drains their HTTP sessions); whatever is left then is closed.
   */
  async close(o: { drainMs: number; acceptMs?: number }): Promise<void> {
    const deadlineAt = Date.now() + o.drainMs;
    const acceptMs = Math.min(o.acceptMs ?? 0, o.drainMs);
    if (acceptMs > 0) await new Promise((r) => setTimeout(r, acceptMs));
    this.#closing = true;
    const closed = [...this.#bound.values()].map(
      (b) => new Promise<void>((r) => b.server.close(() => r())),
    );
    this.#bound.clear();
    const open = () => Promise.all([...this.#sockets].map((s) => once(s, 'close')));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      open(),
      new Promise((r) => (timer = setTimeout(r, Math.max(0, deadlineAt - Date.now())))),
    ]);
    clearTimeout(timer);
    for (const s of this.#sockets) s.destroy();
    await Promise.all([open(), ...closed]);
  }

  #open(name: string, host: string, port: number): void {
    const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (s) =>
      this.#accept(name, s),
    );
    const b: Bound = { host, port, server };
    this.#bound.set(name, b);
    server.on('error', (err: Error) => {
      b.error = err.message;
      this.#o.logger.error(
        { listener: name, address: `${host}:${port}`, err: err.message },
        'listener cannot bind',
      );
    });
    server.listen({ host, port }, () => {
      b.listening = (server.address() as net.AddressInfo).port;
      this.#o.logger.info({ listener: name, address: `${host}:${b.listening}` }, 'listening');
    });
  }

  #accept(name: string, socket: net.Socket): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    socket.on('error', () => undefined);
    const model = this.#o.engine.listener(name);
    if (this.#closing || !model) {
      socket.destroy();
      return;
    }
    if (!inspects(model)) {
      this.#dispatch(name, socket, undefined, []);
      return;
    }
    const timer = setTimeout(() => socket.destroy(), HANDSHAKE_TIMEOUT_MS);
    let seen: Buffer = Buffer.alloc(0);
    const onData = (d: Buffer) => {
      seen = seen.length === 0 ? d : Buffer.concat([seen, d]);
      const r = inspectClientHello(seen);
      if (r.kind === 'need-more') return;
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.pause();
      socket.unshift(seen);
      clearTimeout(timer);
      if (r.kind === 'invalid') {
        this.#o.logger.debug({ listener: name, reason: r.reason }, 'TLS inspection refused');
        socket.destroy();
      } else if (r.kind === 'not-tls') this.#dispatch(name, socket, undefined, [], 'raw_buffer');
      else this.#dispatch(name, socket, r.sni, r.alpn, 'tls');
    };
    const onEnd = () => {
      clearTimeout(timer);
      socket.destroy();
    };
    socket.on('data', onData);
    socket.on('end', onEnd);
  }

  #dispatch(
    name: string,
    socket: net.Socket,
    sni: string | undefined,
    alpn: readonly string[],
    transport: 'raw_buffer' | 'tls' = 'raw_buffer',
  ): void {
    const conn = this.#connectionInfo(socket, sni);
    const chain = this.#o.engine.selectChain(name, {
      destinationAddress: conn.destinationAddress,
      destinationPort: conn.destinationPort,
      sourceAddress: conn.sourceAddress,
      sourcePort: conn.sourcePort,
      ...(sni !== undefined ? { sni } : {}),
      transportProtocol: transport,
      applicationProtocols: alpn,
    });
    if (!chain) {
      this.#o.logger.debug(
        { listener: name, sni: sni ?? null, transport },
        'no filter chain matches; connection closed',
      );
      socket.destroy();
      return;
    }
    const tlsModel = chain.model.tls;
    if (!tlsModel) {
      this.#serve(chain, socket, conn, 'http');
      return;
    }
    const ctx = this.#tls.contextFor(tlsModel, sni);
    if (!ctx.ok) {
      this.#o.logger.warn({ chain: chain.name, reason: ctx.reason }, 'TLS handshake refused');
      socket.destroy();
      return;
    }
    const validation = tlsModel.clientValidation;
    const secure = new tls.TLSSocket(socket, {
      isServer: true,
      secureContext: ctx.context,
      ...(tlsModel.alpn.length > 0 ? { ALPNProtocols: [...tlsModel.alpn] } : {}),
      // Ask for a client certificate. A required one that is missing fails the handshake
      // (OpenSSL's FAIL_IF_NO_PEER_CERT); one that does not verify is refused right after it
      // (clientRefused).
      ...(validation
        ? {
            requestCert: true,
            rejectUnauthorized: validation.requireCertificate && !validation.acceptUntrusted,
          }
        : {}),
    });
    const timer = setTimeout(() => secure.destroy(), HANDSHAKE_TIMEOUT_MS);
    secure.on('error', (err: Error) => {
      clearTimeout(timer);
      this.#o.logger.debug({ chain: chain.name, err: err.message }, 'TLS connection failed');
    });
    secure.once('secure', () => {
      clearTimeout(timer);
      if (this.#closing) {
        secure.destroy();
        return;
      }
      const refused = validation && clientRefused(secure, validation);
      if (refused) {
        this.#o.logger.debug({ chain: chain.name, reason: refused }, 'client certificate refused');
        secure.destroy();
        return;
      }
      // HTTP/1.1 or h2 is sniffed from the first bytes, as for plain connections (node:http2
      // cannot take this TLSSocket natively: it wraps a socket whose ClientHello was put back).
      this.#serve(chain, secure, conn, 'https');
    });
  }

  #serve(chain: ChainRuntime, socket: net.Socket, conn: ConnectionInfo, scheme: string): void {
    if (!this.#o.engine.serve(chain, socket, conn, scheme)) {
      socket.destroy();
      return;
    }
    // Bytes held back while inspecting flow again; the TCP proxy resumes on its own once connected.
    if (chain.model.terminal.kind === 'http' && socket.isPaused()) socket.resume();
  }

  #connectionInfo(socket: net.Socket, sni: string | undefined): ConnectionInfo {
    const src = plainIp(socket.remoteAddress ?? '');
    const dst = plainIp(socket.localAddress ?? '');
    return {
      sourceAddress: src,
      sourcePort: socket.remotePort ?? 0,
      remoteAddress: src,
      destinationAddress: dst,
      destinationPort: socket.localPort ?? 0,
      localAddress: `${dst}:${socket.localPort ?? 0}`,
      ...(sni !== undefined ? { sni } : {}),
      security: 'none',
      peer: this.#o.self,
    };
  }
}

/** Whether a chain selection reads the ClientHello (Envoy adds tls_inspector for these). */
function inspects(model: ListenerModel): boolean {
  return [...model.chains, ...(model.defaultChain ? [model.defaultChain] : [])].some(
    (c) =>
      c.tls !== undefined ||
      c.match.serverNames.length > 0 ||
      c.match.transportProtocol !== '' ||
      c.match.applicationProtocols.length > 0,
  );
}

/**
 * Why a client is refused by the chain's certificate validation (Envoy's): no certificate when
 * one is required, or one that does not verify against the CAs unless untrusted ones are accepted.
 */
export function clientRefused(s: tls.TLSSocket, v: ClientValidationModel): string | undefined {
  const presented = Object.keys(s.getPeerCertificate()).length > 0;
  if (!presented) return v.requireCertificate ? 'no client certificate' : undefined;
  if (v.acceptUntrusted) return undefined;
  const error = verifyError(s);
  return error ? `client certificate does not verify: ${error.message}` : undefined;
}

/**
 * OpenSSL's verdict on the peer's chain from the handshake. tls.Server reads it into
 * `authorized`, but a TLSSocket made around an accepted socket (as here, after the ClientHello
 * was inspected) never does, so it is read from the handle as Node's server does; a handle that
 * cannot say refuses the client.
 */
function verifyError(s: tls.TLSSocket): Error | null {
  const handle = (s as unknown as { _handle?: { verifyError?: () => Error | null } })._handle;
  if (typeof handle?.verifyError !== 'function')
    return new Error('the TLS handle cannot report the chain verification');
  return handle.verifyError();
}

/** IPv4-mapped IPv6 addresses as plain IPv4. */
function plainIp(a: string): string {
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}
