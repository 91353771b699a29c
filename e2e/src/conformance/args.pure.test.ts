import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConformanceArgs, TRELLIS_PROFILES } from './args.pure.js';

test('defaults: every Trellis profile on a created 2-node cluster, GatewayClass trellis', () => {
  const d = parseConformanceArgs([]);
  assert.deepEqual(d.profiles, TRELLIS_PROFILES);
  assert.deepEqual(
    [d.kubeconfig, d.skipInstall, d.keep, d.nodes, d.gatewayClass, d.runTest, d.report],
    [undefined, false, false, 2, 'trellis', undefined, undefined],
  );
});

test('every flag', () => {
  const o = parseConformanceArgs([
    '--profiles',
    'mesh-http, MESH-GRPC,MESH-HTTP',
    '--kubeconfig',
    '/tmp/k',
    '--skip-install',
    '--gateway-class',
    'istio',
    '--run-test',
    'MeshBasic',
    '--report',
    'out.yaml',
    '--timeouts',
    'MaxTimeToConsistency=60s;RequestTimeout=20s',
    '--debug',
    '--core-only',
    '--usable-address',
    '172.28.3.254',
    '--unusable-address',
    '172.28.3.192',
  ]);
  assert.deepEqual(o.profiles, ['MESH-HTTP', 'MESH-GRPC']);
  assert.deepEqual(
    [o.kubeconfig, o.skipInstall, o.gatewayClass, o.runTest, o.report, o.debug],
    ['/tmp/k', true, 'istio', 'MeshBasic', 'out.yaml', true],
  );
  assert.equal(o.timeouts, 'MaxTimeToConsistency=60s;RequestTimeout=20s');
  assert.equal(o.coreOnly, true);
  assert.deepEqual([o.usableAddress, o.unusableAddress], ['172.28.3.254', '172.28.3.192']);
  assert.equal(parseConformanceArgs([]).coreOnly, false);
  assert.equal(parseConformanceArgs(['--keep', '--nodes', '3']).nodes, 3);
});

test('bad flags say what is wrong', () => {
  const bad: [string[], RegExp][] = [
    [['--profiles', 'MESH-HTTP,MESH-TCP'], /unknown profile MESH-TCP; known: GATEWAY-HTTP/],
    [['--profiles', ','], /unknown profile \(none given\)/],
    [['--profiles'], /--profiles needs a value/],
    [['--report', '--debug'], /--report needs a value/],
    [['--nodes', '0'], /--nodes must be an integer from 1 to 10, got "0"/],
    [['--install-timeout', 'soon'], /--install-timeout must be a duration/],
    [['--run-test', 'Mesh Basic'], /--run-test must be a test's short name/],
    [['--gateway-class', 'Bad_Name'], /--gateway-class must be a Kubernetes object name/],
    [['--timeouts', 'RequestTimeout=fast'], /Name=duration pairs .* got "RequestTimeout=fast"/],
    [['--skip-install'], /--skip-install needs --kubeconfig/],
    [['--keep', '--kubeconfig', 'k'], /--keep is for a created cluster/],
    [['--frobnicate'], /unknown flag "--frobnicate"/],
    [['--usable-address', 'gw.example.com'], /--usable-address must be an IP address/],
    [['--usable-address', '10.0.0.1'], /--usable-address and --unusable-address go together/],
  ];
  for (const [argv, message] of bad) assert.throws(() => parseConformanceArgs(argv), message);
});
