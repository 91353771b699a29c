import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode, H2ProtocolError } from './frames.pure.js';
import {
  decodeInteger,
  encodeHeaderBlock,
  encodeInteger,
  HpackDecoder,
  type HeaderField,
} from './hpack.pure.js';
import { HUFFMAN_CODES, huffmanDecode, huffmanEncode } from './huffman.pure.js';

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');
const compressionError = (err: unknown): boolean =>
  err instanceof H2ProtocolError && err.code === ErrorCode.COMPRESSION_ERROR;

/** Decodes consecutive blocks with one decoder; checks the fields and the table after each. */
function decodeSequence(
  decoder: HpackDecoder,
  steps: Array<{ block: string; fields: HeaderField[]; table: HeaderField[]; size: number }>,
): void {
  for (const step of steps) {
    assert.deepEqual(decoder.decode(hex(step.block)), step.fields);
    assert.deepEqual(decoder.dynamicTable.entries, step.table);
    assert.equal(decoder.dynamicTable.size, step.size);
  }
}

const DATE1 = 'Mon, 21 Oct 2013 20:13:21 GMT';
const DATE2 = 'Mon, 21 Oct 2013 20:13:22 GMT';
const LOCATION = 'https://www.example.com';
const COOKIE = 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1';
const REQUESTS = {
  fields: [
    [
      [':method', 'GET'],
      [':scheme', 'http'],
      [':path', '/'],
      [':authority', 'www.example.com'],
    ],
    [
      [':method', 'GET'],
      [':scheme', 'http'],
      [':path', '/'],
      [':authority', 'www.example.com'],
      ['cache-control', 'no-cache'],
    ],
    [
      [':method', 'GET'],
      [':scheme', 'https'],
      [':path', '/index.html'],
      [':authority', 'www.example.com'],
      ['custom-key', 'custom-value'],
    ],
  ] as HeaderField[][],
  tables: [
    [[':authority', 'www.example.com']],
    [
      ['cache-control', 'no-cache'],
      [':authority', 'www.example.com'],
    ],
    [
      ['custom-key', 'custom-value'],
      ['cache-control', 'no-cache'],
      [':authority', 'www.example.com'],
    ],
  ] as HeaderField[][],
  sizes: [57, 110, 164],
};
const RESPONSES = {
  fields: [
    [
      [':status', '302'],
      ['cache-control', 'private'],
      ['date', DATE1],
      ['location', LOCATION],
    ],
    [
      [':status', '307'],
      ['cache-control', 'private'],
      ['date', DATE1],
      ['location', LOCATION],
    ],
    [
      [':status', '200'],
      ['cache-control', 'private'],
      ['date', DATE2],
      ['location', LOCATION],
      ['content-encoding', 'gzip'],
      ['set-cookie', COOKIE],
    ],
  ] as HeaderField[][],
  tables: [
    [
      ['location', LOCATION],
      ['date', DATE1],
      ['cache-control', 'private'],
      [':status', '302'],
    ],
    [
      [':status', '307'],
      ['location', LOCATION],
      ['date', DATE1],
      ['cache-control', 'private'],
    ],
    [
      ['set-cookie', COOKIE],
      ['content-encoding', 'gzip'],
      ['date', DATE2],
    ],
  ] as HeaderField[][],
  sizes: [222, 222, 215],
};

function steps(
  blocks: string[],
  expected: typeof REQUESTS,
): Array<{ block: string; fields: HeaderField[]; table: HeaderField[]; size: number }> {
  return blocks.map((block, i) => ({
    block,
    fields: expected.fields[i] as HeaderField[],
    table: expected.tables[i] as HeaderField[],
    size: expected.sizes[i] as number,
  }));
}

describe('HPACK integers (RFC 7541 C.1)', () => {
  it('encodes and decodes 10 and 1337 with a 5-bit prefix, 42 with an 8-bit prefix', () => {
    for (const [value, prefix, bytes] of [
      [10, 5, '0a'],
      [1337, 5, '1f9a0a'],
      [42, 8, '2a'],
    ] as const) {
      const out: number[] = [];
      encodeInteger(value, prefix, 0, out);
      assert.equal(Buffer.from(out).toString('hex'), bytes);
      assert.deepEqual(decodeInteger(hex(bytes), 0, prefix), [value, bytes.length / 2]);
    }
  });

  it('refuses an integer cut short or too large', () => {
    assert.throws(() => decodeInteger(hex('1f9a'), 0, 5), compressionError);
    assert.throws(() => decodeInteger(hex('1fffffffff7f'), 0, 5), compressionError);
  });
});

