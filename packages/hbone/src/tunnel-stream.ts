// The bytes of one tunneled TCP connection: a net-like Duplex over one HTTP/2 CONNECT stream of an
// HboneSession (h2/session.ts), used by the client (returned from connect) and by the server (handed
// to onConnect and dial as request.stream, then spliced to the upstream socket).
//
// - Back-pressure: received DATA is returned to the peer's window (WINDOW_UPDATE) only as the
//   reader takes it: once the read buffer is full, nothing more is released, so the peer's writer
//   stalls after at most one stream window. A write completes when its bytes went out in DATA
//   frames, which needs the peer's window; until then further writes are held back.
// - Half-close: end() sends END_STREAM and reading goes on; the peer's END_STREAM ends reading.
// - Reset: destroy() before both directions ended sends RST_STREAM (CONNECT_ERROR with an error,
//   the code a TCP reset maps to per RFC 9113 §8.5; CANCEL without); a peer's RST_STREAM with any
//   code but NO_ERROR, or the connection going away, destroys this stream with a TunnelResetError
//   (code ECONNRESET).
import { Duplex } from 'node:stream';
import { rstCodeName, TunnelResetError } from './errors.js';
import { ErrorCode } from './h2/frames.pure.js';
import { ReceiveWindow, SendWindow } from './h2/flow.pure.js';
import type { HeaderField } from './h2/hpack.pure.js';
import type { H2Settings } from './h2/settings.pure.js';

/** Read buffer of the tunnel: a few DATA frames before the peer's window stops being released. */
const READ_BUFFER_BYTES = 256 * 1024;
/** Writes held in the tunnel while earlier ones wait for the peer's window or the socket. */
const WRITE_BUFFER_BYTES = 256 * 1024;

/** Receives byte counts as they pass, e.g. to update metrics. */
export interface ByteCounter {
  sent(bytes: number): void;
  received(bytes: number): void;
}

/** Request or response headers as received: one string per name, an array for repeated names. */
export type IncomingHeaders = Record<string, string | string[] | undefined>;

/** What a stream needs from its connection (implemented by HboneSession). */
export interface StreamOwner {
  /** The peer's settings and the acknowledged ones of this end. */
  readonly remoteSettings: Readonly<H2Settings>;
  readonly localSettings: Readonly<H2Settings>;
  /** Connection windows: what this end may send, and what it lets the peer send. */
  readonly state: { readonly remoteWindowSize: number; readonly effectiveLocalWindowSize: number };
  /** True once the connection takes no new streams. */
  readonly closed: boolean;
  readonly destroyed: boolean;
  /** Sends whatever of the stream's queued data (and END_STREAM) the windows allow. */
  flush(stream: TunnelStream): void;
  sendHeaders(stream: TunnelStream, fields: readonly HeaderField[], endStream: boolean): void;
  /** Sends RST_STREAM and forgets the stream. */
  sendReset(stream: TunnelStream, code: number): void;
  /** The reader consumed `octets` of this stream's DATA. */
  release(stream: TunnelStream, octets: number): void;
  /** Both directions ended: the stream is closed on the wire. */
  streamClosed(stream: TunnelStream): void;
}

export interface StreamWindows {
  /** The peer's SETTINGS_INITIAL_WINDOW_SIZE: what this end may send at first. */
  readonly send: number;
  /** This end's SETTINGS_INITIAL_WINDOW_SIZE, and how much to release before a WINDOW_UPDATE. */
  readonly receive: number;
  readonly receiveThreshold: number;
}

