// The server side of one SPDY/3.1 connection after an HTTP upgrade: the client (the apiserver)
// opens streams, we reply to each, carry data both ways with FIN and RST_STREAM, echo PINGs, and
// end with GOAWAY. Each stream is a Node Duplex; a stream whose reader falls behind pauses the
// whole connection (SPDY as Kubernetes speaks it has no per-stream flow control).
import { EventEmitter } from 'node:events';
import { Duplex } from 'node:stream';
import { createInflate, constants as zlibConstants, type Inflate } from 'node:zlib';
import type { Socket } from 'node:net';
import {
  FLAG_FIN,
  FLAG_UNIDIRECTIONAL,
  FrameReader,
  FrameType,
  HeaderCompressor,
  RstStatus,
  dataFrame,
  decodeHeaderBlock,
  encodeHeaderBlock,
  goAwayFrame,
  parseSynStream,
  pingFrame,
  payloadStreamId,
  rstStreamFrame,
  synReplyFrame,
  type Frame,
  type Headers,
} from './spdy-frames.pure.js';
import { SPDY3_DICTIONARY } from './spdy-dictionary.pure.js';

const MAX_DATA_CHUNK = 64 * 1024;

export class SpdyStream extends Duplex {
  private replied = false;
  remoteClosed = false;
  localClosed = false;

  constructor(
    private readonly conn: SpdyServerConnection,
    readonly id: number,
    readonly headers: Headers,
  ) {
    super({ allowHalfOpen: true });
  }

  /** The first value of a header (names are lower case on the wire). */
  header(name: string): string | undefined {
    return this.headers.get(name.toLowerCase())?.[0];
  }

  /** Accepts the stream (SYN_REPLY); done automatically unless the stream was reset first. */
  reply(): void {
    if (this.replied || this.destroyed) return;
    this.replied = true;
    this.conn.sendReply(this.id);
  }

  /** Aborts the stream with RST_STREAM. */
  reset(status: number = RstStatus.Cancel): void {
    if (this.destroyed) return;
    this.conn.sendReset(this.id, status);
    this.localClosed = this.remoteClosed = true;
    this.destroy();
  }

  override _read(): void {
    this.conn.resumeFor(this.id);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.conn.writeData(this.id, chunk, false, cb);
  }

  override _final(cb: (e?: Error | null) => void): void {
    this.localClosed = true;
    this.conn.writeData(this.id, Buffer.alloc(0), true, cb);
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    if (!(this.localClosed && this.remoteClosed)) {
      this.conn.sendReset(this.id, RstStatus.Cancel);
      this.localClosed = this.remoteClosed = true;
    }
    this.conn.forget(this.id);
    cb(err);
  }

  /** Called by the connection for DATA frames and FIN. */
  deliver(data: Buffer, fin: boolean): void {
    if (this.remoteClosed) return;
    if (data.length && !this.push(data)) this.conn.pauseFor(this.id);
    if (fin) {
      this.remoteClosed = true;
      this.push(null);
    }
  }
}

export interface SpdyConnectionEvents {
  stream: [SpdyStream];
  close: [];
}

export class SpdyServerConnection extends EventEmitter<SpdyConnectionEvents> {
  private readonly reader = new FrameReader();
  private readonly compressor = new HeaderCompressor();
  private readonly inflater: Inflate;
  private readonly inflated: Buffer[] = [];
  private readonly streams = new Map<number, SpdyStream>();
  private readonly blocked = new Set<number>();
  private chain: Promise<void> = Promise.resolve();
  private lastStreamId = 0;
  private goingAway = false;
  private closed = false;

