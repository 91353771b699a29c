// HTTP/2 frames (RFC 9113 §4, §6): type and flag numbers, error codes, encoders that return the
// bytes of one frame, and FrameReader, which cuts a byte stream into frames. DATA payloads are
// handed on piece by piece as they arrive, so a 1 MiB frame is never gathered into one buffer.

export const FrameType = {
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const;

export const Flag = {
  END_STREAM: 0x1,
  ACK: 0x1,
  END_HEADERS: 0x4,
  PADDED: 0x8,
  PRIORITY: 0x20,
} as const;

/** Error codes of RST_STREAM and GOAWAY (RFC 9113 §7). */
export const ErrorCode = {
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  INTERNAL_ERROR: 0x2,
  FLOW_CONTROL_ERROR: 0x3,
  SETTINGS_TIMEOUT: 0x4,
  STREAM_CLOSED: 0x5,
  FRAME_SIZE_ERROR: 0x6,
  REFUSED_STREAM: 0x7,
  CANCEL: 0x8,
  COMPRESSION_ERROR: 0x9,
  CONNECT_ERROR: 0xa,
  ENHANCE_YOUR_CALM: 0xb,
  INADEQUATE_SECURITY: 0xc,
  HTTP_1_1_REQUIRED: 0xd,
} as const;

/** The 24 octets a client sends before its first frame (RFC 9113 §3.4). */
export const CLIENT_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
export const FRAME_HEADER_BYTES = 9;
/** SETTINGS_MAX_FRAME_SIZE before the peer says otherwise, and its lowest allowed value. */
export const DEFAULT_MAX_FRAME_SIZE = 16_384;
export const MAX_ALLOWED_FRAME_SIZE = 16_777_215;
export const MAX_WINDOW = 2 ** 31 - 1;

/**
 * A violation of HTTP/2 by the peer. `streamId` 0 (or absent) makes it a connection error (GOAWAY
 * with `code`); otherwise only that stream is reset (RST_STREAM with `code`).
 */
export class H2ProtocolError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly streamId = 0,
  ) {
    super(message);
    this.name = 'H2ProtocolError';
  }
}

export interface FrameHeader {
  readonly length: number;
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
}

export function encodeFrameHeader(
  length: number,
  type: number,
  flags: number,
  streamId: number,
): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  out.writeUIntBE(length, 0, 3);
  out[3] = type;
  out[4] = flags;
  out.writeUInt32BE(streamId & MAX_WINDOW, 5);
  return out;
}

export function decodeFrameHeader(bytes: Buffer, at = 0): FrameHeader {
  return {
    length: bytes.readUIntBE(at, 3),
    type: bytes[at + 3] as number,
    flags: bytes[at + 4] as number,
    streamId: bytes.readUInt32BE(at + 5) & MAX_WINDOW,
  };
}

function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  return Buffer.concat([encodeFrameHeader(payload.length, type, flags, streamId), payload]);
}

/** Setting identifiers (RFC 9113 §6.5.2). */
export const SettingId = {
  HEADER_TABLE_SIZE: 0x1,
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
  MAX_HEADER_LIST_SIZE: 0x6,
} as const;

export function encodeSettings(settings: ReadonlyArray<readonly [number, number]>): Buffer {
  const payload = Buffer.allocUnsafe(6 * settings.length);
  settings.forEach(([id, value], i) => {
    payload.writeUInt16BE(id, 6 * i);
    payload.writeUInt32BE(value, 6 * i + 2);
  });
  return frame(FrameType.SETTINGS, 0, 0, payload);
}

export function encodeSettingsAck(): Buffer {
  return encodeFrameHeader(0, FrameType.SETTINGS, Flag.ACK, 0);
}

