// One HTTP/1.1 connection to an upstream host (over an HBONE tunnel or a TCP socket), carrying one
// request at a time and kept alive between them. The head is written together with the body bytes
// that arrive in the same turn (one write, so one HTTP/2 DATA frame and TLS record when tunneled).
import type { Duplex } from 'node:stream';
import { getHeader, type HeaderList } from '../http/headers.pure.js';
import { Http1Parser, HttpParseError, type ParsedResponseHead } from '../http1/parser.pure.js';
import { chunk, lastChunk, requestHead, type OutFraming } from '../http1/serialize.pure.js';
import {
  UpstreamError,
  type UpstreamListener,
  type UpstreamRequest,
  type UpstreamStream,
} from './stream.js';

const EMPTY = Buffer.alloc(0);
/** How long a connection closed between requests waits for the upstream's end before a reset. */
const GRACEFUL_CLOSE_MS = 5_000;

export interface H1ConnectionEvents {
  /** The exchange is over and the connection may carry another request. */
  idle(conn: H1Connection): void;
  /** The connection is gone (closed, failed, or not reusable). */
  closed(conn: H1Connection): void;
}

export class H1Connection implements UpstreamStream {
  readonly #socket: Duplex;
  readonly #events: H1ConnectionEvents;
  readonly #parser: Http1Parser;
  readonly remote: string;
  #listener: UpstreamListener | undefined;
  #framing: OutFraming = 'none';
  #requestDone = false;
  #responseStarted = false;
  #responseDone = false;
  /** The head said there is no body: no end-of-body event to report. */
  #endedWithHead = false;
  #keepAlive = true;
  #closed = false;
  #pending: Buffer[] | undefined;
  #pendingBytes = 0;
  #flushQueued = false;
  #paused = false;
  #wantDrain = false;
  /** The request asks for an Upgrade: a 101 hands the socket over to the listener. */
  #upgrading = false;
  #switched: { status: number; headers: HeaderList } | undefined;
  readonly #onDataFn = (d: Buffer): void => this.#onData(d);
  readonly #onEndFn = (): void => this.#onEof();
  readonly #onErrorFn = (err: Error): void => this.#fail(err.message);
  readonly #onCloseFn = (): void => this.#fail('the connection closed');
  readonly #onDrainFn = (): void => {
    this.#wantDrain = false;
    this.#listener?.onDrain();
  };
  /** Requests this connection has carried. */
  requests = 0;
  /** When it last became idle (for the pool's idle timeout). */
  idleSince = 0;

  constructor(socket: Duplex, remote: string, events: H1ConnectionEvents) {
    this.#socket = socket;
    this.remote = remote;
    this.#events = events;
    this.#parser = new Http1Parser('response', {
      onResponseHead: (h) => this.#onHead(h),
      onBody: (b) => this.#listener?.onData(b, false),
      onMessageEnd: (t) => this.#onEnd(t),
    });
    socket.on('data', this.#onDataFn);
    socket.on('end', this.#onEndFn);
    socket.on('error', this.#onErrorFn);
    socket.on('close', this.#onCloseFn);
    socket.on('drain', this.#onDrainFn);
  }

  get reused(): boolean {
    return this.requests > 0;
  }

  get busy(): boolean {
    return this.#listener !== undefined;
  }

  get closed(): boolean {
    return this.#closed;
  }

  start(req: UpstreamRequest, listener: UpstreamListener): void {
    this.#listener = listener;
    this.requests++;
    this.#requestDone = req.endStream;
    this.#responseStarted = false;
    this.#responseDone = false;
    this.#endedWithHead = false;
    this.#upgrading = getHeader(req.headers, 'upgrade') !== undefined;
    this.#parser.reset();
    this.#parser.expectNoBody(req.method === 'HEAD');
    this.#framing = req.endStream ? 'none' : req.contentLength !== undefined ? 'length' : 'chunked';
    const head = requestHead(req.method, req.path, req.authority, req.headers, this.#framing);
    this.#queue(Buffer.from(head, 'latin1'));
  }

  sendData(data: Buffer, endStream: boolean): boolean {
    if (this.#closed) return false;
    if (this.#framing === 'chunked') {
      if (data.length > 0) this.#queue(chunk(data));
      if (endStream) this.#queue(lastChunk());
    } else if (data.length > 0) {
      this.#queue(data);
    }
    if (endStream) this.#requestDone = true;
    if (endStream && this.#responseDone) this.#finish();
    const room = this.#pendingBytes < 65536 && this.#socket.writableLength < 65536;
    // The caller waits for onDrain: it comes from the socket, or from #flush when the write
    // went through without back-pressure (then the socket never says 'drain').
    if (!room) this.#wantDrain = true;
    return room;
  }

  sendTrailers(trailers: HeaderList): void {
    if (this.#closed) return;
    if (this.#framing === 'chunked') this.#queue(lastChunk(trailers));
    this.#requestDone = true;
    if (this.#responseDone) this.#finish();
  }

  pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    this.#socket.pause();
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#socket.resume();
  }

  /** Aborts the exchange in flight: the connection is reset. */
  reset(): void {
    this.#destroy();
  }

  /**
   * Closes the connection: between requests cleanly (FIN, or END_STREAM over HBONE, so the
   * destination ztunnel records a normal close; reset if the upstream does not end its side within
   * GRACEFUL_CLOSE_MS), during an exchange with a reset that the exchange is told of.
   */
  close(): void {
    if (this.#closed) return;
    if (this.#listener) {
      this.#fail('the connection was closed');
      return;
    }
    this.#closed = true;
    this.#events.closed(this);
    const s = this.#socket;
    const timer = setTimeout(() => s.destroy(), GRACEFUL_CLOSE_MS);
    timer.unref();
    s.once('close', () => clearTimeout(timer));
    s.end();
    // Read on (and drop) until the upstream ends its side too.
    if (this.#paused) s.resume();
  }

  #destroy(): void {
    if (this.#closed && this.#socket.destroyed) return;
    this.#listener = undefined;
    this.#socket.destroy();
    if (this.#closed) return;
    this.#closed = true;
    this.#events.closed(this);
  }

  /** Coalesces writes of one turn into a single write. */
  #queue(buf: Buffer): void {
    (this.#pending ??= []).push(buf);
    this.#pendingBytes += buf.length;
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      queueMicrotask(() => this.#flush());
    }
  }

  #flush(): void {
    this.#flushQueued = false;
    const p = this.#pending;
    if (!p || this.#closed) return;
    this.#pending = undefined;
    this.#pendingBytes = 0;
    const flowing = this.#socket.write(p.length === 1 ? p[0]! : Buffer.concat(p));
    if (flowing && this.#wantDrain) {
      this.#wantDrain = false;
      this.#listener?.onDrain();
    }
  }

  #onData(d: Buffer): void {
    if (!this.#listener) {
      // Bytes from an idle connection: the server is not speaking HTTP/1.1 correctly (or a
      // connection closing cleanly reads on until the upstream's end).
      if (!this.#closed) this.#destroy();
      return;
    }
    let used: number;
    try {
      used = this.#parser.execute(d);
    } catch (err) {
      const message = err instanceof HttpParseError ? err.message : String(err);
      this.#fail(`invalid response: ${message}`, 'protocol-error');
      return;
    }
    if (this.#switched) this.#handOver(this.#switched, d.subarray(used));
  }

  /** After 101: the socket leaves this connection (never pooled again) for the listener. */
  #handOver(head: { status: number; headers: HeaderList }, rest: Buffer): void {
    const l = this.#listener;
    this.#flush();
    const s = this.#socket;
    s.off('data', this.#onDataFn);
    s.off('end', this.#onEndFn);
    s.off('error', this.#onErrorFn);
    s.off('close', this.#onCloseFn);
    s.off('drain', this.#onDrainFn);
    this.#listener = undefined;
    this.#closed = true;
    this.#events.closed(this);
    if (this.#paused) this.#socket.resume();
    l?.onUpgrade?.(head.status, head.headers, this.#socket, rest);
  }

  #onHead(h: ParsedResponseHead): void {
    const l = this.#listener;
    if (!l) return;
    if (h.status < 200) {
      if (h.status !== 101) l.onInformational(h.status, h.headers);
      else if (this.#upgrading && l.onUpgrade) this.#switched = h;
      else this.#fail('101 Switching Protocols to a request without Upgrade', 'protocol-error');
      return;
    }
    this.#responseStarted = true;
    this.#keepAlive = h.keepAlive;
    this.#endedWithHead = h.framing.kind === 'none';
    l.onHead(h.status, h.headers, this.#endedWithHead);
  }

  #onEnd(trailers: HeaderList | undefined): void {
    const l = this.#listener;
    this.#responseDone = true;
    if (l) {
      if (trailers && trailers.length > 0) l.onTrailers(trailers);
      else if (!this.#endedWithHead) l.onData(EMPTY, true);
    }
    if (this.#requestDone) this.#finish();
  }

  #finish(): void {
    this.#listener = undefined;
    if (this.#keepAlive && !this.#closed) {
      this.idleSince = Date.now();
      this.#events.idle(this);
    } else {
      this.close();
    }
  }

  #onEof(): void {
    // The upstream closed a kept-alive connection between requests: end ours too.
    if (!this.#listener) {
      this.close();
      return;
    }
    if (this.#parser.readsUntilClose) {
      this.#keepAlive = false;
      this.#parser.finish();
      return;
    }
    this.#fail('the upstream closed the connection');
  }

  #fail(reason: string, failure?: 'protocol-error'): void {
    const l = this.#listener;
    if (this.#closed && !l) return;
    this.#listener = undefined;
    if (l && !this.#responseDone) {
      const kind =
        failure ?? (this.#responseStarted ? 'reset-after-response' : 'reset-before-response');
      l.onError(new UpstreamError(kind, reason));
    }
    this.#destroy();
  }
}
