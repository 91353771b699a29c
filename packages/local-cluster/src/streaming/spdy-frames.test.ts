import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDeflate, createInflate, type Inflate } from 'node:zlib';
import { inflateBlock } from './spdy-connection.js';
import {
  FLAG_FIN,
  FrameReader,
  FrameType,
  HeaderCompressor,
  dataFrame,
  decodeHeaderBlock,
  encodeHeaderBlock,
  parseSynStream,
  payloadStreamId,
  rstStreamFrame,
  synReplyFrame,
} from './spdy-frames.pure.js';
import { SPDY3_DICTIONARY } from './spdy-dictionary.pure.js';

const sinks = new WeakMap<object, Buffer[]>();
function flushInflate(z: Inflate, block: Buffer): Promise<Buffer> {
  let sink = sinks.get(z);
  if (!sink) {
    const fresh: Buffer[] = [];
    z.on('data', (c: Buffer) => fresh.push(c));
    sinks.set(z, (sink = fresh));
  }
  return inflateBlock(z, block, sink);
}

test('frames split across reads are reassembled, data and control alike', () => {
  const bytes = Buffer.concat([
    dataFrame(3, Buffer.from('hello'), true),
    rstStreamFrame(5, 5),
    synReplyFrame(7, Buffer.from([1, 2]), false),
  ]);
  const r = new FrameReader();
  const frames = [...bytes].flatMap((b) => r.push(Buffer.from([b])));
  assert.equal(frames.length, 3);
  assert.deepEqual(frames[0], { kind: 'data', streamId: 3, fin: true, data: Buffer.from('hello') });
  const rst = frames[1]!;
  assert.ok(rst.kind === 'control');
  assert.equal(rst.type, FrameType.RstStream);
  assert.equal(rst.version, 3);
  assert.equal(payloadStreamId(rst.payload), 5);
  assert.equal(rst.payload.readUInt32BE(4), 5);
  assert.equal((frames[2] as { flags: number }).flags & FLAG_FIN, 0);
});

test('header blocks round-trip, names are lower-cased and NUL separates values', () => {
  const block = encodeHeaderBlock(
    new Map([
      ['streamType', ['data']],
      ['x', ['a', 'b']],
    ]),
  );
  assert.deepEqual(
    [...decodeHeaderBlock(block)],
    [
      ['streamtype', ['data']],
      ['x', ['a', 'b']],
    ],
  );
  assert.throws(() => decodeHeaderBlock(block.subarray(0, block.length - 1)), /truncated/);
});

test('our compressed header blocks inflate one at a time, each complete without the next', async () => {
  const c = new HeaderCompressor();
  const inf = createInflate({ dictionary: SPDY3_DICTIONARY });
  const a = encodeHeaderBlock(new Map([['port', ['8080']]]));
  const b = encodeHeaderBlock(new Map());
  assert.deepEqual(await flushInflate(inf, c.compress(a)), a);
  assert.deepEqual(await flushInflate(inf, c.compress(b)), b);
  assert.deepEqual(
    await flushInflate(inf, c.compress(Buffer.alloc(70_000, 1))),
    Buffer.alloc(70_000, 1),
  );
});

test('a peer compressing with the SPDY dictionary and sync flushes is understood', async () => {
  const def = createDeflate({ dictionary: SPDY3_DICTIONARY });
  const inf = createInflate({ dictionary: SPDY3_DICTIONARY });
  for (const h of [new Map([['streamtype', ['error']]]), new Map([['streamtype', ['stdout']]])]) {
    const raw = encodeHeaderBlock(h);
    const compressed = await flushInflate(def as unknown as Inflate, raw);
    assert.deepEqual(decodeHeaderBlock(await flushInflate(inf, compressed)), h);
  }
});

test('SYN_STREAM fields are parsed and a short payload is refused', () => {
  const p = Buffer.alloc(12);
  p.writeUInt32BE(0x80000009, 0);
  p.writeUInt32BE(0, 4);
  p[8] = 3 << 5;
  const syn = parseSynStream(p);
  assert.deepEqual([syn.streamId, syn.priority, syn.headerBlock.length], [9, 3, 2]);
  assert.throws(() => parseSynStream(Buffer.alloc(4)), /too short/);
});