  constructor(private readonly socket: Socket) {
    super();
    this.inflater = createInflate({ dictionary: SPDY3_DICTIONARY });
    this.inflater.on('error', (e) => this.fail(`header decompression: ${e.message}`));
    this.inflater.on('data', (c: Buffer) => this.inflated.push(c));
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => this.onSocketClosed());
  }

  /** Feeds bytes that arrived with the upgrade request. */
  start(head: Buffer): void {
    if (head.length) this.onData(head);
  }

  private onData(chunk: Buffer): void {
    if (process.env.SPDY_DEBUG)
      console.error(`spdy: ${chunk.length} bytes: ${chunk.subarray(0, 64).toString('hex')}`);
    let frames: Frame[];
    try {
      frames = this.reader.push(chunk);
    } catch (e) {
      this.fail((e as Error).message);
      return;
    }
    for (const f of frames) this.chain = this.chain.then(() => this.handle(f));
    this.chain = this.chain.catch((e: Error) => this.fail(e.message));
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Sends GOAWAY and ends the connection once everything queued is written. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (!this.socket.destroyed) {
      this.socket.write(goAwayFrame(this.lastStreamId, 0));
      this.socket.end();
    }
    for (const s of [...this.streams.values()]) s.destroy();
  }

  sendReply(id: number): void {
    this.rawWrite(synReplyFrame(id, this.compressor.compress(encodeHeaderBlock(new Map())), false));
  }

  sendReset(id: number, status: number): void {
    this.rawWrite(rstStreamFrame(id, status));
  }

  writeData(id: number, data: Buffer, fin: boolean, cb: (e?: Error | null) => void): void {
    if (this.closed || this.socket.destroyed) {
      cb(new Error('the SPDY connection is closed'));
      return;
    }
    let ok = true;
    for (let off = 0; off < data.length; off += MAX_DATA_CHUNK) {
      const last = off + MAX_DATA_CHUNK >= data.length;
      ok = this.socket.write(dataFrame(id, data.subarray(off, off + MAX_DATA_CHUNK), fin && last));
    }
    if (data.length === 0) ok = this.socket.write(dataFrame(id, data, fin));
    if (ok) cb();
    else this.socket.once('drain', () => cb());
  }

  pauseFor(id: number): void {
    this.blocked.add(id);
    this.socket.pause();
  }

  resumeFor(id: number): void {
    if (this.blocked.delete(id) && this.blocked.size === 0 && !this.socket.destroyed)
      this.socket.resume();
  }

  forget(id: number): void {
    this.streams.delete(id);
    this.resumeFor(id);
  }

  private rawWrite(frame: Buffer): void {
    if (!this.closed && !this.socket.destroyed) this.socket.write(frame);
  }

  private async handle(f: Frame): Promise<void> {
    if (this.closed) return;
    if (f.kind === 'data') {
      this.streams.get(f.streamId)?.deliver(f.data, f.fin);
      return;
    }
    if (f.version !== 3) throw new Error(`unsupported SPDY version ${f.version}`);
    switch (f.type) {
      case FrameType.SynStream: {
        const syn = parseSynStream(f.payload);
        const headers = decodeHeaderBlock(await this.inflate(syn.headerBlock));
        if (this.goingAway) {
          this.sendReset(syn.streamId, RstStatus.RefusedStream);
          return;
        }
        if (syn.streamId % 2 !== 1 || syn.streamId <= this.lastStreamId) {
          this.sendReset(syn.streamId, RstStatus.ProtocolError);
          return;
        }
        this.lastStreamId = syn.streamId;
        const s = new SpdyStream(this, syn.streamId, headers);
        this.streams.set(syn.streamId, s);
        if (f.flags & FLAG_UNIDIRECTIONAL) s.localClosed = true;
        if (f.flags & FLAG_FIN) s.deliver(Buffer.alloc(0), true);
        this.emit('stream', s);
        if (!s.destroyed) s.reply();
        return;
      }
      case FrameType.RstStream: {
        const s = this.streams.get(payloadStreamId(f.payload));
        if (s) {
          s.localClosed = s.remoteClosed = true;
          s.destroy();
        }
        return;
      }
      case FrameType.Headers:
        // Headers after the SYN are not used by Kubernetes; decompress to keep the zlib context in step.
        await this.inflate(f.payload.subarray(4));
        if (f.flags & FLAG_FIN)
          this.streams.get(payloadStreamId(f.payload))?.deliver(Buffer.alloc(0), true);
        return;
      case FrameType.Ping:
        if (f.payload.length >= 4) this.rawWrite(pingFrame(f.payload.readUInt32BE(0)));
        return;
      case FrameType.GoAway:
        this.goingAway = true;
        return;
      default:
        // SETTINGS, WINDOW_UPDATE and unknown control frames carry nothing we act on.
        return;
    }
  }

  /** Decompresses one header block with the connection's shared zlib context. */
  private inflate(block: Buffer): Promise<Buffer> {
    return inflateBlock(this.inflater, block, this.inflated);
  }

  private fail(reason: string): void {
    if (this.closed) return;
    console.error(`spdy: closing connection: ${reason}`);
    this.rawWrite(goAwayFrame(this.lastStreamId, 1));
    this.closed = true;
    this.socket.destroy();
    for (const s of [...this.streams.values()]) s.destroy(new Error(reason));
  }

  private onSocketClosed(): void {
    this.closed = true;
    this.inflater.destroy();
    for (const s of [...this.streams.values()]) {
      s.localClosed = s.remoteClosed = true;
      s.destroy();
    }
    this.emit('close');
  }
}

/**
 * Writes one compressed block into a flowing inflater and resolves with what it produced by the
 * end of the sync flush (the inflater's 'data' events push into `sink`).
 */
export function inflateBlock(inflater: Inflate, block: Buffer, sink: Buffer[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    inflater.write(block);
    inflater.flush(zlibConstants.Z_SYNC_FLUSH, () => {
      const out = Buffer.concat(sink.splice(0));
      if (inflater.destroyed) reject(new Error('header decompression failed'));
      else resolve(out);
    });
  });
}
