// The HTTP/1.1 parser: the same messages parsed whole and split at every byte, chunked bodies with
// extensions and trailers, response framing rules, and the refusals that keep a proxy safe.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HeaderList } from '../http/headers.pure.js';
import {
  Http1Parser,
  HttpParseError,
  type ParsedRequestHead,
  type ParsedResponseHead,
} from './parser.pure.js';

interface Msg {
  head?: ParsedRequestHead | ParsedResponseHead;
  body: string;
  trailers?: HeaderList;
  heads: number[];
}

function parseAll(
  mode: 'request' | 'response',
  chunks: Buffer[],
  o: { noBody?: boolean; eof?: boolean } = {},
): Msg[] {
  const msgs: Msg[] = [];
  let cur: Msg = { body: '', heads: [] };
  const p = new Http1Parser(mode, {
    onRequestHead: (h) => (cur.head = h),
    onResponseHead: (h) => {
      cur.heads.push(h.status);
      if (h.status >= 200) cur.head = h;
    },
    onBody: (b) => (cur.body += b.toString('latin1')),
    onMessageEnd: (t) => {
      if (t) cur.trailers = t;
      msgs.push(cur);
      cur = { body: '', heads: [] };
    },
  });
  if (o.noBody) p.expectNoBody(true);
  for (let c of chunks) {
    while (c.length > 0) {
      const used = p.execute(c);
      c = c.subarray(used);
      if (p.done) {
        p.reset();
        if (o.noBody) p.expectNoBody(true);
      }
    }
  }
  if (o.eof) p.finish();
  return msgs;
}

function splits(text: string): Buffer[][] {
  const b = Buffer.from(text, 'latin1');
  const out: Buffer[][] = [[b]];
  for (let i = 1; i < b.length; i++) out.push([b.subarray(0, i), b.subarray(i)]);
  out.push([...b].map((x) => Buffer.from([x])));
  return out;
}

const PIPELINE =
  'POST /a?x=1 HTTP/1.1\r\nHost: svc:80\r\nContent-Length: 5\r\nX-Multi: 1\r\nx-multi: 2\r\n\r\nhello' +
  'PUT /b HTTP/1.1\r\nhost: svc\r\ntransfer-encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n0\r\nx-sum: 9\r\n\r\n' +
  'GET /c HTTP/1.0\r\n\r\n';

test('requests parse the same whole and split at every byte: length, chunked with trailers, HTTP/1.0', () => {
  for (const chunks of splits(PIPELINE)) {
    const msgs = parseAll('request', chunks);
    assert.equal(msgs.length, 3);
    const [a, b, c] = msgs as [Msg, Msg, Msg];
    const ha = a.head as ParsedRequestHead;
    assert.deepEqual(
      [ha.method, ha.target, ha.host, ha.minor, ha.keepAlive],
      ['POST', '/a?x=1', 'svc:80', 1, true],
    );
    assert.deepEqual(ha.headers, ['content-length', '5', 'x-multi', '1', 'x-multi', '2']);
    assert.equal(a.body, 'hello');
    assert.equal(b.body, 'abc');
    assert.deepEqual(b.trailers, ['x-sum', '9']);
    const hc = c.head as ParsedRequestHead;
    assert.deepEqual([hc.minor, hc.keepAlive, hc.host], [0, false, '']);
  }
});

test('absolute-form targets take the authority; Connection and Expect are read', () => {
  const [m] = parseAll('request', [
    Buffer.from(
      'GET http://example.com:8080/p?q HTTP/1.1\r\nHost: ignored\r\nConnection: close\r\nExpect: 100-continue\r\n\r\n',
    ),
  ]);
  const h = m!.head as ParsedRequestHead;
  assert.deepEqual(
    [h.host, h.target, h.keepAlive, h.expectContinue],
    ['example.com:8080', '/p?q', false, true],
  );
});