describe('HPACK decoder (RFC 7541 Appendix C)', () => {
  it('C.2: literal with indexing, without indexing, never indexed, indexed', () => {
    const decoder = new HpackDecoder();
    decodeSequence(decoder, [
      {
        block: '400a637573746f6d2d6b65790d637573746f6d2d686561646572',
        fields: [['custom-key', 'custom-header']],
        table: [['custom-key', 'custom-header']],
        size: 55,
      },
      {
        block: '040c2f73616d706c652f70617468',
        fields: [[':path', '/sample/path']],
        table: [['custom-key', 'custom-header']],
        size: 55,
      },
      {
        block: '100870617373776f726406736563726574',
        fields: [['password', 'secret']],
        table: [['custom-key', 'custom-header']],
        size: 55,
      },
      {
        block: '82',
        fields: [[':method', 'GET']],
        table: [['custom-key', 'custom-header']],
        size: 55,
      },
    ]);
  });

  it('C.3: requests without Huffman coding share the dynamic table', () => {
    decodeSequence(
      new HpackDecoder(),
      steps(
        [
          '828684410f7777772e6578616d706c652e636f6d',
          '828684be58086e6f2d6361636865',
          '828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565',
        ],
        REQUESTS,
      ),
    );
  });

  it('C.4: the same requests with Huffman-coded literals', () => {
    decodeSequence(
      new HpackDecoder(),
      steps(
        [
          '828684418cf1e3c2e5f23a6ba0ab90f4ff',
          '828684be5886a8eb10649cbf',
          '828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf',
        ],
        REQUESTS,
      ),
    );
  });

  it('C.5: responses evict entries from a 256-octet table', () => {
    const decoder = new HpackDecoder(4096);
    decoder.decode(hex('3fe101')); // dynamic table size update to 256
    assert.equal(decoder.dynamicTable.maxSize, 256);
    decodeSequence(
      decoder,
      steps(
        [
          '4803333032580770726976617465611d4d6f6e2c203231204f637420323031332032303a31333a323120474d546e1768747470733a2f2f7777772e6578616d706c652e636f6d',
          '4803333037c1c0bf',
          '88c1611d4d6f6e2c203231204f637420323031332032303a31333a323220474d54c05a04677a69707738666f6f3d4153444a4b48514b425a584f5157454f50495541585157454f49553b206d61782d6167653d333630303b2076657273696f6e3d31',
        ],
        RESPONSES,
      ),
    );
  });

  it('C.6: the same responses with Huffman-coded literals', () => {
    const decoder = new HpackDecoder(4096);
    decoder.decode(hex('3fe101'));
    decodeSequence(
      decoder,
      steps(
        [
          '488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c78f0b97c8e9ae82ae43d3',
          '4883640effc1c0bf',
          '88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007',
        ],
        RESPONSES,
      ),
    );
  });

  it('a size update above SETTINGS_HEADER_TABLE_SIZE, or after a field, is a COMPRESSION_ERROR', () => {
    assert.throws(() => new HpackDecoder(4096).decode(hex('3fe21f')), compressionError); // 4097
    assert.throws(() => new HpackDecoder().decode(hex('8220')), compressionError);
  });

  it('a size update evicts, down to an empty table at 0', () => {
    const decoder = new HpackDecoder();
    decoder.decode(hex('400a637573746f6d2d6b65790d637573746f6d2d686561646572'));
    decoder.decode(hex('20'));
    assert.deepEqual(decoder.dynamicTable, { size: 0, maxSize: 0, entries: [] });
  });

  it('an index of 0 or beyond both tables, or a string past the block, is a COMPRESSION_ERROR', () => {
    assert.throws(() => new HpackDecoder().decode(hex('80')), compressionError);
    assert.throws(() => new HpackDecoder().decode(hex('be')), /index 62 is beyond/);
    assert.throws(() => new HpackDecoder().decode(hex('040c2f73')), compressionError);
  });
});

describe('HPACK Huffman code (RFC 7541 Appendix B)', () => {
  it('has the codes of the table for a few symbols, EOS being 30 ones', () => {
    assert.deepEqual(HUFFMAN_CODES[0], [0x1ff8, 13]);
    assert.deepEqual(HUFFMAN_CODES[1], [0x7fffd8, 23]);
    assert.deepEqual(HUFFMAN_CODES[48], [0x0, 5]);
    assert.deepEqual(HUFFMAN_CODES[32], [0x14, 6]);
    assert.deepEqual(HUFFMAN_CODES[255], [0x3ffffee, 26]);
    assert.deepEqual(HUFFMAN_CODES[256], [0x3fffffff, 30]);
  });

  it('decodes what it encodes, for every byte value', () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    assert.deepEqual(huffmanDecode(huffmanEncode(all)), all);
    assert.equal(
      huffmanEncode(Buffer.from('www.example.com')).toString('hex'),
      'f1e3c2e5f23a6ba0ab90f4ff',
    );
  });

  it('refuses padding longer than 7 bits, padding that is not ones, and EOS', () => {
    assert.throws(() => huffmanDecode(hex('f1e3c2e5f23a6ba0ab90f4ffff')), compressionError);
    assert.throws(() => huffmanDecode(hex('f1e3c2e5f23a6ba0ab90f4fe')), compressionError);
    assert.throws(() => huffmanDecode(hex('ffffffff')), compressionError);
  });
});

describe('HPACK encoder', () => {
  it('indexes static matches, names static entries by index, and sends the rest as literals', () => {
    const block = encodeHeaderBlock(
      [
        [':status', '200'],
        [':authority', '10.0.0.1:80'],
        ['traceparent', 'x'],
      ],
      true,
    );
    assert.equal(
      block.toString('hex'),
      '20' +
        '88' +
        '01' +
        '0b' +
        Buffer.from('10.0.0.1:80').toString('hex') +
        '00' +
        '0b' +
        Buffer.from('traceparent').toString('hex') +
        '01' +
        '78',
    );
  });

  it('round-trips through the decoder, long values included', () => {
    const fields: HeaderField[] = [
      [':method', 'CONNECT'],
      [':authority', '[fd00::1]:8080'],
      ['baggage', 'k=' + 'v'.repeat(300)],
      ['forwarded', 'for="10.0.0.2:4000"'],
    ];
    assert.deepEqual(new HpackDecoder().decode(encodeHeaderBlock(fields, true)), fields);
  });
});
