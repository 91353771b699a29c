import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodeFrameHeader,
  decodeGoaway,
  decodeSettings,
  decodeWindowUpdate,
  encodeFrameHeader,
  encodeGoaway,
  encodeHeaders,
  encodeSettings,
  encodeWindowUpdate,
  ErrorCode,
  Flag,
  FrameReader,
  FrameType,
  H2ProtocolError,
  headersFragment,
  SettingId,
  type FrameHeader,
} from './frames.pure.js';

type Event = [string, number, string];

/** Feeds `chunks` to a FrameReader and lists what it reports: [kind, type or stream, payload hex]. */
function read(chunks: Buffer[], maxFrameSize = 16_384): Event[] {
  const events: Event[] = [];
  const reader = new FrameReader(
    {
      frame: (h: FrameHeader, p: Buffer) => events.push(['frame', h.type, p.toString('hex')]),
      dataStart: (h: FrameHeader) => events.push(['dataStart', h.streamId, String(h.length)]),
      data: (h: FrameHeader, c: Buffer) => events.push(['data', h.streamId, c.toString('hex')]),
      dataEnd: (h: FrameHeader) => events.push(['dataEnd', h.streamId, String(h.flags)]),
    },
    maxFrameSize,
  );
  for (const chunk of chunks) reader.push(chunk);
  return events;
}

const protocolError = (code: number) => (err: unknown) =>
  err instanceof H2ProtocolError && err.code === code;