/** The (identifier, value) pairs of a SETTINGS payload, checked as RFC 9113 §6.5 requires. */
export function decodeSettings(payload: Buffer): Array<[number, number]> {
  if (payload.length % 6 !== 0) {
    throw new H2ProtocolError(
      ErrorCode.FRAME_SIZE_ERROR,
      `SETTINGS payload of ${payload.length} octets is not a multiple of 6`,
    );
  }
  const out: Array<[number, number]> = [];
  for (let at = 0; at < payload.length; at += 6) {
    const id = payload.readUInt16BE(at);
    const value = payload.readUInt32BE(at + 2);
    if (id === SettingId.ENABLE_PUSH && value > 1) {
      throw new H2ProtocolError(
        ErrorCode.PROTOCOL_ERROR,
        `SETTINGS_ENABLE_PUSH ${value} is not 0 or 1`,
      );
    }
    if (id === SettingId.INITIAL_WINDOW_SIZE && value > MAX_WINDOW) {
      throw new H2ProtocolError(
        ErrorCode.FLOW_CONTROL_ERROR,
        `SETTINGS_INITIAL_WINDOW_SIZE ${value} is above 2^31-1`,
      );
    }
    if (
      id === SettingId.MAX_FRAME_SIZE &&
      (value < DEFAULT_MAX_FRAME_SIZE || value > MAX_ALLOWED_FRAME_SIZE)
    ) {
      throw new H2ProtocolError(
        ErrorCode.PROTOCOL_ERROR,
        `SETTINGS_MAX_FRAME_SIZE ${value} is outside 16384..16777215`,
      );
    }
    out.push([id, value]);
  }
  return out;
}

export function encodeWindowUpdate(streamId: number, increment: number): Buffer {
  const payload = Buffer.allocUnsafe(4);
  payload.writeUInt32BE(increment);
  return frame(FrameType.WINDOW_UPDATE, 0, streamId, payload);
}

export function decodeWindowUpdate(header: FrameHeader, payload: Buffer): number {
  if (payload.length !== 4) {
    throw new H2ProtocolError(
      ErrorCode.FRAME_SIZE_ERROR,
      `WINDOW_UPDATE payload of ${payload.length} octets (expected 4)`,
    );
  }
  const increment = payload.readUInt32BE(0) & MAX_WINDOW;
  if (increment === 0) {
    throw new H2ProtocolError(
      ErrorCode.PROTOCOL_ERROR,
      'WINDOW_UPDATE with an increment of 0',
      header.streamId,
    );
  }
  return increment;
}

export function encodeRstStream(streamId: number, code: number): Buffer {
  const payload = Buffer.allocUnsafe(4);
  payload.writeUInt32BE(code);
  return frame(FrameType.RST_STREAM, 0, streamId, payload);
}

export function encodePing(payload: Buffer, ack: boolean): Buffer {
  return frame(FrameType.PING, ack ? Flag.ACK : 0, 0, payload);
}

export function encodeGoaway(lastStreamId: number, code: number, debug = ''): Buffer {
  const text = Buffer.from(debug, 'utf8');
  const payload = Buffer.allocUnsafe(8 + text.length);
  payload.writeUInt32BE(lastStreamId & MAX_WINDOW, 0);
  payload.writeUInt32BE(code, 4);
  text.copy(payload, 8);
  return frame(FrameType.GOAWAY, 0, 0, payload);
}

export function decodeGoaway(payload: Buffer): {
  lastStreamId: number;
  code: number;
  debug: string;
} {
  if (payload.length < 8) {
    throw new H2ProtocolError(
      ErrorCode.FRAME_SIZE_ERROR,
      `GOAWAY payload of ${payload.length} octets (at least 8)`,
    );
  }
  return {
    lastStreamId: payload.readUInt32BE(0) & MAX_WINDOW,
    code: payload.readUInt32BE(4),
    debug: payload.subarray(8).toString('utf8'),
  };
}

/**
 * HEADERS plus CONTINUATION frames carrying `block`, none longer than `maxFrameSize`; as one buffer
 * so that no other frame can slip in between them.
 */
export function encodeHeaders(
  streamId: number,
  block: Buffer,
  endStream: boolean,
  maxFrameSize: number,
): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  do {
    const piece = block.subarray(at, at + maxFrameSize);
    const last = at + piece.length >= block.length;
    const type = at === 0 ? FrameType.HEADERS : FrameType.CONTINUATION;
    let flags = last ? Flag.END_HEADERS : 0;
    if (at === 0 && endStream) flags |= Flag.END_STREAM;
    parts.push(encodeFrameHeader(piece.length, type, flags, streamId), piece);
    at += piece.length;
  } while (at < block.length);
  return Buffer.concat(parts);
}

/**
 * The header block fragment of a HEADERS frame: padding and the priority fields removed
 * (RFC 9113 §6.2).
 */