export class TunnelStream extends Duplex {
  readonly sendWindow: SendWindow;
  readonly receiveWindow: ReceiveWindow;
  /** The SPIFFE ID of the other end of the HBONE connection (set once the server answered 200, on the client). */
  peerIdentity: string;
  readonly #owner: StreamOwner;
  readonly #counter: ByteCounter | undefined;
  /** Data taken by _write/_writev, not yet framed; `#outDone` completes it. */
  #out: Buffer[] = [];
  #outBytes = 0;
  #outDone: ((err?: Error | null) => void) | undefined;
  #finalDone: ((err?: Error | null) => void) | undefined;
  #endWanted = false;
  #localEnded = false;
  #remoteEnded = false;
  #wireClosed = false;
  #headersSent = false;
  #rstCode: number | undefined;
  /** DATA received while the read buffer was full: released when the reader asks for more. */
  #held = 0;
  #paused = false;
  #sent = 0;
  #received = 0;

  constructor(
    readonly id: number,
    owner: StreamOwner,
    windows: StreamWindows,
    peerIdentity: string,
    counter?: ByteCounter,
  ) {
    super({
      allowHalfOpen: true,
      readableHighWaterMark: READ_BUFFER_BYTES,
      writableHighWaterMark: WRITE_BUFFER_BYTES,
    });
    this.#owner = owner;
    this.#counter = counter;
    this.peerIdentity = peerIdentity;
    this.sendWindow = new SendWindow(windows.send);
    this.receiveWindow = new ReceiveWindow(windows.receive, windows.receiveThreshold);
  }

  /** The HTTP/2 connection this stream belongs to. */
  get session(): StreamOwner {
    return this.#owner;
  }

  /** Bytes written into the tunnel (towards the peer). */
  get bytesSent(): number {
    return this.#sent;
  }

  /** Bytes read from the tunnel (from the peer). */
  get bytesReceived(): number {
    return this.#received;
  }

  /** The RST_STREAM code that closed the stream (sent or received); undefined if none. */
  get rstCode(): number | undefined {
    return this.#rstCode;
  }

  /** True once the stream is closed on the wire (both END_STREAMs, or a RST_STREAM). */
  get wireClosed(): boolean {
    return this.#wireClosed;
  }

  get headersSent(): boolean {
    return this.#headersSent;
  }

