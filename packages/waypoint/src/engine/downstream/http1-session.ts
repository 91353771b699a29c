// The HTTP/1.1 server side of one downstream connection (a TCP socket or an HBONE tunnel), on our
// own parser: one exchange at a time, pipelined requests held until the previous response is done,
// keep-alive, 100-continue answered locally (Envoy's default), chunked or length-framed responses,
// Connection: close while draining. A response head is written together with the body bytes of the
// same turn.
import type { Duplex } from 'node:stream';
import type { HeaderList } from '../http/headers.pure.js';
import { getHeader, removeHeader } from '../http/headers.pure.js';
import type { HttpProtocol, ResponseHead } from '../http/message.pure.js';
import { responseHasNoBody } from '../http/message.pure.js';
import { Http1Parser, HttpParseError, type ParsedRequestHead } from '../http1/parser.pure.js';
import {
  chunk,
  informationalHead,
  lastChunk,
  responseHead,
  type OutFraming,
} from '../http1/serialize.pure.js';
import type { ConnectionInfo, Downstream, EngineServices, HttpChain } from '../proxy/context.js';
import { Exchange } from '../proxy/exchange.js';

const EMPTY = Buffer.alloc(0);
const CONTINUE = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');

export interface Http1SessionOptions {
  /** "http" for plain listeners and HBONE (the tunnel is the transport security), "https" behind TLS. */
  readonly scheme: string;
  /** Bytes already read from the socket (protocol sniffing). */
  readonly initial?: Buffer;
  readonly onClose?: () => void;
}

export class Http1Session implements Downstream {
  readonly protocol: HttpProtocol = 'HTTP/1.1';
  readonly #socket: Duplex;
  readonly #conn: ConnectionInfo;
  readonly #chain: HttpChain;
  readonly #svc: EngineServices;
  readonly #scheme: string;
  readonly #parser: Http1Parser;
  #exchange: Exchange | undefined;
  #buffered: Buffer | undefined;
  #requestDone = false;
  #responseDone = false;
  #headEndedRequest = false;
  #keepAlive = true;
  #minor: 0 | 1 = 1;
  #method = 'GET';
  #framing: OutFraming = 'none';
  #pending: Buffer[] | undefined;
  #flushQueued = false;
  #closing = false;
  #closed = false;
  #drainListener: (() => void) | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #onClose: (() => void) | undefined;
  /** Handed over as a byte stream (101 Switching Protocols). */
  #upgraded = false;
  readonly #onDataFn = (d: Buffer): void => this.#onData(d);
  readonly #onEndFn = (): void => this.#onPeerEnd();
  readonly #onDrainFn = (): void => this.#drainListener?.();
  /** Exchanges served on this connection. */
  requests = 0;