describe('HTTP/2 frame codec', () => {
  it('writes and reads the 9-octet frame header (24-bit length, type, flags, 31-bit stream id)', () => {
    const header = encodeFrameHeader(0x123456, FrameType.HEADERS, 0x25, 0x7fffffff);
    assert.equal(header.toString('hex'), '12345601257fffffff');
    assert.deepEqual(decodeFrameHeader(Buffer.from('000004080080000003', 'hex')), {
      length: 4,
      type: 8,
      flags: 0,
      streamId: 3, // the reserved bit is ignored
    });
  });

  it('cuts frames out of arbitrary chunks, DATA payloads passed on piece by piece', () => {
    const bytes = Buffer.concat([
      encodeWindowUpdate(0, 1000),
      encodeFrameHeader(6, FrameType.DATA, Flag.END_STREAM, 1),
      Buffer.from('abcdef'),
      encodeFrameHeader(0, FrameType.DATA, 0, 3),
    ]);
    const whole = read([bytes]);
    assert.deepEqual(whole, [
      ['frame', FrameType.WINDOW_UPDATE, '000003e8'],
      ['dataStart', 1, '6'],
      ['data', 1, '616263646566'],
      ['dataEnd', 1, '1'],
      ['dataStart', 3, '0'],
      ['dataEnd', 3, '0'],
    ]);
    const oneByOne = read([...bytes].map((b) => Buffer.from([b])));
    assert.deepEqual(
      oneByOne.filter((e) => e[0] !== 'data'),
      whole.filter((e) => e[0] !== 'data'),
    );
    assert.equal(
      oneByOne
        .filter((e) => e[0] === 'data')
        .map((e) => e[2])
        .join(''),
      '616263646566',
    );
  });

  it('strips DATA padding (RFC 9113 §6.1) and refuses padding longer than the frame', () => {
    const padded = Buffer.concat([
      encodeFrameHeader(6, FrameType.DATA, Flag.PADDED, 1),
      Buffer.from('02616263', 'hex'),
      Buffer.alloc(2),
    ]);
    assert.deepEqual(read([padded]), [
      ['dataStart', 1, '6'],
      ['data', 1, '616263'],
      ['dataEnd', 1, String(Flag.PADDED)],
    ]);
    const bad = Buffer.concat([
      encodeFrameHeader(2, FrameType.DATA, Flag.PADDED, 1),
      Buffer.from('0500', 'hex'),
    ]);
    assert.throws(() => read([bad]), protocolError(ErrorCode.PROTOCOL_ERROR));
  });

  it('a frame longer than this end accepts is a FRAME_SIZE_ERROR', () => {
    assert.throws(
      () => read([encodeFrameHeader(16_385, FrameType.DATA, 0, 1)]),
      protocolError(ErrorCode.FRAME_SIZE_ERROR),
    );
    assert.doesNotThrow(() => read([encodeFrameHeader(1 << 20, FrameType.DATA, 0, 1)], 1 << 20));
  });

  it('splits a header block into HEADERS and CONTINUATION frames of at most the peer maximum', () => {
    const block = Buffer.alloc(40_000, 1);
    const bytes = encodeHeaders(5, block, true, 16_384);
    const frames = read([bytes], 16_384).map(([kind, type, payload]) => [
      kind,
      type,
      payload.length / 2,
    ]);
    assert.deepEqual(frames, [
      ['frame', FrameType.HEADERS, 16_384],
      ['frame', FrameType.CONTINUATION, 16_384],
      ['frame', FrameType.CONTINUATION, 7232],
    ]);
    assert.equal(bytes[4], Flag.END_STREAM); // END_HEADERS only on the last frame
    assert.equal(bytes[9 + 16_384 + 4], 0);
    assert.equal(bytes[2 * (9 + 16_384) + 4], Flag.END_HEADERS);
  });

  it('takes padding and priority fields off a HEADERS fragment', () => {
    const header = {
      length: 10,
      type: FrameType.HEADERS,
      flags: Flag.PADDED | Flag.PRIORITY,
      streamId: 1,
    };
    const payload = Buffer.from('02' + '8000000310' + '8288' + '0000', 'hex');
    assert.equal(headersFragment(header, payload).toString('hex'), '8288');
  });

  it('checks SETTINGS values (RFC 9113 §6.5.2)', () => {
    const payload = (id: number, value: number): Buffer =>
      encodeSettings([[id, value]]).subarray(9);
    assert.deepEqual(decodeSettings(payload(SettingId.MAX_FRAME_SIZE, 1 << 20)), [[5, 1 << 20]]);
    assert.throws(() => decodeSettings(Buffer.alloc(5)), protocolError(ErrorCode.FRAME_SIZE_ERROR));
    assert.throws(
      () => decodeSettings(payload(SettingId.ENABLE_PUSH, 2)),
      protocolError(ErrorCode.PROTOCOL_ERROR),
    );
    assert.throws(
      () => decodeSettings(payload(SettingId.INITIAL_WINDOW_SIZE, 2 ** 31)),
      protocolError(ErrorCode.FLOW_CONTROL_ERROR),
    );
    assert.throws(
      () => decodeSettings(payload(SettingId.MAX_FRAME_SIZE, 16_383)),
      protocolError(ErrorCode.PROTOCOL_ERROR),
    );
    assert.throws(
      () => decodeSettings(payload(SettingId.MAX_FRAME_SIZE, 2 ** 24)),
      protocolError(ErrorCode.PROTOCOL_ERROR),
    );
    assert.deepEqual(decodeSettings(payload(0x99, 7)), [[0x99, 7]]); // unknown settings pass through
  });

  it('reads WINDOW_UPDATE and GOAWAY, refusing an increment of 0 and short payloads', () => {
    const h = (streamId: number): FrameHeader => ({
      length: 4,
      type: FrameType.WINDOW_UPDATE,
      flags: 0,
      streamId,
    });
    assert.equal(decodeWindowUpdate(h(1), encodeWindowUpdate(1, 65_535).subarray(9)), 65_535);
    assert.throws(
      () => decodeWindowUpdate(h(0), Buffer.alloc(4)),
      protocolError(ErrorCode.PROTOCOL_ERROR),
    );
    assert.throws(
      () => decodeWindowUpdate(h(0), Buffer.alloc(3)),
      protocolError(ErrorCode.FRAME_SIZE_ERROR),
    );
    assert.deepEqual(
      decodeGoaway(encodeGoaway(7, ErrorCode.ENHANCE_YOUR_CALM, 'slow down').subarray(9)),
      {
        lastStreamId: 7,
        code: ErrorCode.ENHANCE_YOUR_CALM,
        debug: 'slow down',
      },
    );
    assert.throws(() => decodeGoaway(Buffer.alloc(7)), protocolError(ErrorCode.FRAME_SIZE_ERROR));
  });
});