export function headersFragment(header: FrameHeader, payload: Buffer): Buffer {
  let start = 0;
  let end = payload.length;
  if (header.flags & Flag.PADDED) {
    const pad = payload[0];
    start = 1;
    if (pad === undefined || pad >= payload.length) {
      throw new H2ProtocolError(
        ErrorCode.PROTOCOL_ERROR,
        'HEADERS padding is longer than the frame',
      );
    }
    end -= pad;
  }
  if (header.flags & Flag.PRIORITY) start += 5;
  if (start > end) {
    throw new H2ProtocolError(ErrorCode.FRAME_SIZE_ERROR, 'HEADERS frame too short for its flags');
  }
  return payload.subarray(start, end);
}

/** What FrameReader hands on. */
export interface FrameSink {
  /** A whole frame of any type but DATA. */
  frame(header: FrameHeader, payload: Buffer): void;
  /** A DATA frame starts: its full length counts against flow control now. */
  dataStart(header: FrameHeader): void;
  /** Application bytes of the current DATA frame (padding removed). */
  data(header: FrameHeader, chunk: Buffer): void;
  /** The current DATA frame is complete (END_STREAM is in header.flags). */
  dataEnd(header: FrameHeader): void;
}

/**
 * Cuts the bytes after the connection preface into frames. `maxFrameSize` is the largest frame this
 * end accepts (its SETTINGS_MAX_FRAME_SIZE); a longer one is a FRAME_SIZE_ERROR.
 */
export class FrameReader {
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #header: FrameHeader | undefined;
  /** Payload octets of the current unpadded DATA frame still to come. */
  #dataLeft = 0;

  constructor(
    private readonly sink: FrameSink,
    private readonly maxFrameSize: number,
  ) {}

  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      const header = this.#header;
      if (header && this.#dataLeft > 0) {
        const piece = chunk.subarray(at, at + this.#dataLeft);
        at += piece.length;
        this.#dataLeft -= piece.length;
        this.sink.data(header, piece);
        if (this.#dataLeft === 0) this.#finishData(header);
        continue;
      }
      const want = header ? header.length : FRAME_HEADER_BYTES;
      const take = Math.min(want - this.#pendingBytes, chunk.length - at);
      this.#pending.push(chunk.subarray(at, at + take));
      this.#pendingBytes += take;
      at += take;
      if (this.#pendingBytes < want) break;
      const bytes =
        this.#pending.length === 1
          ? (this.#pending[0] as Buffer)
          : Buffer.concat(this.#pending, this.#pendingBytes);
      this.#pending = [];
      this.#pendingBytes = 0;
      if (header) {
        this.#header = undefined;
        this.#whole(header, bytes);
      } else {
        this.#start(decodeFrameHeader(bytes));
      }
    }
  }

  #start(header: FrameHeader): void {
    if (header.length > this.maxFrameSize) {
      throw new H2ProtocolError(
        ErrorCode.FRAME_SIZE_ERROR,
        `frame of type ${header.type} is ${header.length} octets, above the ${this.maxFrameSize} allowed`,
      );
    }
    if (header.type === FrameType.DATA) {
      this.sink.dataStart(header);
      if (!(header.flags & Flag.PADDED)) {
        if (header.length === 0) {
          this.sink.dataEnd(header);
          return;
        }
        this.#header = header;
        this.#dataLeft = header.length;
        return;
      }
    }
    if (header.length === 0) {
      this.#whole(header, Buffer.alloc(0));
      return;
    }
    this.#header = header;
  }

  #finishData(header: FrameHeader): void {
    this.#header = undefined;
    this.sink.dataEnd(header);
  }

  /** A complete frame: any type but unpadded DATA. */
  #whole(header: FrameHeader, payload: Buffer): void {
    if (header.type !== FrameType.DATA) {
      this.sink.frame(header, payload);
      return;
    }
    const pad = payload[0];
    if (pad === undefined || pad >= payload.length) {
      throw new H2ProtocolError(ErrorCode.PROTOCOL_ERROR, 'DATA padding is longer than the frame');
    }
    const data = payload.subarray(1, payload.length - pad);
    if (data.length > 0) this.sink.data(header, data);
    this.sink.dataEnd(header);
  }
}
