// The bytes of one tunneled TCP connection: a net-like Duplex over one HTTP/2 CONNECT stream, used
// by the client (returned from connect) and by the server (spliced to the upstream socket).
//
// - Back-pressure: a full read buffer pauses the HTTP/2 stream, so Node stops returning window to
//   the peer and the peer's writer stalls after at most one stream window; writes wait for 'drain'.
// - Half-close: end() sends END_STREAM and reading goes on; the peer's END_STREAM ends reading.
// - Reset: destroy() before both directions ended sends RST_STREAM (Node picks INTERNAL_ERROR);
//   a peer's RST_STREAM with any code but NO_ERROR, or the connection going away, destroys this
//   stream with a TunnelResetError (code ECONNRESET).
import { Duplex } from 'node:stream';
import { constants, type Http2Stream } from 'node:http2';
import { rstCodeName, TunnelResetError } from './errors.js';

const { NGHTTP2_NO_ERROR } = constants;

/**
 * How many bytes may wait in the HTTP/2 stream for the peer's window before a write is held back.
 * Node's own limit (16 KiB) is below one socket read (64 KiB), so every write would wait for the
 * previous one to leave, one chunk per event-loop turn; this lets a few reads queue up instead.
 */
const H2_WRITE_BUFFER_BYTES = 256 * 1024;
/** Read buffer of the tunnel: a few HTTP/2 DATA frames before the stream is paused. */
const READ_BUFFER_BYTES = 256 * 1024;
/**
 * Received DATA arrives in pieces of ~8 KiB (Node sends frames of at most 16 KiB and TLS records
 * cut them in two), each its own callback; one write to the reader's socket per piece cost about
 * 1.5x the CPU per byte of the same relay over plain TLS. The pieces of one event-loop turn are
 * gathered and pushed as one buffer at the end of the turn (setImmediate), or at this size.
 */
const GATHER_BYTES = READ_BUFFER_BYTES;

/** Receives byte counts as they pass, e.g. to update metrics. */
export interface ByteCounter {
  sent(bytes: number): void;
  received(bytes: number): void;
}

export class TunnelStream extends Duplex {
  readonly #h2: Http2Stream;
  readonly #counter: ByteCounter | undefined;
  #pendingWrite: ((err?: Error | null) => void) | undefined;
  #readEnded = false;
  #writeEnded = false;
  #sent = 0;
  #received = 0;
  #gathered: Buffer[] = [];
  #gatheredBytes = 0;

  /** `peerIdentity`: the SPIFFE ID of the other end of the HBONE connection. */
  constructor(
    h2: Http2Stream,
    readonly peerIdentity: string,
    counter?: ByteCounter,
  ) {
    super({ allowHalfOpen: true, readableHighWaterMark: READ_BUFFER_BYTES });
    this.#h2 = h2;
    this.#counter = counter;
    h2.on('data', (chunk: Buffer) => {
      this.#received += chunk.length;
      this.#counter?.received(chunk.length);
      this.#gathered.push(chunk);
      this.#gatheredBytes += chunk.length;
      if (this.#gatheredBytes >= GATHER_BYTES) this.#pushGathered();
      else if (this.#gathered.length === 1) setImmediate(() => this.#pushGathered());
    });
    h2.on('end', () => {
      this.#pushGathered();
      // Node also ends the readable side of a stream destroyed by RST_STREAM: that is a reset, not an end.
      const code = h2.rstCode ?? NGHTTP2_NO_ERROR;
      if (code !== NGHTTP2_NO_ERROR) {
        this.destroy(this.#resetError(`RST_STREAM ${rstCodeName(code)}`));
        return;
      }
      this.#readEnded = true;
      this.push(null);
    });
    h2.on('drain', () => this.#releaseWrite(null));
    h2.on('error', (err: Error) => {
      this.#pushGathered();
      const code = h2.rstCode ?? NGHTTP2_NO_ERROR;
      this.destroy(
        this.#resetError(
          code !== NGHTTP2_NO_ERROR ? `RST_STREAM ${rstCodeName(code)}` : err.message,
        ),
      );
    });
    h2.on('close', () => this.#onH2Close());
  }

  /** Bytes written into the tunnel (towards the peer). */
  get bytesSent(): number {
    return this.#sent;
  }

  /** Bytes read from the tunnel (from the peer). */
  get bytesReceived(): number {
    return this.#received;
  }

  override _read(): void {
    this.#h2.resume();
  }

  override _write(
    chunk: Buffer,
    _encoding: BufferEncoding,
    callback: (err?: Error | null) => void,
  ): void {
    if (this.#h2.destroyed) {
      callback(this.#resetError('the stream is closed'));
      return;
    }
    this.#sent += chunk.length;
    this.#counter?.sent(chunk.length);
    // After a write returned false, 'drain' follows once the stream's buffer is empty.
    if (this.#h2.write(chunk) || this.#h2.writableLength < H2_WRITE_BUFFER_BYTES) callback();
    else this.#pendingWrite = callback;
  }

  override _final(callback: (err?: Error | null) => void): void {
    this.#writeEnded = true;
    if (!this.#h2.destroyed) this.#h2.end();
    callback();
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.#pendingWrite = undefined;
    const h2 = this.#h2;
    // After both directions ended (autoDestroy) the HTTP/2 stream closes by itself; otherwise reset
    // it. Not with h2.close(code): Node half-closes the stream (END_STREAM) before the RST_STREAM,
    // which the peer would first take for a clean end. destroy() sends the RST_STREAM alone.
    const clean = !err && this.#readEnded && this.#writeEnded;
    if (!clean && !h2.destroyed) h2.destroy(err ?? new Error('tunnel destroyed'));
    callback(err);
  }

  /** Pushes the DATA gathered so far as one chunk, pausing the HTTP/2 stream when the buffer is full. */
  #pushGathered(): void {
    const chunks = this.#gathered;
    if (chunks.length === 0) return;
    this.#gathered = [];
    this.#gatheredBytes = 0;
    if (this.destroyed) return;
    if (!this.push(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks))) this.#h2.pause();
  }

  #releaseWrite(err: Error | null): void {
    const callback = this.#pendingWrite;
    this.#pendingWrite = undefined;
    callback?.(err);
  }

  #onH2Close(): void {
    this.#pushGathered();
    const code = this.#h2.rstCode ?? NGHTTP2_NO_ERROR;
    if (code !== NGHTTP2_NO_ERROR) {
      this.destroy(this.#resetError(`RST_STREAM ${rstCodeName(code)}`));
    } else if (!this.#readEnded || !this.#writeEnded) {
      this.destroy(this.#resetError('the stream closed before both directions ended'));
    }
  }

  #resetError(detail: string): TunnelResetError {
    return new TunnelResetError(this.#h2.rstCode ?? NGHTTP2_NO_ERROR, detail);
  }
}
