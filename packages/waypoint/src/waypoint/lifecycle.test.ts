// Shutdown and the admin surface: a drain lets in-flight requests finish while readiness says
// "draining", still serves new tunnels for a moment (peers with stale endpoints), then refuses
// them; /quitquitquit drains too; /logging changes levels;
// the binary's --help and its errors for bad settings.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { eventually } from '@trellis/core/test-support';
import { fileURLToPath } from 'node:url';
import { httpBackend, request, testPort } from '../test-support/apps.js';
import {
  cluster,
  endpoints,
  forward,
  listener,
  prefix,
  routeConfig,
} from '../test-support/envoy-builders.js';
import { spiffe, startFixture } from '../test-support/fixture.js';

const HBONE = testPort(121);
const C = 'outbound|80||slow.default.svc.cluster.local';
const MAIN = fileURLToPath(new URL('../trellis-waypoint.mjs', import.meta.url));

async function slowFixture(t: import('node:test').TestContext) {
  const bport = testPort(122);
  const f = await startFixture({
    hbonePort: HBONE,
    envoy: {
      listeners: [listener([{ vip: '10.96.7.1', port: 80, routes: 'r' }])],
      routes: [
        routeConfig('r', [{ name: 'r', domains: ['*'], routes: [forward('all', prefix('/'), C)] }]),
      ],
      clusters: [cluster(C)],
      endpoints: [
        endpoints(C, [{ ip: '127.0.0.121', port: bport, identity: spiffe('default', 'slow') }]),
      ],
    },
  });
  t.after(() => f.close());
  const backend = await httpBackend(t, f.mesh, {
    ip: '127.0.0.121',
    port: bport,
    hbonePort: HBONE,
    name: 'slow',
    handler: (_r, _b, res) => setTimeout(() => res.end('done'), 800),
  });
  return { f, backend, port: await f.sourcePort('10.96.7.1', 80) };
}

test('SIGTERM-style drain: the in-flight request finishes, readiness says draining, a new tunnel early in the drain is served, later ones are refused', async (t) => {
  const { f, port, backend } = await slowFixture(t);
  const inflight = request(port);
  await eventually('the request at the backend', () => backend.seen.length > 0);
  const stopping = f.waypoint.shutdown(3000);
  await new Promise((r) => setTimeout(r, 50));
  const ready = await fetch(`http://127.0.0.1:${f.waypoint.ports.readiness}/healthz/ready`);
  assert.deepEqual([ready.status, await ready.text()], [503, 'not ready: draining\n']);
  // A peer that still sends here (its endpoints not updated yet) is served over a new connection.
  const late = await request(port);
  assert.deepEqual([late.status, late.body], [200, 'done'], 'a new request early in the drain');
  const r = await inflight;
  assert.deepEqual([r.status, r.body], [200, 'done'], 'the request in flight completed');
  await stopping;
  await assert.rejects(request(port), /ECONNRESET|socket hang up|ECONNREFUSED/);
});

test('/quitquitquit (POST, loopback) drains and stops; /logging changes the level', async (t) => {
  const { f } = await slowFixture(t);
  assert.equal((await f.admin('/quitquitquit')).status, 405, 'GET is refused');
  const lv = await f.admin('/logging?level=debug', 'POST');
  assert.equal(lv.status, 200);
  assert.match(lv.body, /"level": "debug"/);
  assert.equal((await f.admin('/logging?level=loud', 'POST')).status, 400);
  assert.equal((await f.admin('/quitquitquit', 'POST')).status, 200);
  await f.waypoint.done;
});

test('the binary: --help lists every setting; bad settings fail at start with the flag named', () => {
  const help = spawnSync(process.execPath, [MAIN, '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0);
  for (const flag of [
    '--xds-address',
    'XDS_ADDRESS',
    '--ca-root-cert',
    'CA_ROOT_CA',
    '--gateway-name',
    '--otlp-endpoint',
    '--drain-timeout',
  ])
    assert.ok(help.stdout.includes(flag), flag);
  const bad = spawnSync(
    process.execPath,
    [MAIN, '--xds-protocol', 'grpc', '--trace-sampling', '200'],
    { encoding: 'utf8' },
  );
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--xds-protocol/);
  assert.match(bad.stderr, /--trace-sampling/);
  const noRoot = spawnSync(process.execPath, [MAIN, '--ca-root-cert', '/nonexistent/root.pem'], {
    encoding: 'utf8',
  });
  assert.equal(noRoot.status, 2);
  assert.match(noRoot.stderr, /--ca-root-cert \/nonexistent\/root\.pem: ENOENT/);
});
