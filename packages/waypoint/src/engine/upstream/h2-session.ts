// An HTTP/2 connection to an upstream host (gRPC and h2c services) over a byte stream from the
// connector, carrying many requests; node:http2 does the framing.
import http2, {
  constants,
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from 'node:http2';
import type { Duplex } from 'node:stream';
import { headerListFrom, type HeaderList } from '../http/headers.pure.js';
import {
  UpstreamError,
  type UpstreamListener,
  type UpstreamRequest,
  type UpstreamStream,
} from './stream.js';

/** Node's default for a peer that has not said otherwise (RFC 9113 recommends >= 100). */
const DEFAULT_MAX_STREAMS = 100;

export class H2Session {
  readonly session: ClientHttp2Session;
  readonly remote: string;
  active = 0;
  requests = 0;
  #closed = false;
  #onClosed: (s: H2Session) => void;
  idleSince = Date.now();

  constructor(socket: Duplex, remote: string, onClosed: (s: H2Session) => void) {
    this.remote = remote;
    this.#onClosed = onClosed;
    this.session = http2.connect(`http://${remote}`, {
      createConnection: () => socket,
      settings: { enablePush: false },
    });
    this.session.on('error', () => this.#close());
    this.session.on('close', () => this.#close());
    this.session.on('goaway', () => this.#close());
  }

  get closed(): boolean {
    return this.#closed || this.session.closed || this.session.destroyed;
  }

  /** Whether another stream fits under the peer's limit. */
  get hasRoom(): boolean {
    const max = this.session.remoteSettings.maxConcurrentStreams ?? DEFAULT_MAX_STREAMS;
    return !this.closed && this.active < max;
  }

  stream(): UpstreamStream {
    return new H2UpstreamStream(this);
  }

  close(): void {
    if (this.#closed) return;
    this.session.close();
    this.#close();
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#onClosed(this);
  }
}

const FORBIDDEN = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'host',
]);

/** A request head as HTTP/2 headers (pseudo-headers first, connection-specific ones dropped). */
export function h2RequestHeaders(req: UpstreamRequest): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {
    ':method': req.method,
    ':path': req.path,
    ':authority': req.authority,
    ':scheme': req.scheme,
  };
  const h = req.headers;
  for (let i = 0; i < h.length; i += 2) {
    const name = h[i]!;
    if (FORBIDDEN.has(name)) continue;
    if (name === 'te' && h[i + 1] !== 'trailers') continue;
    const prev = out[name];
    if (prev === undefined) out[name] = h[i + 1]!;
    else if (Array.isArray(prev)) prev.push(h[i + 1]!);
    else out[name] = name === 'cookie' ? `${String(prev)}; ${h[i + 1]}` : [String(prev), h[i + 1]!];
  }
  return out;
}

class H2UpstreamStream implements UpstreamStream {
  readonly #s: H2Session;
  #stream: ClientHttp2Stream | undefined;
  #listener: UpstreamListener | undefined;
  #gotHead = false;
  #done = false;
  #trailers: HeaderList | undefined;
  #early: Buffer[] | undefined;
  #endedEarly = false;
  readonly remote: string;
  readonly reused = false;

  constructor(s: H2Session) {
    this.#s = s;
    this.remote = s.remote;
  }

  start(req: UpstreamRequest, listener: UpstreamListener): void {
    this.#listener = listener;
    const s = this.#s;
    s.active++;
    s.requests++;
    let stream: ClientHttp2Stream;
    try {
      stream = s.session.request(h2RequestHeaders(req), { endStream: req.endStream });
    } catch (err) {
      this.#end();
      queueMicrotask(() =>
        listener.onError(new UpstreamError('refused-stream', (err as Error).message)),
      );
      return;
    }
    this.#stream = stream;
    stream.on('response', (headers: IncomingHttpHeaders, flags: number) => {
      const status = Number(headers[':status']);
      const list = headerListFrom(headers as Record<string, string | string[] | undefined>);
      if (status >= 100 && status < 200) {
        this.#listener?.onInformational(status, list);
        return;
      }
      this.#gotHead = true;
      const endStream = (flags & constants.NGHTTP2_FLAG_END_STREAM) !== 0;
      this.#listener?.onHead(status, list, endStream);
      const early = this.#early;
      this.#early = undefined;
      for (const d of early ?? []) this.#listener?.onData(d, false);
      if (this.#endedEarly && !endStream) this.#deliverEnd();
      else if (endStream) this.#end();
    });
    // node:http2 emits 'response' on the next tick, after DATA of the same read may already have
    // been delivered: body and end wait until the head has been passed on.
    stream.on('data', (d: Buffer) => {
      if (this.#gotHead) this.#listener?.onData(d, false);
      else (this.#early ??= []).push(d);
    });
    stream.on('trailers', (t: IncomingHttpHeaders) => {
      this.#trailers = headerListFrom(t as Record<string, string | string[] | undefined>);
    });
    stream.on('end', () => {
      if (!this.#gotHead) {
        this.#endedEarly = true;
        return;
      }
      this.#deliverEnd();
    });
    stream.on('drain', () => this.#listener?.onDrain());
    stream.on('error', () => undefined);
    stream.on('close', () => {
      const l = this.#listener;
      this.#end();
      if (!l) return;
      const code = stream.rstCode ?? 0;
      const failure =
        code === constants.NGHTTP2_REFUSED_STREAM
          ? 'refused-stream'
          : this.#gotHead
            ? 'reset-after-response'
            : 'reset-before-response';
      l.onError(new UpstreamError(failure, `upstream stream closed (RST_STREAM code ${code})`));
    });
  }

  #deliverEnd(): void {
    const l = this.#listener;
    this.#end();
    if (!l) return;
    if (this.#trailers) l.onTrailers(this.#trailers);
    else l.onData(Buffer.alloc(0), true);
  }

  sendData(chunk: Buffer, endStream: boolean): boolean {
    const st = this.#stream;
    if (!st || st.destroyed) return false;
    if (endStream) {
      st.end(chunk.length > 0 ? chunk : undefined);
      return true;
    }
    return st.write(chunk);
  }

  sendTrailers(trailers: HeaderList): void {
    const st = this.#stream;
    if (!st || st.destroyed) return;
    // Request trailers need waitForTrailers at request time; HTTP and gRPC clients do not send
    // them in practice, so they are dropped and the request ends here.
    void trailers;
    st.end();
  }

  pause(): void {
    this.#stream?.pause();
  }

  resume(): void {
    this.#stream?.resume();
  }

  reset(): void {
    this.#listener = undefined;
    const st = this.#stream;
    this.#end();
    if (st && !st.destroyed) st.close(constants.NGHTTP2_CANCEL);
  }

  #end(): void {
    if (this.#done) return;
    this.#done = true;
    this.#listener = undefined;
    this.#s.active--;
    this.#s.idleSince = Date.now();
  }
}