test('responses: 1xx heads before the final one, HEAD and 204 without body, a body until close', () => {
  const [r] = parseAll('response', [
    Buffer.from('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'),
  ]);
  assert.deepEqual(r!.heads, [100, 200]);
  assert.equal(r!.body, 'ok');
  const [head] = parseAll(
    'response',
    [Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 99\r\n\r\n')],
    { noBody: true },
  );
  assert.equal(head!.body, '');
  const [nc] = parseAll('response', [Buffer.from('HTTP/1.1 204 No Content\r\n\r\n')]);
  assert.equal(nc!.body, '');
  const [closeDelim] = parseAll(
    'response',
    [Buffer.from('HTTP/1.0 200 OK\r\n\r\nuntil'), Buffer.from(' the end')],
    { eof: true },
  );
  assert.equal(closeDelim!.body, 'until the end');
  assert.equal((closeDelim!.head as ParsedResponseHead).keepAlive, false);
});

test('refusals carry the status a server answers and say what is wrong', () => {
  const cases: [string, number, RegExp][] = [
    [
      'GET / HTTP/1.1\r\nhost: a\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n',
      400,
      /both Content-Length and Transfer-Encoding/,
    ],
    [
      'GET / HTTP/1.1\r\nhost: a\r\ncontent-length: 3\r\ncontent-length: 4\r\n\r\n',
      400,
      /conflicting Content-Length/,
    ],
    ['GET / HTTP/1.1\r\nhost: a\r\ncontent-length: -1\r\n\r\n', 400, /invalid Content-Length/],
    ['GET / HTTP/1.1\r\nhost: a\r\ntransfer-encoding: gzip, chunked\r\n\r\n', 501, /only chunked/],
    ['GET / HTTP/1.1\r\nhost: a\r\nhost: b\r\n\r\n', 400, /more than one Host/],
    ['GET / HTTP/1.1\r\n\r\n', 400, /without a Host/],
    ['GET /a b HTTP/1.1\r\nhost: a\r\n\r\n', 400, /invalid request target|malformed/],
    ['G(T / HTTP/1.1\r\nhost: a\r\n\r\n', 400, /invalid method/],
    ['GET / HTTP/1.1\r\nhost: a\r\nbad\x01value: x\r\n\r\n', 400, /invalid header name/],
    ['GET / HTTP/1.1\r\nhost: a\r\nx: a\x7fb\r\n\r\n', 400, /control characters/],
    [
      'POST / HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n',
      400,
      /invalid chunk size/,
    ],
    ['CONNECT a:443 HTTP/1.1\r\nhost: a\r\n\r\n', 405, /CONNECT/],
  ];
  for (const [text, status, re] of cases) {
    assert.throws(
      () => parseAll('request', [Buffer.from(text, 'latin1')]),
      (err: unknown) => {
        assert.ok(err instanceof HttpParseError, String(err));
        assert.equal(err.status, status, text);
        assert.match(err.message, re);
        return true;
      },
    );
  }
  assert.throws(
    () => parseAll('response', [Buffer.from('HTTP/1.1 2000 OK\r\n\r\n')]),
    /malformed status line/,
  );
  assert.throws(
    () =>
      parseAll(
        'request',
        [Buffer.from('POST / HTTP/1.1\r\nhost: a\r\ncontent-length: 5\r\n\r\nab')],
        { eof: true },
      ),
    /closed in the middle/,
  );
});

test('a 101 head ends parsing: the bytes after it are the upgraded protocol, returned unused', () => {
  const heads: number[] = [];
  const p = new Http1Parser('response', {
    onResponseHead: (h) => heads.push(h.status),
    onBody: () => assert.fail('no body after a 101'),
    onMessageEnd: () => assert.fail('no message end after a 101'),
  });
  const head =
    'HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n';
  const frame = Buffer.from([0x81, 0x02, 0x68, 0x69]);
  const used = p.execute(Buffer.concat([Buffer.from(head, 'latin1'), frame]));
  assert.deepEqual(heads, [101]);
  assert.equal(used, head.length);
});
