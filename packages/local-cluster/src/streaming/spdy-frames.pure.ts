// SPDY/3.1 framing, as spoken by the Kubernetes streaming API (exec, attach, port-forward between
// the apiserver and a kubelet): frame parsing and encoding, header blocks, and the compressed form
// of header blocks we send. There is no flow control here: the Kubernetes implementation neither
// sends nor honours WINDOW_UPDATE, so TCP back-pressure is what limits a connection.

export const SPDY_VERSION = 3;

export const FrameType = {
  SynStream: 1,
  SynReply: 2,
  RstStream: 3,
  Settings: 4,
  Ping: 6,
  GoAway: 7,
  Headers: 8,
  WindowUpdate: 9,
} as const;

export const FLAG_FIN = 0x01;
export const FLAG_UNIDIRECTIONAL = 0x02;

/** RST_STREAM status codes. */
export const RstStatus = {
  ProtocolError: 1,
  InvalidStream: 2,
  RefusedStream: 3,
  Cancel: 5,
  InternalError: 6,
} as const;

/** The largest frame payload the 24-bit length field can carry. */
export const MAX_FRAME_PAYLOAD = 0xffffff;

export type Frame =
  | { kind: 'data'; streamId: number; fin: boolean; data: Buffer }
  | { kind: 'control'; type: number; version: number; flags: number; payload: Buffer };

export type Headers = Map<string, string[]>;

/** Splits a byte stream into frames; keeps a partial frame until the rest arrives. */
export class FrameReader {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const frames: Frame[] = [];
    let off = 0;
    while (this.pending.length - off >= 8) {
      const b = this.pending;
      const len = b.readUInt32BE(off + 4) & 0xffffff;
      if (b.length - off < 8 + len) break;
      const flags = b[off + 4]!;
      const payload = b.subarray(off + 8, off + 8 + len);
      if (b[off]! & 0x80) {
        frames.push({
          kind: 'control',
          version: b.readUInt16BE(off) & 0x7fff,
          type: b.readUInt16BE(off + 2),
          flags,
          payload,
        });
      } else {
        frames.push({
          kind: 'data',
          streamId: b.readUInt32BE(off) & 0x7fffffff,
          fin: (flags & FLAG_FIN) !== 0,
          data: payload,
        });
      }
      off += 8 + len;
    }
    this.pending = this.pending.subarray(off);
    return frames;
  }
}

export interface SynStream {
  streamId: number;
  associatedTo: number;
  priority: number;
  headerBlock: Buffer;
}

export function parseSynStream(payload: Buffer): SynStream {
  if (payload.length < 10)
    throw new Error(`SYN_STREAM payload of ${payload.length} bytes is too short`);
  return {
    streamId: payload.readUInt32BE(0) & 0x7fffffff,
    associatedTo: payload.readUInt32BE(4) & 0x7fffffff,
    priority: payload[8]! >> 5,
    headerBlock: payload.subarray(10),
  };
}

/** The stream id at the start of SYN_REPLY, RST_STREAM, HEADERS and WINDOW_UPDATE payloads. */
export function payloadStreamId(payload: Buffer): number {
  if (payload.length < 4)
    throw new Error(`control frame payload of ${payload.length} bytes is too short`);
  return payload.readUInt32BE(0) & 0x7fffffff;
}

/** Decodes an uncompressed header block: a count, then length-prefixed names and values. */
export function decodeHeaderBlock(block: Buffer): Headers {
  const headers: Headers = new Map();
  const need = (off: number, n: number) => {
    if (off + n > block.length) throw new Error('header block is truncated');
  };
  need(0, 4);
  const count = block.readUInt32BE(0);
  let off = 4;
  for (let i = 0; i < count; i++) {
    need(off, 4);
    const nameLen = block.readUInt32BE(off);
    need(off + 4, nameLen + 4);
    const name = block.toString('latin1', off + 4, off + 4 + nameLen).toLowerCase();
    off += 4 + nameLen;
    const valueLen = block.readUInt32BE(off);
    need(off + 4, valueLen);
    const value = block.toString('utf8', off + 4, off + 4 + valueLen);
    off += 4 + valueLen;
    if (!name) throw new Error('header block has an empty header name');
    headers.set(name, [...(headers.get(name) ?? []), ...value.split('\0')]);
  }
  return headers;
}