  /** Server: answers the CONNECT with `status`; `endStream` also ends this side. */
  respond(status: number, options: { endStream?: boolean } = {}): void {
    if (this.#headersSent || this.#wireClosed) return;
    this.#headersSent = true;
    const endStream = options.endStream ?? false;
    this.#owner.sendHeaders(this, [[':status', String(status)]], endStream);
    if (endStream) this.#endSent();
    else this.#owner.flush(this);
  }

  /** Closes the stream now with RST_STREAM `code` (NO_ERROR asks the peer to stop sending, nothing more). */
  close(code: number = ErrorCode.NO_ERROR): void {
    if (!this.#wireClosed) {
      this.#rstCode = code;
      this.#wireClosed = true;
      this.#owner.sendReset(this, code);
    }
    this.destroy();
  }

  // --- called by the session ---------------------------------------------------------------

  /** Client: HEADERS went out with the request. */
  markHeadersSent(): void {
    this.#headersSent = true;
  }

  onData(chunk: Buffer): void {
    this.#received += chunk.length;
    this.#counter?.received(chunk.length);
    const more = this.push(chunk);
    if (this.#paused || !more) {
      this.#paused = true;
      this.#held += chunk.length;
    } else {
      this.#owner.release(this, chunk.length);
    }
  }

  /** The peer's END_STREAM. */
  onEnd(): void {
    if (this.#remoteEnded) return;
    this.#remoteEnded = true;
    this.push(null);
    this.#maybeClosed();
  }

  /** The peer's RST_STREAM, a stream error, or the connection going away (`code` then says why). */
  onReset(code: number, detail: string): void {
    const clean = code === ErrorCode.NO_ERROR && this.#remoteEnded && this.#localEnded;
    this.#rstCode ??= code;
    this.#wireClosed = true;
    this.#failWrites();
    if (!clean) this.destroy(new TunnelResetError(code, detail));
  }

  /** The bytes this stream has queued for DATA frames. */
  get queuedBytes(): number {
    return this.#outBytes;
  }

  /** True when END_STREAM should follow the queued data. */
  get endWanted(): boolean {
    return this.#endWanted && !this.#localEnded;
  }

  /** Takes up to `octets` queued bytes for one DATA frame; completes the pending write once all are taken. */
  takeQueued(octets: number): Buffer[] {
    const parts: Buffer[] = [];
    let left = octets;
    while (left > 0) {
      const head = this.#out[0] as Buffer;
      if (head.length <= left) {
        parts.push(head);
        this.#out.shift();
        left -= head.length;
      } else {
        parts.push(head.subarray(0, left));
        this.#out[0] = head.subarray(left);
        left = 0;
      }
    }
    this.#outBytes -= octets;
    return parts;
  }

  /** Called after a DATA frame went out: completes the write once its bytes are all framed. */
  written(): void {
    if (this.#outBytes > 0) return;
    const done = this.#outDone;
    this.#outDone = undefined;
    done?.();
  }

  /** END_STREAM went out. */
  endSent(): void {
    this.#endSent();
  }

  // --- Duplex ----------------------------------------------------------------------------------

  override _read(): void {
    if (!this.#paused) return;
    this.#paused = false;
    const held = this.#held;
    this.#held = 0;
    if (held > 0) this.#owner.release(this, held);
  }

  override _write(
    chunk: Buffer,
    _encoding: BufferEncoding,
    callback: (err?: Error | null) => void,
  ): void {
    this.#queue([chunk], chunk.length, callback);
  }

  override _writev(
    chunks: Array<{ chunk: Buffer; encoding: BufferEncoding }>,
    callback: (err?: Error | null) => void,
  ): void {
    let bytes = 0;
    const buffers = chunks.map(({ chunk }) => {
      bytes += chunk.length;
      return chunk;
    });
    this.#queue(buffers, bytes, callback);
  }

  override _final(callback: (err?: Error | null) => void): void {
    if (this.#wireClosed) {
      callback(this.#resetError('the stream is closed'));
      return;
    }
    this.#endWanted = true;
    this.#finalDone = callback;
    this.#owner.flush(this);
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    if (!this.#wireClosed) {
      this.#rstCode = err ? ErrorCode.CONNECT_ERROR : ErrorCode.CANCEL;
      this.#wireClosed = true;
      this.#owner.sendReset(this, this.#rstCode);
    }
    this.#out = [];
    this.#outBytes = 0;
    this.#outDone = undefined;
    this.#finalDone = undefined;
    callback(err);
  }

  #queue(buffers: Buffer[], bytes: number, callback: (err?: Error | null) => void): void {
    if (this.#wireClosed) {
      callback(this.#resetError('the stream is closed'));
      return;
    }
    this.#sent += bytes;
    this.#counter?.sent(bytes);
    this.#out.push(...buffers);
    this.#outBytes += bytes;
    this.#outDone = callback;
    this.#owner.flush(this);
  }

  #endSent(): void {
    this.#localEnded = true;
    const done = this.#finalDone;
    this.#finalDone = undefined;
    done?.();
    this.#maybeClosed();
  }

  #maybeClosed(): void {
    if (this.#wireClosed || !this.#localEnded || !this.#remoteEnded) return;
    this.#wireClosed = true;
    this.#owner.streamClosed(this);
  }

  #failWrites(): void {
    const done = this.#outDone;
    const final = this.#finalDone;
    this.#outDone = undefined;
    this.#finalDone = undefined;
    this.#out = [];
    this.#outBytes = 0;
    const err = this.#resetError('the stream was reset');
    done?.(err);
    final?.(err);
  }

  #resetError(detail: string): TunnelResetError {
    const code = this.#rstCode ?? ErrorCode.NO_ERROR;
    return new TunnelResetError(
      code,
      code !== ErrorCode.NO_ERROR ? `RST_STREAM ${rstCodeName(code)}` : detail,
    );
  }
}
