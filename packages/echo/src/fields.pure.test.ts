import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  canonicalHeaderKey,
  clientOutput,
  grpcEchoBody,
  grpcExchangeOutput,
  httpEchoBody,
  httpExchangeOutput,
  plainIp,
  tcpEchoFields,
  tcpExchangeOutput,
} from './fields.pure.js';

const ME = { version: '', cluster: '', istioVersion: '', hostname: 'echo-v2-7d9f-abcde' };

/**
 * How the Gateway API suite reads client output (conformance/utils/echo/parse.go, v1.6.1): the
 * first match of `Name=(.*)` for each single field, every RequestHeader=/ResponseHeader= line
 * split at its first colon, and --count batches split at blank lines, keeping the sections that
 * have a Hostname or StatusCode.
 */
function suiteParse(out: string) {
  const first = (name: string) => new RegExp(`${name}=(.*)`).exec(out)?.[1];
  const all = (name: string) =>
    [...out.matchAll(new RegExp(`${name}=(.*)`, 'g'))].map((m) => {
      const i = m[1]!.indexOf(':');
      return [m[1]!.slice(0, i), m[1]!.slice(i + 1)];
    });
  return {
    code: first('StatusCode'),
    hostname: first('Hostname'),
    host: first('Host'),
    method: first('Method'),
    url: first('URL'),
    proto: first('Proto'),
    port: first('ServicePort'),
    version: first('ServiceVersion'),
    requestHeaders: all('RequestHeader'),
    responseHeaders: all('ResponseHeader'),
  };
}
const sections = (out: string) =>
  out
    .split('\n\n')
    .map((s) => s.trim())
    .filter((s) => /StatusCode=|Hostname=/.test(s));

test("the HTTP answer's fields in upstream's order, headers sorted and canonical", () => {
  const body = httpEchoBody(ME, {
    port: 8080,
    host: 'echo-v2',
    requestUri: '/v2/example?x=1',
    method: 'GET',
    proto: 'HTTP/1.1',
    ip: '10.244.0.5',
    headers: [
      ['x-header-add', 'a'],
      ['Version', 'one'],
      ['X-Header-Add', 'b'],
      ['Connection', 'close'],
    ],
  });
  assert.equal(
    body,
    [
      'ServiceVersion=',
      'ServicePort=8080',
      'Host=echo-v2',
      'URL=/v2/example?x=1',
      'Method=GET',
      'Proto=HTTP/1.1',
      'IP=10.244.0.5',
      'RequestHeader=Connection:close',
      'RequestHeader=Version:one',
      'RequestHeader=X-Header-Add:a',
      'RequestHeader=X-Header-Add:b',
      'Hostname=echo-v2-7d9f-abcde',
      '',
    ].join('\n'),
  );
});

test('optional fields appear only when set; TLS adds Alpn and Sni; errors come first', () => {
  const body = httpEchoBody(
    { ...ME, version: 'v1', cluster: 'c1', istioVersion: '1.2' },
    {
      port: 8443,
      host: 'h',
      requestUri: '/',
      method: 'GET',
      proto: 'HTTP/2.0',
      ip: '::1',
      alpn: 'h2',
      sni: 'echo',
      headers: [],
    },
    ['codes error: x'],
  );
  assert.match(
    body,
    /^codes error: x\nServiceVersion=v1\nServicePort=8443\nHost=h\nURL=\/\nCluster=c1\nIstioVersion=1.2\nMethod=GET\nProto=HTTP\/2.0\nIP=::1\nAlpn=h2\nSni=echo\nHostname=/,
  );
});

