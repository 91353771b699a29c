import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlagError } from './flags.pure.js';
import { parseServerArgs, type ServerConfig } from './server-config.pure.js';

test("the Gateway API mesh manifests' arguments: HTTP 8080, HTTPS 8443, gRPC 7070, TCP 9090", () => {
  // conformance/mesh/manifests.yaml (v1.6.1), Deployments echo-v1 and echo-v2.
  const c = parseServerArgs([
    '--tcp=9090',
    '--port=8080',
    '--grpc=7070',
    '--port=8443',
    '--tls=8443',
    '--crt=/cert.crt',
    '--key=/cert.key',
  ]) as ServerConfig;
  assert.deepEqual(c.listeners, [
    { protocol: 'http', port: 8080, tls: false },
    { protocol: 'http', port: 8443, tls: true },
    { protocol: 'grpc', port: 7070, tls: false },
    { protocol: 'tcp', port: 9090, tls: false },
  ]);
  assert.equal(c.crt, '/cert.crt');
  assert.equal(c.key, '/cert.key');
});

test('without arguments (the consumer namespace): the upstream default ports', () => {
  const c = parseServerArgs([]) as ServerConfig;
  assert.deepEqual(
    c.listeners.map((l) => `${l.protocol}:${l.port}`),
    ['http:8080', 'grpc:7070', 'tcp:9090'],
  );
  assert.equal(c.version, '');
});

test('comma-separated ports, an emptied list, identity flags', () => {
  const c = parseServerArgs(['--port=1,2', '--grpc=', '--tcp=', '--version=v1', '--cluster=c1']);
  assert.notEqual(c, 'help');
  const cfg = c as ServerConfig;
  assert.deepEqual(
    cfg.listeners.map((l) => l.port),
    [1, 2],
  );
  assert.equal(cfg.version, 'v1');
  assert.equal(cfg.cluster, 'c1');
  assert.equal(parseServerArgs(['--help']), 'help');
});

test('bad arguments are refused with the reason', () => {
  const cases: Array<[string[], RegExp]> = [
    [['--port=70000'], /--port=70000: a port is 0-65535/],
    [['--port=8080', '--grpc=8080'], /port 8080 is given twice \(--port and --grpc\)/],
    [
      ['--tls=1234', '--crt=a', '--key=b'],
      /--tls=1234: not one of the --port, --grpc or --tcp ports/,
    ],
    [['--port=8443', '--tls=8443'], /TLS ports \(--tls\) need --crt and --key/],
    [['--udp=53'], /flag --udp is not supported: an Istio echo server flag/],
    [['--mtls=8443'], /flag --mtls is not supported/],
    [['--prot=1'], /unknown flag: --prot/],
    [['extra'], /unexpected argument "extra": the server takes only flags/],
    [['--port=abc'], /invalid argument "abc" for --port/],
  ];
  for (const [argv, message] of cases)
    assert.throws(
      () => parseServerArgs(argv),
      (e: Error) => {
        assert.ok(e instanceof FlagError);
        assert.match(e.message, message, argv.join(' '));
        return true;
      },
    );
});
