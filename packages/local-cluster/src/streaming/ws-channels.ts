// One WebSocket streaming connection (exec, attach or port-forward) as numbered channels, each a
// Node Duplex: what the client sends on channel n is read from channel(n), what is written to it
// goes out as messages on n. Readable sides end when the client closes the channel (v5 CLOSE) or
// the connection; channels the request did not open swallow writes and never carry data, as
// wsstream's ignored channels do.
import { EventEmitter } from 'node:events';
import { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { decodeMessage, encodeMessage } from './ws-channels.pure.js';

export type ChannelMode = 'r' | 'w' | 'rw' | '';

export class WsChannel extends Duplex {
  constructor(
    private readonly conn: WsChannelConnection,
    readonly num: number,
    readonly mode: ChannelMode,
  ) {
    super({ allowHalfOpen: true });
  }

  override _read(): void {
    this.conn.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    if (!this.mode.includes('w')) return cb();
    this.conn.send(this.num, chunk, cb);
  }
}

export class WsChannelConnection extends EventEmitter {
  private readonly channels: WsChannel[];
  private readonly ended = new Set<number>();
  isClosed = false;

  constructor(
    private readonly ws: WebSocket,
    private readonly protocol: string,
    /** Per channel: does the client write to it (r), the server (w), both, or neither (""). */
    modes: readonly ChannelMode[],
  ) {
    super();
    this.channels = modes.map((m, i) => new WsChannel(this, i, m));
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => this.receive(toBuffer(data)));
    ws.on('close', () => this.closed());
    ws.on('error', () => this.closed());
  }

  channel(n: number): WsChannel {
    return this.channels[n]!;
  }

  /** Sends an empty message on channel n (the kubelet's "connection established" signal). */
  announce(n: number): void {
    this.send(n, Buffer.alloc(0), () => undefined);
  }

  send(n: number, data: Buffer, cb: (e?: Error | null) => void): void {
    if (this.isClosed) return cb(new Error('connection closed'));
    this.ws.send(encodeMessage(this.protocol, n, data), (e) => cb(e ?? null));
  }

  resume(): void {
    if (this.ws.isPaused) this.ws.resume();
  }

  /** Closes the connection normally once queued messages are sent. */
  close(): void {
    if (this.isClosed) return;
    this.ws.close(1000);
    this.closed();
  }

  private receive(message: Buffer): void {
    const m = decodeMessage(this.protocol, message);
    if (!m) return;
    if ('error' in m) {
      console.error(`websocket stream: ${m.error}`);
      return;
    }
    const ch = this.channels['close' in m ? m.close : m.channel];
    // A channel this request has not, or one only the server writes to: ignored, as wsstream does.
    if (!ch?.mode.includes('r')) return;
    if ('close' in m) this.end(ch);
    else if (!this.ended.has(ch.num) && !ch.push(m.data)) this.ws.pause();
  }

  private end(ch: WsChannel): void {
    if (this.ended.has(ch.num)) return;
    this.ended.add(ch.num);
    ch.push(null);
  }

  private closed(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const ch of this.channels) this.end(ch);
    this.emit('close');
  }
}

function toBuffer(data: Buffer | ArrayBuffer | Buffer[]): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
