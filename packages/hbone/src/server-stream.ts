// One CONNECT stream on the HBONE server: check the request, ask the owner, dial the target, answer,
// then carry the bytes until both sides are done.
import net from 'node:net';
import { constants, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { finished, type Duplex } from 'node:stream';
import type { Logger } from '@trellis/core';
import type { SpiffeId } from '@trellis/pki';
import { formatAuthority, parseAuthority, type Endpoint, type Target } from './authority.pure.js';
import type { HboneMetrics } from './metrics.js';
import { splice } from './splice.js';
import { TunnelStream } from './tunnel-stream.js';

/** The headers HBONE carries besides `:authority`, as received (repeated headers joined with ","). */
export interface TunnelHeaders {
  readonly forwarded?: string;
  readonly traceparent?: string;
  readonly baggage?: string;
}

/** What the server knows about one CONNECT request when it asks the owner about it. */
export interface ConnectRequest {
  /** The client's SPIFFE identity, verified against the trust bundle. */
  readonly peer: SpiffeId;
  /** Where the client wants to go: the parsed `:authority`. */
  readonly target: Target;
  readonly headers: TunnelHeaders;
  /** The client end of the HBONE connection (its TCP peer address). */
  readonly source: Endpoint;
  /** The original destination of the HBONE connection (the address the certificate was chosen for). */
  readonly destination: Endpoint;
  /** The HTTP/2 stream itself, for owners that need more than the above. */
  readonly stream: ServerHttp2Stream;
}

export type ConnectDecision =
  { readonly allow: true } | { readonly allow: false; readonly reason: string };

/** Opens the upstream connection for an allowed request; rejecting makes the answer 503. */
export type Dial = (target: Target, request: ConnectRequest) => Promise<Duplex>;

/**
 * Serves an allowed request in-process instead of dialling (a waypoint terminates the tunnel and
 * reads the bytes itself): called after the 200 with the tunnel, which the owner reads, writes and
 * ends; the stream is over when the tunnel is.
 */
export type Terminate = (tunnel: TunnelStream, request: ConnectRequest) => void;

export interface TunnelStats {
  /** Bytes sent to the client through the tunnel. */
  readonly bytesSent: number;
  /** Bytes received from the client through the tunnel. */
  readonly bytesReceived: number;
  /** Why the tunnel ended abnormally (a reset on either side); absent for a clean close. */
  readonly error?: Error;
}

export interface StreamHandlers {
  readonly onConnect: (request: ConnectRequest) => ConnectDecision | Promise<ConnectDecision>;
  readonly dial: Dial;
  readonly terminate?: Terminate;
  readonly onStreamClosed?: (request: ConnectRequest, stats: TunnelStats) => void;
  readonly metrics: HboneMetrics;
  readonly logger?: Logger;
}

export interface ConnectionInfo {
  readonly peer: SpiffeId;
  readonly source: Endpoint;
  readonly destination: Endpoint;
}

/** Dials `target` over TCP with half-open connections allowed (the default Dial). */
export function dialTcp(target: Endpoint): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({
      host: target.address,
      port: target.port,
      allowHalfOpen: true,
      noDelay: true,
    });
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}

export async function serveConnect(
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  connection: ConnectionInfo,
  handlers: StreamHandlers,
): Promise<void> {
  const log = handlers.logger;
  stream.on('error', (err) => log?.debug({ err }, 'HBONE stream error'));
  if (headers[':method'] !== 'CONNECT') {
    refuse(stream, 400, `method ${String(headers[':method']).slice(0, 32)} is not CONNECT`, log);
    return;
  }
  const target = parseAuthority(headers[':authority'] ?? '');
  if (!target.ok) {
    refuse(stream, 400, target.reason, log);
    return;
  }
  const request: ConnectRequest = {
    ...connection,
    target: target.value,
    headers: tunnelHeaders(headers),
    stream,
  };
  const what = `${connection.peer.uri} -> ${formatAuthority(target.value)}`;

  let decision: ConnectDecision;
  try {
    decision = await handlers.onConnect(request);
  } catch (err) {
    refuse(stream, 503, `${what}: onConnect failed: ${(err as Error).message}`, log);
    return;
  }
  if (!decision.allow) {
    refuse(stream, 401, `${what} denied: ${decision.reason}`, log);
    return;
  }

  if (handlers.terminate) {
    terminate(stream, request, what, handlers, handlers.terminate);
    return;
  }

  let upstream: Duplex;
  try {
    upstream = await handlers.dial(target.value, request);
  } catch (err) {
    refuse(stream, 503, `${what}: upstream connect failed: ${(err as Error).message}`, log);
    return;
  }
  if (stream.destroyed || stream.closed) {
    // The client went away while the upstream was dialled: the owner still hears that the
    // connection it allowed (and may have counted as opened) is over.
    upstream.destroy();
    handlers.onStreamClosed?.(request, {
      bytesSent: 0,
      bytesReceived: 0,
      error: new Error('the client closed the stream before the tunnel opened'),
    });
    return;
  }

  const tunnel = new TunnelStream(stream, connection.peer.uri, handlers.metrics.bytes);
  stream.respond({ ':status': 200 });
  handlers.metrics.streamOpened();
  log?.debug(`HBONE tunnel open: ${what}`);
  const { error } = await splice(tunnel, upstream);
  handlers.metrics.streamClosed();
  log?.debug(
    { err: error, sent: tunnel.bytesSent, received: tunnel.bytesReceived },
    `HBONE tunnel closed: ${what}`,
  );
  handlers.onStreamClosed?.(request, {
    bytesSent: tunnel.bytesSent,
    bytesReceived: tunnel.bytesReceived,
    ...(error ? { error } : {}),
  });
}

function terminate(
  stream: ServerHttp2Stream,
  request: ConnectRequest,
  what: string,
  handlers: StreamHandlers,
  owner: Terminate,
): void {
  if (stream.destroyed || stream.closed) return;
  const tunnel = new TunnelStream(stream, request.peer.uri, handlers.metrics.bytes);
  stream.respond({ ':status': 200 });
  handlers.metrics.streamOpened();
  handlers.logger?.debug(`HBONE tunnel terminated here: ${what}`);
  finished(tunnel, (err) => {
    handlers.metrics.streamClosed();
    handlers.onStreamClosed?.(request, {
      bytesSent: tunnel.bytesSent,
      bytesReceived: tunnel.bytesReceived,
      ...(err ? { error: err } : {}),
    });
  });
  owner(tunnel, request);
}

/**
 * Answers `status` and ends the stream. The client may still be sending, so the stream is then
 * closed with RST_STREAM NO_ERROR, which asks it to stop without signalling an error (RFC 9113 §8.1).
 */
function refuse(
  stream: ServerHttp2Stream,
  status: number,
  reason: string,
  log: Logger | undefined,
): void {
  log?.debug(`HBONE CONNECT refused with ${status}: ${reason}`);
  if (stream.destroyed || stream.closed || stream.headersSent) return;
  stream.respond({ ':status': status }, { endStream: true });
  stream.close(constants.NGHTTP2_NO_ERROR);
}

function tunnelHeaders(headers: IncomingHttpHeaders): TunnelHeaders {
  const out: { forwarded?: string; traceparent?: string; baggage?: string } = {};
  for (const name of ['forwarded', 'traceparent', 'baggage'] as const) {
    const value = headers[name];
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(',') : value;
  }
  return out;
}
