// One HTTP/2 connection carrying HBONE CONNECT streams, spoken directly on a (TLS) socket: the I/O
// layer over the pure frame codec, HPACK and flow-control modules. Both roles: a client opens
// streams with request(), a server announces them with 'stream'.
//
// Data path: DATA payloads go from the socket straight into the stream's read buffer, piece by
// piece; outgoing data leaves in frames as large as the peer allows (its SETTINGS_MAX_FRAME_SIZE)
// and the windows permit, each written as a frame header plus the payload buffers in one corked
// write. The connection's receive window is returned as soon as DATA arrives (each stream's window
// bounds what it may buffer, so one slow tunnel never stalls the others); a stream's window only as
// its reader takes the data.
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import {
  CLIENT_PREFACE,
  decodeGoaway,
  decodeSettings,
  decodeWindowUpdate,
  encodeFrameHeader,
  encodeGoaway,
  encodeHeaders,
  encodePing,
  encodeRstStream,
  encodeSettings,
  encodeSettingsAck,
  encodeWindowUpdate,
  ErrorCode,
  Flag,
  FrameReader,
  FrameType,
  H2ProtocolError,
  headersFragment,
  SettingId,
  type FrameHeader,
  type FrameSink,
} from './frames.pure.js';
import { ReceiveWindow, SendWindow } from './flow.pure.js';
import { encodeHeaderBlock, HpackDecoder, type HeaderField } from './hpack.pure.js';
import { headersObject } from './headers.pure.js';
import { DEFAULT_SETTINGS, type H2Settings } from './settings.pure.js';
import { rstCodeName } from '../errors.js';
import {
  TunnelStream,
  type ByteCounter,
  type IncomingHeaders,
  type StreamOwner,
} from '../tunnel-stream.js';

const DEFAULT_CONNECTION_WINDOW = 65_535;
/** A header block (HEADERS plus CONTINUATION) longer than this ends the connection. */
const MAX_HEADER_BLOCK_BYTES = 64 * 1024;
/** Outgoing bytes the socket may hold before DATA waits for 'drain'. */
const SOCKET_BUFFER_BYTES = 1024 * 1024;
/** After a graceful close the socket is ended; if the peer never closes its side, it is destroyed after this. */
const LINGER_MS = 2000;

export interface SessionOptions {
  readonly role: 'client' | 'server';
  /** This end's SETTINGS_INITIAL_WINDOW_SIZE. */
  readonly streamWindow: number;
  /** This end's connection receive window. */
  readonly connectionWindow: number;
  /** This end's SETTINGS_MAX_FRAME_SIZE. */
  readonly maxFrameSize: number;
  /** Server: SETTINGS_MAX_CONCURRENT_STREAMS. */
  readonly maxConcurrentStreams?: number;
  /** The verified SPIFFE ID of the peer, given to each stream. */
  readonly peerIdentity: string;
  readonly counter?: ByteCounter;
}

export interface SessionEvents {
  /** Server: a new stream and its request headers. */
  stream: [stream: TunnelStream, headers: IncomingHeaders];
  /** The peer sent GOAWAY. */
  goaway: [code: number, lastStreamId: number];
  /** The peer's SETTINGS arrived (or changed). */
  remoteSettings: [settings: H2Settings];
  /** The peer acknowledged this end's SETTINGS. */
  localSettings: [settings: H2Settings];
  /** A connection error (protocol violation by the peer, socket failure); 'close' follows. */
  error: [err: Error];
  close: [];
}

interface HeaderBlock {
  readonly streamId: number;
  readonly flags: number;
  readonly parts: Buffer[];
  bytes: number;
}

