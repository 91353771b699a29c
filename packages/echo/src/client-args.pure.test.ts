import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseClientArgs } from './client-args.pure.js';
import { FlagError } from './flags.pure.js';
import type { ForwardRequest } from './forward-request.pure.js';

test('the arguments the mesh tests pass (conformance/utils/echo/pod.go makeRequestWithCount)', () => {
  const r = parseClientArgs([
    'http://echo-v2/v2/example?x=1',
    '--method=GET',
    '-H',
    'Version:one',
    '-H',
    'Host:echo-v1',
    '--count=5',
  ]) as ForwardRequest;
  assert.equal(r.url, 'http://echo-v2/v2/example?x=1');
  assert.equal(r.method, 'GET');
  assert.equal(r.count, 5);
  assert.deepEqual(r.headers, [
    { key: 'Version', value: 'one' },
    { key: 'Host', value: 'echo-v1' },
  ]);
  assert.equal(r.timeoutMicros, 5_000_000, 'default --timeout=5s');
  assert.equal(r.message, 'HelloWorld', 'default --msg');
  assert.equal(r.expectedResponse, null, '--expect not given');
});

test('gRPC without --method; a URL without a scheme is http; header values are trimmed', () => {
  const g = parseClientArgs(['grpc://echo:7070', '--count=5']) as ForwardRequest;
  assert.equal(g.method, '');
  const h = parseClientArgs(['echo-v1:8080/p', '-H', 'x-a:  spaced ']) as ForwardRequest;
  assert.equal(h.url, 'http://echo-v1:8080/p');
  assert.deepEqual(h.headers, [{ key: 'x-a', value: 'spaced' }]);
});

test('TLS, timing and connection flags reach the request', () => {
  const r = parseClientArgs([
    'https://echo-v2:443/',
    '--ca=/cert.crt',
    '--client-cert=/c.crt',
    '--client-key=/c.key',
    '--server-name=echo',
    '--alpn=h2',
    '--timeout=1m30s',
    '--qps=10',
    '-k',
    '-L',
    '--http2',
    '-4',
    '--expect=',
  ]) as ForwardRequest;
  assert.equal(r.caCertFile, '/cert.crt');
  assert.equal(r.certFile, '/c.crt');
  assert.equal(r.keyFile, '/c.key');
  assert.equal(r.serverName, 'echo');
  assert.deepEqual(r.alpn, { value: ['h2'] });
  assert.equal(r.timeoutMicros, 90_000_000);
  assert.equal(r.qps, 10);
  assert.equal(r.insecureSkipVerify, true);
  assert.equal(r.followRedirects, true);
  assert.equal(r.http2, true);
  assert.equal(r.forceIpFamily, 'tcp4');
  assert.deepEqual(r.expectedResponse, { value: '' }, 'an empty --expect is still given');
});

test('bad arguments are refused with the reason', () => {
  const cases: Array<[string[], RegExp]> = [
    [[], /want exactly one URL argument \(e.g. http:\/\/echo\/path\), got 0/],
    [['http://a', 'http://b'], /got 2/],
    [['http://a', '-H', 'novalue'], /invalid header format: "novalue" \(want name:value\)/],
    [['http://a', '--timeout=5'], /--timeout: invalid duration "5"/],
    [['http://a', '--timeout=0s'], /--timeout=0s: must be positive/],
    [['http://a', '--count=-1'], /--count=-1: must not be negative/],
    [['http://a', '--count=x'], /invalid argument "x" for --count/],
    [['http://a', '-4', '-6'], /--ipv4 and --ipv6 are mutually exclusive/],
    [['http://a', '--client-cert=/c'], /--client-cert and --client-key go together/],
    [['http://a', '--http3'], /flag --http3 is not supported: an Istio echo client flag/],
    [['http://a', '-M', 'x:y'], /flag -M is not supported/],
    [['http://a', '--bogus'], /unknown flag: --bogus/],
  ];
  for (const [argv, message] of cases)
    assert.throws(
      () => parseClientArgs(argv),
      (e: Error) => {
        assert.ok(e instanceof FlagError, `${argv.join(' ')}: ${e}`);
        assert.match(e.message, message, argv.join(' '));
        return true;
      },
    );
});
