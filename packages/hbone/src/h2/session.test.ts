// The HTTP/2 session of the HBONE server seen by a raw client that writes frames byte by byte:
// connection setup, PING, ignored frames, padding, protocol errors and graceful GOAWAY.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import tls from 'node:tls';
import { describe, it, type TestContext } from 'node:test';
import { mtlsClientOptions } from '@trellis/pki';
import {
  makePki,
  readText,
  spiffe,
  startApp,
  startServer,
  type Pki,
  type RunningServer,
} from '../test-support.js';
import {
  CONNECTION_WINDOW_BYTES,
  MAX_FRAME_BYTES,
  SERVER_MAX_CONCURRENT_STREAMS,
  STREAM_WINDOW_BYTES,
} from '../settings.js';
import {
  CLIENT_PREFACE,
  decodeGoaway,
  decodeSettings,
  encodeFrameHeader,
  encodeHeaders,
  encodePing,
  encodeSettings,
  encodeWindowUpdate,
  ErrorCode,
  Flag,
  FrameReader,
  FrameType,
  SettingId,
  type FrameHeader,
} from './frames.pure.js';
import { encodeHeaderBlock, HpackDecoder } from './hpack.pure.js';

const SERVER = spiffe('server');

interface Frame {
  readonly header: FrameHeader;
  readonly payload: Buffer;
}

/** A TLS client speaking raw HTTP/2 to the HBONE server; `next(type)` waits for a frame of that type. */
async function rawClient(t: TestContext, pki: Pki, hbone: RunningServer, preface: Buffer) {
  const source = await pki.workload(spiffe('client'));
  const socket = tls.connect({
    host: '127.0.0.1',
    port: hbone.port,
    ...mtlsClientOptions({ ...source, expectedIdentity: SERVER }),
    ALPNProtocols: ['h2'],
  });
  socket.on('error', () => undefined);
  t.after(() => socket.destroy());
  await once(socket, 'secureConnect');
  const frames: Frame[] = [];
  let wake: (() => void) | undefined;
  const data = new Map<number, Buffer[]>();
  const reader = new FrameReader(
    {
      frame: (header, payload) => frames.push({ header, payload: Buffer.from(payload) }),
      dataStart: () => undefined,
      data: (header, chunk) =>
        data.set(header.streamId, [...(data.get(header.streamId) ?? []), Buffer.from(chunk)]),
      dataEnd: (header) => frames.push({ header, payload: Buffer.alloc(0) }),
    },
    16_777_215,
  );
  socket.on('data', (chunk: Buffer) => {
    reader.push(chunk);
    wake?.();
  });
  socket.write(preface);
  const closed = once(socket, 'close');
  return {
    socket,
    write: (bytes: Buffer) => socket.write(bytes),
    /** The next frame of `type` (frames of other types before it are skipped). */
    async next(type: number): Promise<Frame> {
      for (;;) {
        const i = frames.findIndex((f) => f.header.type === type);
        if (i >= 0) return frames.splice(i, 1)[0] as Frame;
        const woken = new Promise<void>((resolve) => (wake = resolve));
        const ended = await Promise.race([woken.then(() => false), closed.then(() => true)]);
        if (ended && !frames.some((f) => f.header.type === type)) {
          throw new Error(`the connection closed without a frame of type ${type}`);
        }
      }
    },
    /** DATA received so far on `streamId`, as text. */
    text: (streamId: number): string => Buffer.concat(data.get(streamId) ?? []).toString(),
    closed,
  };
}

async function setup(t: TestContext, preface: Buffer = CLIENT_PREFACE) {
  const pki = await makePki();
  const hbone = await startServer(t, pki, SERVER);
  const client = await rawClient(t, pki, hbone, preface);
  return { hbone, client };
}

/** The error code of the GOAWAY the server sends. */
async function goawayCode(client: Awaited<ReturnType<typeof rawClient>>): Promise<number> {
  return decodeGoaway((await client.next(FrameType.GOAWAY)).payload).code;
}