  constructor(
    socket: Duplex,
    conn: ConnectionInfo,
    chain: HttpChain,
    svc: EngineServices,
    o: Http1SessionOptions,
  ) {
    this.#socket = socket;
    this.#conn = conn;
    this.#chain = chain;
    this.#svc = svc;
    this.#scheme = o.scheme;
    this.#onClose = o.onClose;
    this.#parser = new Http1Parser('request', {
      onRequestHead: (h) => this.#onHead(h),
      onBody: (b) => this.#exchange?.onRequestData(b, false),
      onMessageEnd: (t) => this.#onMessageEnd(t),
    });
    socket.on('data', this.#onDataFn);
    socket.on('end', this.#onEndFn);
    socket.on('error', () => this.#onClosed());
    socket.on('close', () => this.#onClosed());
    socket.on('drain', this.#onDrainFn);
    const idle = chain.config.idleTimeoutMs;
    if (idle > 0) {
      this.#idleTimer = setTimeout(() => this.#onIdleTimeout(), idle);
      this.#idleTimer.unref();
    }
    if (o.initial && o.initial.length > 0) this.#onData(o.initial);
  }

  /** Graceful drain: close now when idle, else after the current response. */
  drain(): void {
    if (this.#upgraded) return; // a byte stream now: its ends close it
    this.#closing = true;
    if (!this.#exchange) this.#close();
  }

  get idle(): boolean {
    return this.#exchange === undefined;
  }

  // ---- input ----

  #onData(d: Buffer): void {
    this.#idleTimer?.refresh();
    if (this.#buffered) {
      this.#buffered = Buffer.concat([this.#buffered, d]);
      return;
    }
    this.#feed(d);
  }

  #feed(d: Buffer): void {
    let used: number;
    try {
      used = this.#parser.execute(d);
    } catch (err) {
      this.#parseError(err);
      return;
    }
    if (used < d.length) {
      // The next request (pipelined) waits for the current response.
      this.#buffered = d.subarray(used);
      if (this.#buffered.length > 64 * 1024) this.#socket.pause();
    }
  }

  #onHead(h: ParsedRequestHead): void {
    this.requests++;
    this.#requestDone = false;
    this.#responseDone = false;
    this.#keepAlive = h.keepAlive && !this.#closing;
    this.#minor = h.minor;
    this.#method = h.method;
    const headers = h.headers;
    if (h.expectContinue) {
      removeHeader(headers, 'expect');
      if (h.framing.kind !== 'none') this.#socket.write(CONTINUE);
    }
    const endStream = h.framing.kind === 'none';
    this.#headEndedRequest = endStream;
    const ex = new Exchange(
      this,
      {
        method: h.method,
        scheme: this.#scheme,
        authority: h.host,
        path: h.target,
        headers,
        protocol: h.minor === 1 ? 'HTTP/1.1' : 'HTTP/1.0',
        ...(h.upgrade !== undefined && h.minor === 1
          ? { upgrade: h.upgrade.trim().toLowerCase() }
          : {}),
      },
      endStream,
      this.#conn,
      this.#chain,
      this.#svc,
    );
    this.#exchange = ex;
    ex.start();
  }

  #onMessageEnd(trailers: HeaderList | undefined): void {
    this.#requestDone = true;
    const ex = this.#exchange;
    if (ex && !this.#headEndedRequest) {
      if (trailers && trailers.length > 0) ex.onRequestTrailers(trailers);
      else ex.onRequestData(EMPTY, true);
    }
    this.#maybeNext();
  }

  #parseError(err: unknown): void {
    const status = err instanceof HttpParseError ? err.status : 400;
    const message = err instanceof Error ? err.message : String(err);
    this.#svc.logger.debug({ err: message, status }, 'bad HTTP/1.1 request');
    const ex = this.#exchange;
    if (ex && !ex.finished) {
      ex.onDownstreamAbort();
      this.#close();
      return;
    }
    // No exchange (a bad head): answer and close.
    const body = Buffer.from(`${message}\n`, 'utf8');
    const head = responseHead(
      status,
      ['content-length', String(body.length), 'content-type', 'text/plain'],
      'length',
      true,
    );
    this.#socket.write(Buffer.concat([Buffer.from(head, 'latin1'), body]));
    this.#closing = true;
    this.#socket.end();
  }

  #onPeerEnd(): void {
    try {
      this.#parser.finish();
    } catch {
      this.#exchange?.onDownstreamAbort();
      this.#close();
      return;
    }
    // Half-closed after a complete request: answer it, then close.
    this.#closing = true;
    if (!this.#exchange) this.#close();
  }

  #onClosed(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    const ex = this.#exchange;
    if (ex && !ex.finished) ex.onDownstreamAbort();
    this.#exchange = undefined;
    this.#onClose?.();
  }

  #onIdleTimeout(): void {
    if (this.#exchange) {
      this.#idleTimer?.refresh();
      return;
    }
    this.#close();
  }

  #close(): void {
    if (this.#closed) return;
    this.#flush();
    this.#socket.end();
    this.#onClosed();
  }

  /** After a response and its request are both complete: the next request, or close. */
  #maybeNext(): void {
    if (!this.#requestDone || !this.#responseDone) return;
    this.#exchange = undefined;
    if (!this.#keepAlive || this.#closing || this.#svc.draining()) {
      this.#close();
      return;
    }
    this.#parser.reset();
    const rest = this.#buffered;
    if (rest) {
      this.#buffered = undefined;
      this.#socket.resume();
      queueMicrotask(() => {
        if (!this.#closed && !this.#exchange) this.#feed(rest);
        else if (!this.#closed)
          this.#buffered = this.#buffered ? Buffer.concat([rest, this.#buffered]) : rest;
      });
    }
  }

  // ---- Downstream (response side) ----

  sendInformational(status: number, headers: HeaderList): void {
    if (this.#minor === 0 || status === 100) return; // 100 was answered locally
    this.#queue(Buffer.from(informationalHead(status, headers), 'latin1'));
  }

  sendHead(head: ResponseHead, endStream: boolean): void {
    const headers = head.headers;
    const noBody = responseHasNoBody(this.#method, head.status);
    let framing: OutFraming;
    if (noBody) framing = 'none';
    else if (getHeader(headers, 'content-length') !== undefined) framing = 'length';
    else if (endStream) {
      headers.push('content-length', '0');
      framing = 'length';
    } else framing = this.#minor === 1 ? 'chunked' : 'close';
    if (framing === 'close') this.#keepAlive = false;
    // A response that starts before the request was read completely ends the connection.
    if (!this.#requestDone && !this.#headEndedRequest) this.#keepAlive = false;
    if (this.#closing || this.#svc.draining()) this.#keepAlive = false;
    this.#framing = framing;
    const close = !this.#keepAlive;
    this.#queue(
      Buffer.from(
        responseHead(
          head.status,
          headers,
          framing === 'none' ? 'none' : framing,
          close,
          this.#minor,
        ),
        'latin1',
      ),
    );
    if (endStream) this.#responseComplete();
  }

  sendData(data: Buffer, endStream: boolean): boolean {
    if (this.#closed) return false;
    if (this.#framing === 'chunked') {
      if (data.length > 0) this.#queue(chunk(data));
      if (endStream) this.#queue(lastChunk());
    } else if (this.#framing !== 'none' && data.length > 0) {
      this.#queue(data);
    }
    if (endStream) this.#responseComplete();
    return this.#socket.writableLength < 65536;
  }

  sendTrailers(trailers: HeaderList): void {
    if (this.#framing === 'chunked') this.#queue(lastChunk(trailers));
    this.#responseComplete();
  }

  reset(): void {
    this.#socket.destroy();
    this.#onClosed();
  }

  pauseRequest(): void {
    this.#socket.pause();
  }

  resumeRequest(): void {
    if (!this.#buffered) this.#socket.resume();
  }

  setDrainListener(fn: () => void): void {
    this.#drainListener = fn;
  }

  upgrade(head: ResponseHead): { socket: Duplex; buffered: Buffer | undefined } {
    this.#upgraded = true;
    this.#exchange = undefined;
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    const s = this.#socket;
    s.off('data', this.#onDataFn);
    s.off('end', this.#onEndFn);
    s.off('drain', this.#onDrainFn);
    this.#queue(Buffer.from(responseHead(head.status, head.headers, 'none', false), 'latin1'));
    this.#flush();
    const buffered = this.#buffered;
    this.#buffered = undefined;
    return { socket: s, buffered };
  }

  #responseComplete(): void {
    this.#responseDone = true;
    if (this.#framing === 'close') {
      this.#flush();
      this.#close();
      return;
    }
    this.#maybeNext();
  }

  #queue(buf: Buffer): void {
    (this.#pending ??= []).push(buf);
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      queueMicrotask(() => this.#flush());
    }
  }

  #flush(): void {
    this.#flushQueued = false;
    const p = this.#pending;
    if (!p || this.#socket.destroyed) return;
    this.#pending = undefined;
    this.#socket.write(p.length === 1 ? p[0]! : Buffer.concat(p));
  }
}
