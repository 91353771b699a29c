// Configuration from Envoy xDS: a response with an invalid resource is NACKed with the reason and
// the last good configuration keeps serving; a later good response is applied; state-of-the-world
// works as delta does; /config_dump shows what is held; readiness waits for the first sync.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually } from '@trellis/core/test-support';
import { httpBackend, request, testPort } from '../test-support/apps.js';
import {
  cluster,
  endpoints,
  forward,
  listener,
  prefix,
  routeConfig,
  type EnvoySet,
} from '../test-support/envoy-builders.js';
import { lastNack, spiffe, startFixture } from '../test-support/fixture.js';

const HBONE = testPort(101);
const A = 'outbound|80||a.default.svc.cluster.local';
const B = 'outbound|80||b.default.svc.cluster.local';

function envoy(target: string, regex = '/x.*'): EnvoySet {
  const bport = testPort(102);
  return {
    listeners: [listener([{ vip: '10.96.6.1', port: 80, routes: 'r' }])],
    routes: [
      routeConfig('r', [
        {
          name: 'r',
          domains: ['*'],
          routes: [
            forward('re', { pathSpecifier: { case: 'safeRegex', value: { regex } } }, target),
            forward('all', prefix('/'), target),
          ],
        },
      ]),
    ],
    clusters: [cluster(A), cluster(B)],
    endpoints: [
      endpoints(A, [{ ip: '127.0.0.101', port: bport, identity: spiffe('default', 'a') }]),
      endpoints(B, [{ ip: '127.0.0.102', port: bport, identity: spiffe('default', 'b') }]),
    ],
  };
}

for (const protocol of ['delta', 'sotw'] as const) {
  test(`${protocol}: a bad resource is NACKed with its reason and the last good config keeps serving`, async (t) => {
    const bport = testPort(102);
    const f = await startFixture({
      hbonePort: HBONE,
      envoy: envoy(A),
      extraArgs: ['--xds-protocol', protocol],
    });
    t.after(() => f.close());
    await httpBackend(t, f.mesh, { ip: '127.0.0.101', port: bport, hbonePort: HBONE, name: 'a' });
    await httpBackend(t, f.mesh, { ip: '127.0.0.102', port: bport, hbonePort: HBONE, name: 'b' });
    const port = await f.sourcePort('10.96.6.1', 80);
    assert.equal((await request(port, { path: '/x1' })).body, 'a GET /x1');

    // Route to B, but with a regex RE2 refuses (lookahead): the whole response is rejected.
    f.xds.set(envoy(B, '/x(?=1)'));
    const nack = await eventually('the route NACK in config_dump', () =>
      lastNack(f, 'RouteConfiguration'),
    );
    assert.match(
      nack,
      /routes\[0\]\(re\)\.match\.safe_regex\.regex: regex "\/x\(\?=1\)" uses lookaround/,
    );
    const streams = f.xds.server.debug() as unknown as {
      types?: Record<string, { nacks?: number; lastNack?: string }>;
    }[];
    assert.ok(
      JSON.stringify(streams).includes('lookaround'),
      'the control plane received the NACK reason',
    );
    assert.equal(
      (await request(port, { path: '/x2' })).body,
      'a GET /x2',
      'still the last good config',
    );

    f.xds.set(envoy(B));
    const body = await eventually('the good update applied', async () => {
      const b = (await request(port, { path: '/x3' })).body;
      return b.startsWith('b ') && b;
    });
    assert.equal(body, 'b GET /x3', 'a good update is applied');
    const dump = JSON.parse((await f.admin('/config_dump')).body) as {
      listeners: { name: string }[];
      routes: unknown[];
      clusters: { name: string }[];
      bootstrap: { node: string };
    };
    assert.deepEqual(
      dump.listeners.map((l) => l.name),
      ['waypoint_inbound'],
    );
    assert.deepEqual(dump.clusters.map((c) => c.name).sort(), [A, B]);
    assert.equal(
      dump.bootstrap.node,
      'waypoint~127.0.0.1~waypoint.default~default.svc.cluster.local',
    );
  });
}

test('readiness answers 503 until the configuration arrived, and the waypoint refuses targets it has no chain for', async (t) => {
  const f = await startFixture({ hbonePort: HBONE, envoy: envoy(A) });
  t.after(() => f.close());
  const ready = await fetch(`http://127.0.0.1:${f.waypoint.ports.readiness}/healthz/ready`);
  assert.equal(ready.status, 200);
  // A VIP the waypoint has no chain for: the CONNECT is refused (401) and the client's socket reset.
  const port = await f.sourcePort('10.96.99.99', 80);
  await assert.rejects(request(port), /ECONNRESET|socket hang up/);
});