const connect = (
  streamId: number,
  authority: string,
  extra: Array<[string, string]> = [],
): Buffer =>
  encodeHeaders(
    streamId,
    encodeHeaderBlock([[':method', 'CONNECT'], [':authority', authority], ...extra]),
    false,
    16_384,
  );

describe('HBONE server HTTP/2 session (raw frames)', () => {
  it('opens with SETTINGS (4 MiB windows, 1 MiB frames, 200 streams, no push) and a 16 MiB connection window, and ACKs ours', async (t) => {
    const { client } = await setup(t);
    const settings = await client.next(FrameType.SETTINGS);
    assert.deepEqual(
      new Map(decodeSettings(settings.payload)),
      new Map([
        [SettingId.ENABLE_PUSH, 0],
        [SettingId.INITIAL_WINDOW_SIZE, STREAM_WINDOW_BYTES],
        [SettingId.MAX_FRAME_SIZE, MAX_FRAME_BYTES],
        [SettingId.MAX_CONCURRENT_STREAMS, SERVER_MAX_CONCURRENT_STREAMS],
      ]),
    );
    const update = await client.next(FrameType.WINDOW_UPDATE);
    assert.equal(update.header.streamId, 0);
    assert.equal(update.payload.readUInt32BE(0), CONNECTION_WINDOW_BYTES - 65_535);
    client.write(encodeSettings([[SettingId.MAX_FRAME_SIZE, 32_768]]));
    const ack = await client.next(FrameType.SETTINGS);
    assert.equal(ack.header.flags, Flag.ACK);
  });

  it('answers PING with the same payload; ignores unknown frame types and PRIORITY', async (t) => {
    const { client } = await setup(t);
    client.write(encodeSettings([]));
    client.write(Buffer.concat([encodeFrameHeader(3, 0xfa, 0, 0), Buffer.from('abc')]));
    client.write(Buffer.concat([encodeFrameHeader(5, FrameType.PRIORITY, 0, 9), Buffer.alloc(5)]));
    client.write(encodePing(Buffer.from('12345678'), false));
    const pong = await client.next(FrameType.PING);
    assert.equal(pong.header.flags, Flag.ACK);
    assert.equal(pong.payload.toString(), '12345678');
  });

  it('carries padded DATA to the app without the padding, END_STREAM as FIN', async (t) => {
    const { client } = await setup(t);
    const app = await startApp(t);
    client.write(encodeSettings([]));
    client.write(connect(1, `127.0.0.1:${app.port}`));
    const response = await client.next(FrameType.HEADERS);
    assert.deepEqual(new HpackDecoder().decode(response.payload), [[':status', '200']]);
    const socket = await app.socket(1);
    const received = readText(socket);
    client.write(
      Buffer.concat([
        encodeFrameHeader(1 + 5 + 3, FrameType.DATA, Flag.PADDED, 1),
        Buffer.from([3]),
        Buffer.from('hello'),
        Buffer.alloc(3),
        encodeFrameHeader(6, FrameType.DATA, Flag.END_STREAM, 1),
        Buffer.from(' world'),
      ]),
    );
    assert.equal(await received, 'hello world');
  });

  it('a malformed request (uppercase header name) gets RST_STREAM PROTOCOL_ERROR, the connection lives on', async (t) => {
    const { client } = await setup(t);
    client.write(encodeSettings([]));
    client.write(connect(1, '127.0.0.1:9', [['Forwarded', 'x']]));
    const rst = await client.next(FrameType.RST_STREAM);
    assert.equal(rst.header.streamId, 1);
    assert.equal(rst.payload.readUInt32BE(0), ErrorCode.PROTOCOL_ERROR);
    client.write(encodePing(Buffer.alloc(8), false));
    await client.next(FrameType.PING);
  });

  const connectionErrors: Array<[string, Buffer, number]> = [
    [
      'a frame above SETTINGS_MAX_FRAME_SIZE',
      encodeFrameHeader(MAX_FRAME_BYTES + 1, FrameType.DATA, 0, 1),
      ErrorCode.FRAME_SIZE_ERROR,
    ],
    [
      'DATA on stream 0',
      Buffer.concat([encodeFrameHeader(1, FrameType.DATA, 0, 0), Buffer.alloc(1)]),
      ErrorCode.PROTOCOL_ERROR,
    ],
    [
      'a WINDOW_UPDATE of 0 on the connection',
      Buffer.concat([encodeFrameHeader(4, FrameType.WINDOW_UPDATE, 0, 0), Buffer.alloc(4)]),
      ErrorCode.PROTOCOL_ERROR,
    ],
    [
      'a connection window above 2^31-1',
      encodeWindowUpdate(0, 2 ** 31 - 1),
      ErrorCode.FLOW_CONTROL_ERROR,
    ],
    [
      'PUSH_PROMISE',
      Buffer.concat([
        encodeFrameHeader(4, FrameType.PUSH_PROMISE, Flag.END_HEADERS, 1),
        Buffer.alloc(4),
      ]),
      ErrorCode.PROTOCOL_ERROR,
    ],
    [
      'a header block with an index beyond the tables',
      encodeHeaders(1, Buffer.from([0xbe]), false, 16_384),
      ErrorCode.COMPRESSION_ERROR,
    ],
    [
      'a header block interrupted by another frame',
      Buffer.concat([
        encodeFrameHeader(1, FrameType.HEADERS, 0, 1),
        Buffer.from([0x82]),
        encodePing(Buffer.alloc(8), false),
      ]),
      ErrorCode.PROTOCOL_ERROR,
    ],
    [
      'a PING of 7 octets',
      Buffer.concat([encodeFrameHeader(7, FrameType.PING, 0, 0), Buffer.alloc(7)]),
      ErrorCode.FRAME_SIZE_ERROR,
    ],
    [
      'SETTINGS_MAX_FRAME_SIZE below 16384',
      encodeSettings([[SettingId.MAX_FRAME_SIZE, 100]]),
      ErrorCode.PROTOCOL_ERROR,
    ],
  ];
  for (const [what, bytes, code] of connectionErrors) {
    it(`${what} ends the connection with GOAWAY ${code}`, async (t) => {
      const { client } = await setup(t);
      client.write(encodeSettings([]));
      client.write(bytes);
      assert.equal(await goawayCode(client), code);
      await client.closed;
    });
  }

  it('a connection without the client preface gets GOAWAY PROTOCOL_ERROR', async (t) => {
    const { client } = await setup(t, Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    assert.equal(await goawayCode(client), ErrorCode.PROTOCOL_ERROR);
  });

  it('close() sends GOAWAY naming the last stream, refuses newer ones and lets the open one finish', async (t) => {
    const { client, hbone } = await setup(t);
    const app = await startApp(t);
    client.write(encodeSettings([]));
    client.write(connect(1, `127.0.0.1:${app.port}`));
    await client.next(FrameType.HEADERS);
    const socket = await app.socket(1);
    const closing = hbone.server.close({ drainMs: 10_000 });
    const goaway = decodeGoaway((await client.next(FrameType.GOAWAY)).payload);
    assert.deepEqual([goaway.lastStreamId, goaway.code], [1, ErrorCode.NO_ERROR]);
    client.write(connect(3, `127.0.0.1:${app.port}`));
    const refused = await client.next(FrameType.RST_STREAM);
    assert.deepEqual(
      [refused.header.streamId, refused.payload.readUInt32BE(0)],
      [3, ErrorCode.REFUSED_STREAM],
    );
    // Stream 1 still works both ways, then ends cleanly and the connection closes.
    client.write(
      Buffer.concat([
        encodeFrameHeader(4, FrameType.DATA, Flag.END_STREAM, 1),
        Buffer.from('last'),
      ]),
    );
    assert.equal(await readText(socket), 'last');
    socket.end('bye');
    let end = await client.next(FrameType.DATA);
    while (!(end.header.flags & Flag.END_STREAM)) end = await client.next(FrameType.DATA);
    assert.equal(client.text(1), 'bye');
    await closing;
    await client.closed;
  });
});