export function encodeHeaderBlock(headers: Headers): Buffer {
  const parts: Buffer[] = [u32(headers.size)];
  for (const [name, values] of headers) {
    const n = Buffer.from(name.toLowerCase(), 'latin1');
    const v = Buffer.from(values.join('\0'), 'utf8');
    parts.push(u32(n.length), n, u32(v.length), v);
  }
  return Buffer.concat(parts);
}

/**
 * Our side of header compression: one endless zlib stream made of stored (uncompressed) deflate
 * blocks. Any inflater accepts it, it needs no dictionary, and each block stands on its own, so a
 * header block can be produced synchronously and in order with the frames around it.
 */
export class HeaderCompressor {
  private started = false;

  compress(raw: Buffer): Buffer {
    const parts: Buffer[] = [];
    if (!this.started) {
      // CMF 0x78 (deflate, 32 KiB window), FLG 0x01: no preset dictionary, check bits valid.
      parts.push(Buffer.from([0x78, 0x01]));
      this.started = true;
    }
    for (let off = 0; off < raw.length; off += 0xffff)
      parts.push(storedBlock(raw.subarray(off, off + 0xffff)));
    // An empty stored block ends each header block, as a zlib sync flush does: inflaters hand
    // out what they have when they reach it, without reading into the next frame.
    parts.push(storedBlock(Buffer.alloc(0)));
    return Buffer.concat(parts);
  }
}

function storedBlock(data: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head[0] = 0x00; // BFINAL=0, BTYPE=00 (stored); the rest of the byte is padding
  head.writeUInt16LE(data.length, 1);
  head.writeUInt16LE(~data.length & 0xffff, 3);
  return Buffer.concat([head, data]);
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

export function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  if (payload.length > MAX_FRAME_PAYLOAD) throw new Error('control frame payload too large');
  const head = Buffer.alloc(8);
  head.writeUInt16BE(0x8000 | SPDY_VERSION, 0);
  head.writeUInt16BE(type, 2);
  head.writeUInt32BE(((flags & 0xff) << 24) | payload.length, 4);
  return Buffer.concat([head, payload]);
}

export function dataFrame(streamId: number, data: Buffer, fin: boolean): Buffer {
  if (data.length > MAX_FRAME_PAYLOAD) throw new Error('data frame payload too large');
  const head = Buffer.alloc(8);
  head.writeUInt32BE(streamId & 0x7fffffff, 0);
  head.writeUInt32BE(((fin ? FLAG_FIN : 0) << 24) | data.length, 4);
  return Buffer.concat([head, data]);
}

export function synReplyFrame(streamId: number, compressedHeaders: Buffer, fin: boolean): Buffer {
  return controlFrame(
    FrameType.SynReply,
    fin ? FLAG_FIN : 0,
    Buffer.concat([u32(streamId & 0x7fffffff), compressedHeaders]),
  );
}

export function rstStreamFrame(streamId: number, status: number): Buffer {
  return controlFrame(
    FrameType.RstStream,
    0,
    Buffer.concat([u32(streamId & 0x7fffffff), u32(status)]),
  );
}

export function pingFrame(id: number): Buffer {
  return controlFrame(FrameType.Ping, 0, u32(id));
}

export function goAwayFrame(lastGoodStreamId: number, status: number): Buffer {
  return controlFrame(
    FrameType.GoAway,
    0,
    Buffer.concat([u32(lastGoodStreamId & 0x7fffffff), u32(status)]),
  );
}
