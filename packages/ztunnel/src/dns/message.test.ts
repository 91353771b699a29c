import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decodeQuery,
  encodeResponse,
  RCODE,
  responseHeader,
  truncateForUdp,
  TYPE,
  udpLimit,
} from './message.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// dig +edns=0 +bufsize=4096 www.Example.com A, id 0x1234: header, question, OPT.
const QUERY = hex(`
  1234 0100 0001 0000 0000 0001
  03 777777 07 4578616d706c65 03 636f6d 00 0001 0001
  00 0029 1000 00000000 0000`);

test('a query: id, RD, the question (lower-cased, original case kept) and the EDNS UDP size', () => {
  const d = decodeQuery(QUERY);
  assert.ok(d.ok);
  assert.deepEqual(d.query, {
    id: 0x1234,
    rd: true,
    cd: false,
    question: { name: 'www.example.com', rawName: 'www.Example.com', type: TYPE.A, class: 1 },
    ednsUdpSize: 4096,
  });
  assert.equal(udpLimit(d.query), 1232, 'never more than the flag-day size');
  const plain = decodeQuery(Buffer.from(QUERY.subarray(0, QUERY.length - 11)).fill(0, 11, 12));
  assert.ok(plain.ok);
  assert.equal(plain.query.ednsUdpSize, undefined);
  assert.equal(udpLimit(plain.query), 512);
});

test('malformed queries: no header is dropped, the rest get FORMERR or NOTIMP with a reason', () => {
  assert.deepEqual(decodeQuery(hex('1234 0100')), {
    ok: false,
    reason: '4 bytes is shorter than a DNS header',
  });
  const cases: [string, Buffer, number, RegExp][] = [
    ['a response', hex('1234 8180 0001 0000 0000 0000'), RCODE.FORMERR, /a response was sent/],
    ['opcode STATUS', hex('1234 1000 0001 0000 0000 0000'), RCODE.NOTIMP, /opcode 2 is not QUERY/],
    ['no question', hex('1234 0100 0000 0000 0000 0000'), RCODE.FORMERR, /0 questions/],
    ['two questions', hex('1234 0100 0002 0000 0000 0000'), RCODE.FORMERR, /2 questions/],
    [
      'a cut name',
      hex('1234 0100 0001 0000 0000 0000 03 7777'),
      RCODE.FORMERR,
      /a label runs past the end/,
    ],
    [
      'a pointer loop',
      hex('1234 0100 0001 0000 0000 0000 c00c 0001 0001'),
      RCODE.FORMERR,
      /compression pointers loop/,
    ],
    [
      'an extended label type',
      hex('1234 0100 0001 0000 0000 0000 41 00 0001 0001'),
      RCODE.FORMERR,
      /label type 0x41 is not supported/,
    ],
    [
      'a name over 255 octets',
      Buffer.concat([
        hex('1234 0100 0001 0000 0000 0000'),
        Buffer.concat(Array.from({ length: 5 }, () => Buffer.from([63, ...Buffer.alloc(63, 97)]))),
        hex('00 0001 0001'),
      ]),
      RCODE.FORMERR,
      /longer than 255 octets/,
    ],
    [
      'a question without type',
      hex('1234 0100 0001 0000 0000 0000 01 61 00 00'),
      RCODE.FORMERR,
      /the question is cut off/,
    ],
    [
      'an additional record cut off',
      QUERY.subarray(0, QUERY.length - 3),
      RCODE.FORMERR,
      /a record is cut off|record data runs past the end/,
    ],
  ];
  for (const [what, bytes, rcode, reason] of cases) {
    const d = decodeQuery(bytes);
    assert.ok(!d.ok, what);
    assert.equal(d.id, 0x1234, what);
    assert.equal(d.rcode, rcode, what);
    assert.match(d.reason, reason, what);
  }
});

