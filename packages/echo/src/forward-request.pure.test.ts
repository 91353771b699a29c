import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forwardRequest, InvalidForwardRequest, planForward } from './forward-request.pure.js';

test('an HTTP request: authority and target as written, Host taken out of the headers', () => {
  const p = planForward(
    forwardRequest({
      url: 'http://echo-v1:8080/path?q=1',
      headers: [
        { key: 'Version', value: 'one' },
        { key: 'host', value: 'echo-v2' },
      ],
    }),
  );
  assert.equal(p.scheme, 'http');
  assert.equal(p.authority, 'echo-v1:8080');
  assert.equal(p.host, 'echo-v1');
  assert.equal(p.port, 8080);
  assert.equal(p.path, '/path?q=1');
  assert.equal(p.hostHeader, 'echo-v2');
  assert.deepEqual(p.headers, [['Version', 'one']]);
  assert.equal(p.method, 'GET');
  assert.equal(p.count, 1);
  assert.equal(p.timeoutMs, 5000);
  assert.equal(p.newConnectionPerRequest, false);
  assert.deepEqual(p.tls.alpn, ['http/1.1']);
});

test('default ports and targets per scheme; IPv6 literals', () => {
  const plan = (url: string) => planForward(forwardRequest({ url }));
  assert.deepEqual([plan('http://echo').port, plan('http://echo').path], [80, '/']);
  assert.equal(plan('https://echo').port, 443);
  assert.equal(plan('grpc://echo').port, 443);
  assert.equal(plan('http://echo?x=1').path, '/?x=1');
  const v6 = plan('http://[fd00::1]:8080/');
  assert.deepEqual([v6.host, v6.port, v6.authority], ['fd00::1', 8080, '[fd00::1]:8080']);
});

test("upstream's rules: https and tcp use a new connection each time; count and timeout", () => {
  const https = planForward(
    forwardRequest({ url: 'https://echo/', headers: [{ key: 'Host', value: 'a.example' }] }),
  );
  assert.equal(https.newConnectionPerRequest, true);
  assert.equal(https.tls.serverName, 'a.example', 'SNI from the Host header');
  assert.equal(https.tls.insecureSkipVerify, true, 'no CA: not verified');
  const verified = planForward(forwardRequest({ url: 'https://echo/', caCertFile: '/cert.crt' }));
  assert.equal(verified.tls.insecureSkipVerify, false);
  const tcp = planForward(
    forwardRequest({ url: 'tcp://echo:9090', count: 3, timeoutMicros: 250_000 }),
  );
  assert.equal(tcp.newConnectionPerRequest, true);
  assert.equal(tcp.count, 3);
  assert.equal(tcp.timeoutMs, 250);
  assert.equal(tcp.expected, 'StatusCode=200');
  assert.equal(tcp.secure, false, 'TLS for tcp/grpc only with a client certificate');
  const expect = planForward(
    forwardRequest({ url: 'tcp://echo:9090', expectedResponse: { value: 'X' } }),
  );
  assert.equal(expect.expected, 'X');
  assert.equal(
    planForward(forwardRequest({ url: 'grpc://e:1', certFile: 'c', keyFile: 'k' })).secure,
    true,
  );
  assert.equal(planForward(forwardRequest({ url: 'http://e', count: -4 })).count, 1);
  assert.deepEqual(planForward(forwardRequest({ url: 'http://e', http2: true })).tls.alpn, ['h2']);
});

test('requests this implementation cannot make are refused with the reason', () => {
  const cases: Array<[Parameters<typeof forwardRequest>[0], RegExp]> = [
    [
      { url: 'ws://echo/' },
      /scheme "ws" is not supported by this echo client \(supported: http, https, grpc, tcp\)/,
    ],
    [{ url: 'echo' }, /missing protocol scheme in the request URL: echo/],
    [{ url: 'http:echo' }, /invalid URL http:echo: want http:\/\/host\[:port\]\[\/path\]/],
    [{ url: 'tcp://echo' }, /invalid URL tcp:\/\/echo: missing port in address/],
    [{ url: 'http://:80/' }, /invalid URL http:\/\/:80\/: no host/],
    [{ url: 'http://echo:0/' }, /port 0/],
    [{ url: 'http://e', http3: true }, /not supported by this echo implementation: http3/],
    [{ url: 'http://e', hbone: { address: 'x:15008' } }, /: hbone/],
    [
      { url: 'tcp://e:1', proxyProtocolVersion: 'V2', serverFirst: true },
      /serverFirst, proxyProtocolVersion/,
    ],
    [{ url: 'http://e', forceIpFamily: 'tcp5' }, /force_ip_family "tcp5": want tcp4 or tcp6/],
    [{ url: 'http://e', headers: [{ key: '', value: 'x' }] }, /a header with an empty name/],
  ];
  for (const [fields, message] of cases)
    assert.throws(
      () => planForward(forwardRequest(fields)),
      (e: Error) => {
        assert.ok(e instanceof InvalidForwardRequest);
        assert.match(e.message, message, JSON.stringify(fields));
        return true;
      },
    );
});
