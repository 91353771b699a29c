// The HTTP/2 server side of one downstream connection (h2c with prior knowledge, inside an HBONE
// tunnel or on a plain socket), on node:http2: each stream becomes an exchange. gRPC responses keep
// their trailers (waitForTrailers), other responses end with their last DATA frame.
import http2, {
  constants,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import type { Duplex } from 'node:stream';
import { withPrefix } from './prefixed.js';
import type { HeaderList } from '../http/headers.pure.js';
import type { HttpProtocol, ResponseHead } from '../http/message.pure.js';
import type { ConnectionInfo, Downstream, EngineServices, HttpChain } from '../proxy/context.js';
import { Exchange } from '../proxy/exchange.js';

const EMPTY = Buffer.alloc(0);

export interface Http2SessionOptions {
  readonly scheme: string;
  /** Bytes already read from the socket (the connection preface, read while sniffing). */
  readonly initial?: Buffer;
  readonly onClose?: () => void;
}

export class Http2Downstream {
  readonly session: ServerHttp2Session;
  readonly #streams = new Set<H2Stream>();
  #closed = false;

  constructor(
    socket: Duplex,
    conn: ConnectionInfo,
    chain: HttpChain,
    svc: EngineServices,
    o: Http2SessionOptions,
  ) {
    this.session = http2.performServerHandshake(withPrefix(socket, o.initial), {
      settings: { enablePush: false, maxConcurrentStreams: 1000 },
    });
    this.session.on('error', (err) => svc.logger.debug({ err }, 'downstream HTTP/2 session error'));
    this.session.on('close', () => {
      this.#closed = true;
      for (const s of this.#streams) s.abort();
      o.onClose?.();
    });
    this.session.on('stream', (stream, headers, flags) => {
      const s = new H2Stream(stream, headers, flags, conn, chain, svc, o.scheme);
      this.#streams.add(s);
      stream.once('close', () => {
        this.#streams.delete(s);
        s.abort();
      });
      s.start();
    });
  }

  /** GOAWAY: open streams finish, no new ones. */
  drain(): void {
    if (!this.#closed) this.session.close();
  }

  get idle(): boolean {
    return this.#streams.size === 0;
  }
}

class H2Stream implements Downstream {
  readonly protocol: HttpProtocol = 'HTTP/2';
  readonly #stream: ServerHttp2Stream;
  readonly #ex: Exchange;
  #trailers: HeaderList | undefined;
  #waitForTrailers = false;
  #drain: (() => void) | undefined;
  #requestEnded: boolean;

  constructor(
    stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    flags: number,
    conn: ConnectionInfo,
    chain: HttpChain,
    svc: EngineServices,
    scheme: string,
  ) {
    this.#stream = stream;
    this.#requestEnded = (flags & constants.NGHTTP2_FLAG_END_STREAM) !== 0;
    const list: HeaderList = [];
    for (const [k, v] of Object.entries(headers)) {
      if (k.charCodeAt(0) === 58 || v === undefined || k === 'host') continue;
      if (Array.isArray(v)) for (const x of v) list.push(k, x);
      else list.push(k, String(v));
    }
    const authority = String(headers[':authority'] ?? headers['host'] ?? '');
    this.#ex = new Exchange(
      this,
      {
        method: String(headers[':method'] ?? 'GET'),
        scheme: String(headers[':scheme'] ?? scheme),
        authority,
        path: String(headers[':path'] ?? '/'),
        headers: list,
        protocol: 'HTTP/2',
      },
      this.#requestEnded,
      conn,
      chain,
      svc,
    );
    stream.on('data', (d: Buffer) => this.#ex.onRequestData(d, false));
    stream.on('trailers', (t: IncomingHttpHeaders) => {
      const l: HeaderList = [];
      for (const [k, v] of Object.entries(t))
        if (v !== undefined && k.charCodeAt(0) !== 58) l.push(k, String(v));
      this.#requestTrailers = l;
    });
    stream.on('end', () => {
      if (this.#requestEnded) return;
      this.#requestEnded = true;
      if (this.#requestTrailers) this.#ex.onRequestTrailers(this.#requestTrailers);
      else this.#ex.onRequestData(EMPTY, true);
    });
    stream.on('error', () => undefined);
    stream.on('drain', () => this.#drain?.());
    stream.on('wantTrailers', () => {
      const out: OutgoingHttpHeaders = {};
      const t = this.#trailers ?? [];
      for (let i = 0; i < t.length; i += 2) out[t[i]!] = t[i + 1]!;
      stream.sendTrailers(out);
    });
  }

  #requestTrailers: HeaderList | undefined;

  start(): void {
    this.#ex.start();
  }

  abort(): void {
    if (!this.#ex.finished) this.#ex.onDownstreamAbort();
  }

  sendInformational(status: number, headers: HeaderList): void {
    if (status === 100) return;
    try {
      this.#stream.additionalHeaders({ ':status': status, ...toObject(headers) });
    } catch {
      // stream gone
    }
  }

  sendHead(head: ResponseHead, endStream: boolean, grpc: boolean): void {
    const s = this.#stream;
    if (s.destroyed || s.headersSent) return;
    this.#waitForTrailers = grpc && !endStream;
    try {
      s.respond(
        { ':status': head.status, ...toObject(head.headers) },
        { endStream, waitForTrailers: this.#waitForTrailers },
      );
    } catch {
      s.close(constants.NGHTTP2_INTERNAL_ERROR);
    }
  }

  sendData(chunk: Buffer, endStream: boolean): boolean {
    const s = this.#stream;
    if (s.destroyed) return false;
    if (endStream) {
      s.end(chunk.length > 0 ? chunk : undefined);
      return true;
    }
    return s.write(chunk);
  }

  sendTrailers(trailers: HeaderList): void {
    const s = this.#stream;
    if (s.destroyed) return;
    this.#trailers = trailers;
    // With waitForTrailers the 'wantTrailers' event sends them once the data is out; otherwise
    // (a non-gRPC response with HTTP/1.1 chunked trailers) they are dropped.
    s.end();
  }

  reset(): void {
    const s = this.#stream;
    if (!s.destroyed) s.close(constants.NGHTTP2_INTERNAL_ERROR);
  }

  pauseRequest(): void {
    this.#stream.pause();
  }

  resumeRequest(): void {
    this.#stream.resume();
  }

  setDrainListener(fn: () => void): void {
    this.#drain = fn;
  }
}

const H2_FORBIDDEN = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
]);

function toObject(h: HeaderList): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (let i = 0; i < h.length; i += 2) {
    const name = h[i]!;
    if (H2_FORBIDDEN.has(name)) continue;
    const prev = out[name];
    if (prev === undefined) out[name] = h[i + 1]!;
    else if (Array.isArray(prev)) prev.push(h[i + 1]!);
    else out[name] = [String(prev), h[i + 1]!];
  }
  return out;
}