test('decoding never throws on garbage', () => {
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (let i = 0; i < 5000; i++) {
    const bytes = Buffer.from(Array.from({ length: Math.floor(rand() * 80) }, () => rand() * 256));
    // Half of them start like a query, so the name and record parsing get exercised.
    if (i % 2 === 0 && bytes.length >= 12) bytes.set(hex('0000 0100 0001'), 0);
    const d = decodeQuery(bytes);
    assert.equal(typeof d.ok, 'boolean');
  }
});

test('an answer: header flags, question, A records pointing at the question name, OPT', () => {
  const d = decodeQuery(QUERY);
  assert.ok(d.ok);
  const bytes = encodeResponse({
    id: d.query.id,
    rcode: RCODE.NOERROR,
    rd: true,
    aa: true,
    question: d.query.question,
    answers: [
      { name: 'www.Example.com', type: TYPE.A, ttl: 30, data: '10.96.0.7' },
      { name: 'www.Example.com', type: TYPE.A, ttl: 30, data: '10.96.0.8' },
    ],
    ednsUdpSize: 1232,
  });
  assert.equal(
    bytes.toString('hex'),
    hex(`
      1234 8580 0001 0002 0000 0001
      03 777777 07 4578616d706c65 03 636f6d 00 0001 0001
      c00c 0001 0001 0000001e 0004 0a600007
      c00c 0001 0001 0000001e 0004 0a600008
      00 0029 04d0 00000000 0000`).toString('hex'),
  );
  assert.deepEqual(responseHeader(bytes), {
    id: 0x1234,
    isResponse: true,
    truncated: false,
    rcode: 0,
  });
});

test('CNAME and AAAA records; names with an escaped dot survive a round trip', () => {
  const bytes = encodeResponse({
    id: 1,
    rcode: RCODE.NOERROR,
    rd: false,
    question: { name: 'web', rawName: 'web', type: TYPE.AAAA, class: 1 },
    answers: [
      { name: 'web', type: TYPE.CNAME, ttl: 30, data: 'web.shop.svc.cluster.local' },
      { name: 'web.shop.svc.cluster.local', type: TYPE.AAAA, ttl: 30, data: 'fd00::7' },
    ],
  });
  assert.equal(
    bytes.toString('hex'),
    hex(`
      0001 8080 0001 0002 0000 0000
      03 776562 00 001c 0001
      c00c 0005 0001 0000001e 001c 03776562 0473686f70 03737663 07636c7573746572 056c6f63616c 00
      c021 001c 0001 0000001e 0010 fd000000000000000000000000000007`).toString('hex'),
  );
  const odd = decodeQuery(hex('0001 0000 0001 0000 0000 0000 03 612e62 01 5c 00 0001 0001'));
  assert.ok(odd.ok);
  assert.equal(odd.query.question.rawName, 'a\\.b.\\\\');
  const echoed = encodeResponse({ id: 1, rcode: 0, rd: false, question: odd.query.question });
  assert.deepEqual(echoed.subarray(12), hex('03 612e62 01 5c 00 0001 0001'));
});

test('a response too large for the UDP client becomes its header with TC and the question', () => {
  const d = decodeQuery(QUERY);
  assert.ok(d.ok);
  const answers = Array.from({ length: 40 }, (_, i) => ({
    name: 'www.Example.com',
    type: TYPE.A,
    ttl: 30,
    data: `10.0.0.${i}`,
  }));
  const full = encodeResponse({ id: 9, rcode: 0, rd: true, question: d.query.question, answers });
  assert.ok(full.length > 512);
  assert.equal(truncateForUdp(full, 1232), full, 'fits: unchanged');
  const cut = Buffer.from(truncateForUdp(full, 512));
  assert.equal(
    cut.toString('hex'),
    hex(`
      0009 8380 0001 0000 0000 0000
      03 777777 07 4578616d706c65 03 636f6d 00 0001 0001`).toString('hex'),
  );
  assert.equal(responseHeader(cut)?.truncated, true);
});