export class HboneSession extends EventEmitter<SessionEvents> implements StreamOwner, FrameSink {
  readonly remoteSettings: H2Settings = { ...DEFAULT_SETTINGS };
  readonly localSettings: H2Settings = { ...DEFAULT_SETTINGS };
  readonly #socket: Duplex;
  readonly #options: SessionOptions;
  readonly #ownSettings: H2Settings;
  readonly #streams = new Map<number, TunnelStream>();
  readonly #reader: FrameReader;
  readonly #decoder = new HpackDecoder();
  readonly #sendWindow = new SendWindow(DEFAULT_CONNECTION_WINDOW);
  readonly #receiveWindow: ReceiveWindow;
  /** Streams with data to send that wait for a window or for the socket to drain. */
  readonly #waiting = new Set<TunnelStream>();
  #nextStreamId: number;
  #lastPeerStreamId = 0;
  #prefaceLeft: number;
  #gotSettings = false;
  #headerBlock: HeaderBlock | undefined;
  #tableReset = false;
  #data: { stream: TunnelStream | undefined; delivered: number } = {
    stream: undefined,
    delivered: 0,
  };
  #socketBlocked = false;
  #goawaySent = false;
  #goawayReceived = false;
  #closing = false;
  #destroyed = false;
  #ended = false;
  readonly #responded = new WeakSet<TunnelStream>();

  constructor(socket: Duplex, options: SessionOptions) {
    super();
    this.#socket = socket;
    this.#options = options;
    this.#ownSettings = {
      ...DEFAULT_SETTINGS,
      enablePush: false,
      initialWindowSize: options.streamWindow,
      maxFrameSize: options.maxFrameSize,
      ...(options.maxConcurrentStreams !== undefined
        ? { maxConcurrentStreams: options.maxConcurrentStreams }
        : {}),
    };
    this.#receiveWindow = new ReceiveWindow(options.connectionWindow, options.connectionWindow / 4);
    this.#nextStreamId = options.role === 'client' ? 1 : 2;
    this.#prefaceLeft = options.role === 'server' ? CLIENT_PREFACE.length : 0;
    this.#reader = new FrameReader(this, options.maxFrameSize);

    // Small frames (WINDOW_UPDATE, SETTINGS ACK, HEADERS) must leave at once: with Nagle's
    // algorithm a window update could wait for the peer's delayed ACK and stall the sender.
    (socket as Duplex & { setNoDelay?: (on: boolean) => unknown }).setNoDelay?.(true);
    socket.on('data', (chunk: Buffer) => this.#onBytes(chunk));
    socket.on('drain', () => this.#onDrain());
    socket.on('error', (err: Error) => this.destroy(err));
    socket.on('end', () => this.destroy());
    socket.once('close', () => {
      this.destroy();
      this.emit('close');
    });

    const settings: Array<[number, number]> = [
      [SettingId.ENABLE_PUSH, 0],
      [SettingId.INITIAL_WINDOW_SIZE, options.streamWindow],
      [SettingId.MAX_FRAME_SIZE, options.maxFrameSize],
    ];
    if (options.maxConcurrentStreams !== undefined) {
      settings.push([SettingId.MAX_CONCURRENT_STREAMS, options.maxConcurrentStreams]);
    }
    if (options.role === 'client') this.#write(CLIENT_PREFACE);
    this.#write(encodeSettings(settings));
    if (options.connectionWindow > DEFAULT_CONNECTION_WINDOW) {
      this.#write(encodeWindowUpdate(0, options.connectionWindow - DEFAULT_CONNECTION_WINDOW));
    }
  }

  /** True once the session no longer accepts new streams (GOAWAY sent or received, or gone). */
  get closed(): boolean {
    return this.#closing || this.#goawayReceived || this.#destroyed;
  }

  get destroyed(): boolean {
    return this.#destroyed;
  }

  /** Open streams. */
  get streams(): number {
    return this.#streams.size;
  }

  /** Connection-level windows, as Node's http2 names them. */
  get state(): { remoteWindowSize: number; effectiveLocalWindowSize: number } {
    return {
      remoteWindowSize: this.#sendWindow.available,
      effectiveLocalWindowSize: this.#options.connectionWindow,
    };
  }

  /** Client: opens a stream with the request headers; throws when the session is closing. */
  request(fields: readonly HeaderField[]): TunnelStream {
    if (this.#options.role !== 'client') throw new Error('only a client session opens streams');
    if (this.closed) throw new Error('the HBONE connection is closing');
    if (this.#streams.size >= this.remoteSettings.maxConcurrentStreams) {
      throw new Error(
        `the server allows ${this.remoteSettings.maxConcurrentStreams} concurrent streams and all are in use`,
      );
    }
    const stream = this.#newStream(this.#nextStreamId);
    this.#nextStreamId += 2;
    this.sendHeaders(stream, fields, false);
    stream.markHeadersSent();
    return stream;
  }

  /** Graceful close: GOAWAY, no new streams; the connection closes once the open ones are done. */
  close(): void {
    if (this.#destroyed) return;
    this.#closing = true;
    this.#sendGoaway(ErrorCode.NO_ERROR);
    this.#maybeFinish();
  }

  /** Closes the connection now; open streams are reset. */
  destroy(err?: Error, destroySocket = true): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#closing = true;
    const detail = err
      ? `the HBONE connection failed: ${err.message}`
      : 'the HBONE connection closed';
    for (const stream of [...this.#streams.values()]) {
      this.#streams.delete(stream.id);
      stream.onReset(ErrorCode.INTERNAL_ERROR, detail);
    }
    this.#waiting.clear();
    if (destroySocket) this.#socket.destroy();
    if (err && this.listenerCount('error') > 0) this.emit('error', err);
  }

  // --- StreamOwner -------------------------------------------------------------------------------

  flush(stream: TunnelStream): void {
    if (this.#destroyed || stream.wireClosed || !stream.headersSent) return;
    for (;;) {
      const queued = stream.queuedBytes;
      if (queued === 0) {
        if (stream.endWanted) {
          this.#write(encodeFrameHeader(0, FrameType.DATA, Flag.END_STREAM, stream.id));
          stream.endSent();
        }
        this.#waiting.delete(stream);
        return;
      }
      const octets = Math.min(
        queued,
        stream.sendWindow.available,
        this.#sendWindow.available,
        this.remoteSettings.maxFrameSize,
      );
      if (octets <= 0 || this.#socketBlocked) {
        this.#waiting.add(stream);
        return;
      }
      const parts = stream.takeQueued(octets);
      const end = stream.queuedBytes === 0 && stream.endWanted;
      stream.sendWindow.consume(octets);
      this.#sendWindow.consume(octets);
      const socket = this.#socket;
      socket.cork();
      socket.write(encodeFrameHeader(octets, FrameType.DATA, end ? Flag.END_STREAM : 0, stream.id));
      for (const part of parts) socket.write(part);
      socket.uncork();
      this.#checkSocket();
      if (end) stream.endSent();
      stream.written();
      if (end) {
        this.#waiting.delete(stream);
        return;
      }
    }
  }

  sendHeaders(stream: TunnelStream, fields: readonly HeaderField[], endStream: boolean): void {
    const block = encodeHeaderBlock(fields, !this.#tableReset);
    this.#tableReset = true;
    this.#write(encodeHeaders(stream.id, block, endStream, this.remoteSettings.maxFrameSize));
  }

  sendReset(stream: TunnelStream, code: number): void {
    this.#forget(stream);
    this.#write(encodeRstStream(stream.id, code));
  }

  release(stream: TunnelStream, octets: number): void {
    if (stream.wireClosed || this.#destroyed) return;
    const increment = stream.receiveWindow.release(octets);
    if (increment > 0) this.#write(encodeWindowUpdate(stream.id, increment));
  }

  streamClosed(stream: TunnelStream): void {
    this.#forget(stream);
  }

  // --- FrameSink ---------------------------------------------------------------------------------

  dataStart(header: FrameHeader): void {
    this.#data = { stream: undefined, delivered: 0 };
    if (this.#headerBlock) throw this.#interrupted();
    if (!this.#gotSettings)
      throw new H2ProtocolError(ErrorCode.PROTOCOL_ERROR, 'DATA before SETTINGS');
    if (header.streamId === 0) {
      throw new H2ProtocolError(ErrorCode.PROTOCOL_ERROR, 'DATA on stream 0');
    }
    this.#receiveWindow.receive(header.length, 0);
    this.#releaseConnection(header.length);
    const stream = this.#streams.get(header.streamId);
    if (!stream) {
      if (this.#isIdle(header.streamId)) {
        throw new H2ProtocolError(
          ErrorCode.PROTOCOL_ERROR,
          `DATA on idle stream ${header.streamId}`,
        );
      }
      return; // A stream this end already reset: its window was returned above.
    }
    this.#guard(stream, () => stream.receiveWindow.receive(header.length, stream.id));
    if (!stream.wireClosed) this.#data = { stream, delivered: 0 };
  }

  data(_header: FrameHeader, chunk: Buffer): void {
    const stream = this.#data.stream;
    if (!stream) return;
    this.#data.delivered += chunk.length;
    stream.onData(chunk);
  }

  dataEnd(header: FrameHeader): void {
    const { stream, delivered } = this.#data;
    this.#data = { stream: undefined, delivered: 0 };
    if (!stream || stream.wireClosed) return;
    const padding = header.length - delivered;
    if (padding > 0) this.release(stream, padding);
    if (header.flags & Flag.END_STREAM) stream.onEnd();
  }

  frame(header: FrameHeader, payload: Buffer): void {
    if (this.#headerBlock && header.type !== FrameType.CONTINUATION) throw this.#interrupted();
    if (!this.#gotSettings && header.type !== FrameType.SETTINGS) {
      throw new H2ProtocolError(
        ErrorCode.PROTOCOL_ERROR,
        `the peer's first frame is of type ${header.type}, not SETTINGS`,
      );
    }
    switch (header.type) {
      case FrameType.HEADERS:
        return this.#onHeaders(header, payload);
      case FrameType.CONTINUATION:
        return this.#onContinuation(header, payload);
      case FrameType.PRIORITY:
        return this.#onPriority(header, payload);
      case FrameType.RST_STREAM:
        return this.#onRstStream(header, payload);
      case FrameType.SETTINGS:
        return this.#onSettings(header, payload);
      case FrameType.PUSH_PROMISE:
        throw new H2ProtocolError(
          ErrorCode.PROTOCOL_ERROR,
          'PUSH_PROMISE although push is disabled',
        );
      case FrameType.PING:
        return this.#onPing(header, payload);
      case FrameType.GOAWAY:
        return this.#onGoaway(header, payload);
      case FrameType.WINDOW_UPDATE:
        return this.#onWindowUpdate(header, payload);
      default:
        return; // Unknown frame types are ignored (RFC 9113 §4.1).
    }
  }

  // --- receiving ---------------------------------------------------------------------------------

  #onBytes(chunk: Buffer): void {
    if (this.#destroyed) return;
    try {
      let bytes = chunk;
      if (this.#prefaceLeft > 0) {
        const at = CLIENT_PREFACE.length - this.#prefaceLeft;
        const take = Math.min(this.#prefaceLeft, bytes.length);
        if (!bytes.subarray(0, take).equals(CLIENT_PREFACE.subarray(at, at + take))) {
          throw new H2ProtocolError(
            ErrorCode.PROTOCOL_ERROR,
            'the client did not send the HTTP/2 connection preface',
          );
        }
        this.#prefaceLeft -= take;
        bytes = bytes.subarray(take);
      }
      if (bytes.length > 0) this.#reader.push(bytes);
    } catch (err) {
      this.#connectionError(err as Error);
    }
  }

  #onHeaders(header: FrameHeader, payload: Buffer): void {
    if (header.streamId === 0)
      throw new H2ProtocolError(ErrorCode.PROTOCOL_ERROR, 'HEADERS on stream 0');
    const fragment = headersFragment(header, payload);
    this.#headerBlock = {
      streamId: header.streamId,
      flags: header.flags,
      parts: [fragment],
      bytes: fragment.length,
    };
    if (header.flags & Flag.END_HEADERS) this.#finishHeaderBlock();
    else this.#checkHeaderBlockSize();
  }

  #onContinuation(header: FrameHeader, payload: Buffer): void {
    const block = this.#headerBlock;
    if (!block || block.streamId !== header.streamId) {
      throw new H2ProtocolError(
        ErrorCode.PROTOCOL_ERROR,
        'CONTINUATION without a header block in progress',
      );
    }
    block.parts.push(payload);
    block.bytes += payload.length;
    if (header.flags & Flag.END_HEADERS) this.#finishHeaderBlock();
    else this.#checkHeaderBlockSize();
  }

  #checkHeaderBlockSize(): void {
    if ((this.#headerBlock?.bytes ?? 0) > MAX_HEADER_BLOCK_BYTES) {
      throw new H2ProtocolError(
        ErrorCode.ENHANCE_YOUR_CALM,
        `a header block is longer than ${MAX_HEADER_BLOCK_BYTES} octets`,
      );
    }
  }

  #finishHeaderBlock(): void {
    const block = this.#headerBlock as HeaderBlock;
    this.#headerBlock = undefined;
    this.#checkHeaderBlockSize();
    // Decoded even for streams that are refused or gone: the HPACK state must stay in step.
    const fields = this.#decoder.decode(Buffer.concat(block.parts, block.bytes));
    const endStream = (block.flags & Flag.END_STREAM) !== 0;
    const id = block.streamId;
    const stream = this.#streams.get(id);
    if (stream) {
      this.#guard(stream, () => this.#onStreamHeaders(stream, fields, endStream));
      return;
    }
    if (this.#options.role === 'client' || id % 2 === 0) {
      if (this.#isIdle(id)) {
        throw new H2ProtocolError(
          ErrorCode.PROTOCOL_ERROR,
          `HEADERS opening stream ${id}, which this end may not receive`,
        );
      }
      return; // Trailers or a late response on a stream this end already reset.
    }
    if (id <= this.#lastPeerStreamId) return; // A stream already closed.
    this.#lastPeerStreamId = id;
    if (this.#goawaySent || this.#streams.size >= this.#ownSettings.maxConcurrentStreams) {
      this.#write(encodeRstStream(id, ErrorCode.REFUSED_STREAM));
      return;
    }
    const parsed = headersObject(fields, 'request');
    if (!parsed.ok) {
      this.#write(encodeRstStream(id, ErrorCode.PROTOCOL_ERROR));
      return;
    }
    const opened = this.#newStream(id);
    if (endStream) opened.onEnd();
    this.emit('stream', opened, parsed.value);
  }

  #onStreamHeaders(stream: TunnelStream, fields: HeaderField[], endStream: boolean): void {
    const role = this.#options.role;
    if (role === 'client' && this.#responded.has(stream)) {
      // Trailers after the response: only END_STREAM matters.
    } else if (role === 'client') {
      const parsed = headersObject(fields, 'response');
      if (!parsed.ok) throw new H2ProtocolError(ErrorCode.PROTOCOL_ERROR, parsed.reason, stream.id);
      const status = Number(parsed.value[':status']);
      if (status >= 100 && status < 200) return; // Informational.
      this.#responded.add(stream);
      stream.emit('response', parsed.value);
    } else if (!endStream) {
      throw new H2ProtocolError(ErrorCode.PROTOCOL_ERROR, 'trailers without END_STREAM', stream.id);
    }
    if (endStream) stream.onEnd();
  }

  #onPriority(header: FrameHeader, payload: Buffer): void {
    if (header.streamId === 0)
      throw new H2ProtocolError(ErrorCode.PROTOCOL_ERROR, 'PRIORITY on stream 0');
    if (payload.length !== 5) {
      const stream = this.#streams.get(header.streamId);
      if (stream)
        this.#resetStream(stream, ErrorCode.FRAME_SIZE_ERROR, 'PRIORITY frame of the wrong size');
    }
    // Otherwise ignored: HBONE streams are all alike.
  }

  #onRstStream(header: FrameHeader, payload: Buffer): void {
    if (header.streamId === 0)
      throw new H2ProtocolError(ErrorCode.PROTOCOL_ERROR, 'RST_STREAM on stream 0');
    if (payload.length !== 4) {
      throw new H2ProtocolError(
        ErrorCode.FRAME_SIZE_ERROR,
        `RST_STREAM payload of ${payload.length} octets`,
      );
    }
    if (this.#isIdle(header.streamId)) {
      throw new H2ProtocolError(
        ErrorCode.PROTOCOL_ERROR,
        `RST_STREAM on idle stream ${header.streamId}`,
      );
    }
    const stream = this.#streams.get(header.streamId);
    if (!stream) return;
    const code = payload.readUInt32BE(0);
    this.#forget(stream);
    stream.onReset(code, `RST_STREAM ${rstCodeName(code)}`);
  }

  #onSettings(header: FrameHeader, payload: Buffer): void {
    if (header.streamId !== 0)
      throw new H2ProtocolError(ErrorCode.PROTOCOL_ERROR, 'SETTINGS on a stream');
    if (header.flags & Flag.ACK) {
      if (payload.length !== 0)
        throw new H2ProtocolError(ErrorCode.FRAME_SIZE_ERROR, 'SETTINGS ACK with a payload');
      Object.assign(this.localSettings, this.#ownSettings);
      this.emit('localSettings', this.localSettings);
      return;
    }
    this.#gotSettings = true;
    let windowDelta = 0;
    for (const [id, value] of decodeSettings(payload)) {
      const s = this.remoteSettings;
      if (id === SettingId.HEADER_TABLE_SIZE) s.headerTableSize = value;
      else if (id === SettingId.ENABLE_PUSH) s.enablePush = value === 1;
      else if (id === SettingId.MAX_CONCURRENT_STREAMS) s.maxConcurrentStreams = value;
      else if (id === SettingId.INITIAL_WINDOW_SIZE) {
        windowDelta += value - s.initialWindowSize;
        s.initialWindowSize = value;
      } else if (id === SettingId.MAX_FRAME_SIZE) s.maxFrameSize = value;
      else if (id === SettingId.MAX_HEADER_LIST_SIZE) s.maxHeaderListSize = value;
    }
    this.#write(encodeSettingsAck());
    if (windowDelta !== 0) {
      for (const stream of this.#streams.values()) {
        try {
          stream.sendWindow.grow(windowDelta, stream.id);
        } catch (err) {
          throw new H2ProtocolError(ErrorCode.FLOW_CONTROL_ERROR, (err as Error).message);
        }
      }
    }
    this.emit('remoteSettings', this.remoteSettings);
    this.#flushAll();
  }

  #onPing(header: FrameHeader, payload: Buffer): void {
    if (header.streamId !== 0)
      throw new H2ProtocolError(ErrorCode.PROTOCOL_ERROR, 'PING on a stream');
    if (payload.length !== 8) {
      throw new H2ProtocolError(
        ErrorCode.FRAME_SIZE_ERROR,
        `PING payload of ${payload.length} octets`,
      );
    }
    if (!(header.flags & Flag.ACK)) this.#write(encodePing(payload, true));
  }

  #onGoaway(header: FrameHeader, payload: Buffer): void {
    if (header.streamId !== 0)
      throw new H2ProtocolError(ErrorCode.PROTOCOL_ERROR, 'GOAWAY on a stream');
    const { lastStreamId, code } = decodeGoaway(payload);
    this.#goawayReceived = true;
    // Streams this end opened above lastStreamId were not processed: the caller may retry them.
    for (const stream of [...this.#streams.values()]) {
      if (stream.id > lastStreamId && stream.id % 2 === this.#nextStreamId % 2) {
        this.#forget(stream);
        stream.onReset(
          ErrorCode.REFUSED_STREAM,
          `GOAWAY ${rstCodeName(code)}: the stream was not processed`,
        );
      }
    }
    this.emit('goaway', code, lastStreamId);
    this.#closing = true;
    this.#maybeFinish();
  }

  #onWindowUpdate(header: FrameHeader, payload: Buffer): void {
    if (header.streamId === 0) {
      this.#sendWindow.grow(decodeWindowUpdate(header, payload), 0);
      this.#flushAll();
      return;
    }
    if (this.#isIdle(header.streamId)) {
      throw new H2ProtocolError(
        ErrorCode.PROTOCOL_ERROR,
        `WINDOW_UPDATE on idle stream ${header.streamId}`,
      );
    }
    const stream = this.#streams.get(header.streamId);
    if (payload.length !== 4) decodeWindowUpdate(header, payload); // FRAME_SIZE_ERROR for the connection
    if (!stream) return;
    this.#guard(stream, () => {
      stream.sendWindow.grow(decodeWindowUpdate(header, payload), stream.id);
      this.flush(stream);
    });
  }

  // --- helpers -----------------------------------------------------------------------------------

  #newStream(id: number): TunnelStream {
    const stream = new TunnelStream(
      id,
      this,
      {
        send: this.remoteSettings.initialWindowSize,
        receive: this.#options.streamWindow,
        receiveThreshold: this.#options.streamWindow / 4,
      },
      this.#options.peerIdentity,
      this.#options.counter,
    );
    this.#streams.set(id, stream);
    return stream;
  }

  /** Runs `fn`; a stream error it throws resets only `stream`. */
  #guard(stream: TunnelStream, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      if (!(err instanceof H2ProtocolError) || err.streamId === 0) throw err;
      this.#resetStream(stream, err.code, err.message);
    }
  }

  #resetStream(stream: TunnelStream, code: number, detail: string): void {
    if (this.#data.stream === stream) this.#data.stream = undefined;
    this.#forget(stream);
    this.#write(encodeRstStream(stream.id, code));
    stream.onReset(code, detail);
  }

  #forget(stream: TunnelStream): void {
    if (this.#streams.get(stream.id) !== stream) return;
    this.#streams.delete(stream.id);
    this.#waiting.delete(stream);
    this.#maybeFinish();
  }

  /** A stream id this end has not seen used yet (RFC 9113 §5.1 "idle"). */
  #isIdle(id: number): boolean {
    const ours = id % 2 === this.#nextStreamId % 2;
    return ours ? id >= this.#nextStreamId : id > this.#lastPeerStreamId;
  }

  #interrupted(): H2ProtocolError {
    return new H2ProtocolError(
      ErrorCode.PROTOCOL_ERROR,
      'a header block was interrupted by another frame',
    );
  }

  #releaseConnection(octets: number): void {
    const increment = this.#receiveWindow.release(octets);
    if (increment > 0) this.#write(encodeWindowUpdate(0, increment));
  }

  #connectionError(err: Error): void {
    const code = err instanceof H2ProtocolError ? err.code : ErrorCode.INTERNAL_ERROR;
    if (!this.#goawaySent && !this.#destroyed) {
      this.#goawaySent = true;
      this.#write(encodeGoaway(this.#lastPeerStreamId, code, err.message.slice(0, 200)));
    }
    this.#endSocket();
    this.destroy(new Error(`HTTP/2 ${rstCodeName(code)}: ${err.message}`, { cause: err }), false);
  }

  #sendGoaway(code: number): void {
    if (this.#goawaySent) return;
    this.#goawaySent = true;
    this.#write(encodeGoaway(this.#lastPeerStreamId, code));
  }

  #maybeFinish(): void {
    if (!this.#closing || this.#destroyed || this.#ended || this.#streams.size > 0) return;
    this.#sendGoaway(ErrorCode.NO_ERROR);
    this.#endSocket();
  }

  /** Ends the socket after what was written (close_notify and FIN); destroys it if the peer lingers. */
  #endSocket(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#socket.end();
    setTimeout(() => this.destroy(), LINGER_MS).unref();
  }

  #write(bytes: Buffer): void {
    if (this.#destroyed || this.#ended) return;
    this.#socket.write(bytes);
    this.#checkSocket();
  }

  #checkSocket(): void {
    if (this.#socket.writableLength >= SOCKET_BUFFER_BYTES) this.#socketBlocked = true;
  }

  #onDrain(): void {
    this.#socketBlocked = false;
    this.#flushAll();
  }

  #flushAll(): void {
    if (this.#socketBlocked) return;
    for (const stream of [...this.#waiting]) {
      this.flush(stream);
      if (this.#socketBlocked) return;
    }
  }
}