test('the client output of an HTTP exchange parses as the suite expects', () => {
  const body = httpEchoBody(ME, {
    port: 8080,
    host: 'echo-v2',
    requestUri: '/',
    method: 'GET',
    proto: 'HTTP/1.1',
    ip: '10.244.0.5',
    headers: [['Version', 'one']],
  });
  const out = clientOutput([
    httpExchangeOutput(0, {
      url: 'http://echo-v2/',
      sentHeaders: [['Version', 'one']],
      sourceIp: '10.244.0.9',
      latency: '1.5ms',
      activeRequests: 1,
      status: 200,
      responseHeaders: [
        ['x-header-set', 'v2'],
        ['Content-Type', 'text/plain; charset=utf-8'],
      ],
      body,
    }),
  ]);
  assert.equal(
    out,
    [
      '[0] Url=http://echo-v2/',
      '[0] Header=Version:one',
      '[0] SourceIP=10.244.0.9',
      '[0] Latency=1.5ms',
      '[0] ActiveRequests=1',
      '[0] StatusCode=200',
      '[0] ResponseHeader=Content-Type:text/plain; charset=utf-8',
      '[0] ResponseHeader=X-Header-Set:v2',
      '[0 body] ServiceVersion=',
      '[0 body] ServicePort=8080',
      '[0 body] Host=echo-v2',
      '[0 body] URL=/',
      '[0 body] Method=GET',
      '[0 body] Proto=HTTP/1.1',
      '[0 body] IP=10.244.0.5',
      '[0 body] RequestHeader=Version:one',
      '[0 body] Hostname=echo-v2-7d9f-abcde',
      '',
      '',
    ].join('\n'),
  );
  const p = suiteParse(out);
  assert.deepEqual(
    [p.code, p.hostname, p.host, p.method, p.url, p.proto, p.port],
    ['200', 'echo-v2-7d9f-abcde', 'echo-v2', 'GET', '/', 'HTTP/1.1', '8080'],
  );
  assert.deepEqual(p.requestHeaders, [['Version', 'one']]);
  assert.deepEqual(p.responseHeaders, [
    ['Content-Type', 'text/plain; charset=utf-8'],
    ['X-Header-Set', 'v2'],
  ]);
});

test('a gRPC batch splits into one section per request, each with code 200 and the pod', () => {
  const answer = grpcEchoBody(ME, {
    port: 7070,
    authority: 'echo:7070',
    metadata: [
      ['x-echo', 'two'],
      ['trace-bin', 'AAEC'],
    ],
    ip: '10.244.0.9',
    message: 'HelloWorld',
  });
  assert.equal(
    answer,
    [
      'Host=echo:7070',
      'RequestHeader=:authority:echo:7070',
      'RequestHeader=x-echo:two',
      'StatusCode=200',
      'ServiceVersion=',
      'ServicePort=7070',
      'IP=10.244.0.9',
      'Proto=GRPC',
      'Echo=HelloWorld',
      'Hostname=echo-v2-7d9f-abcde',
      '',
    ].join('\n'),
  );
  const out = clientOutput(
    [0, 1, 2].map((id) =>
      grpcExchangeOutput(id, {
        latency: '2ms',
        activeRequests: 3 - id,
        message: answer,
        responseHeaders: [['content-type', 'application/grpc']],
      }),
    ),
  );
  const parts = sections(out);
  assert.equal(parts.length, 3);
  for (const [i, s] of parts.entries()) {
    assert.ok(
      s.startsWith(
        `[${i}] Latency=2ms\n[${i}] ActiveRequests=${3 - i}\n[${i} body] Host=echo:7070`,
      ),
    );
    assert.ok(s.endsWith(`[${i}] ResponseHeader=content-type:application/grpc`));
    const p = suiteParse(s);
    assert.deepEqual(
      [p.code, p.hostname, p.proto, p.host],
      ['200', ME.hostname, 'GRPC', 'echo:7070'],
    );
  }
});

test('TCP: the fields then the echoed message, as the client prints them', () => {
  const fields = tcpEchoFields({ ...ME, cluster: 'c1' }, { port: 9090, ip: '10.244.0.9' });
  assert.equal(
    fields,
    'StatusCode=200\nCluster=c1\nServiceVersion=\nServicePort=9090\nIP=10.244.0.9\nProto=TCP\nHostname=echo-v2-7d9f-abcde\n',
  );
  const out = tcpExchangeOutput(0, {
    sourceIp: '10.244.0.5',
    url: 'tcp://echo-v2:9090',
    message: 'HelloWorld',
    received: `${fields}HelloWorld\n`,
  });
  assert.match(
    out,
    /^\[0\] SourceIP=10.244.0.5\n\[0\] Url=tcp:\/\/echo-v2:9090\n\[0\] Echo=HelloWorld\n\[0 body\] StatusCode=200\n/,
  );
  assert.match(out, /\[0 body\] HelloWorld\n$/);
  assert.deepEqual([suiteParse(out).proto, suiteParse(out).port], ['TCP', '9090']);
});

test("header names are canonical as Go's: token names only", () => {
  assert.equal(canonicalHeaderKey('x-header-set'), 'X-Header-Set');
  assert.equal(canonicalHeaderKey('CONTENT-TYPE'), 'Content-Type');
  assert.equal(canonicalHeaderKey('version'), 'Version');
  assert.equal(canonicalHeaderKey('bad header'), 'bad header');
  assert.equal(plainIp('::ffff:10.0.0.1'), '10.0.0.1');
  assert.equal(plainIp('fd00::1'), 'fd00::1');
});
