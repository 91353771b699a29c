// The gateway role's shutdown and settings: a drain lets an HTTPS request in flight finish (on a
// chain with an inline certificate) while readiness says "draining", then the listeners are gone;
// --help documents the role and its settings; a bad role fails at start with the flag named.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { eventually } from '@trellis/core/test-support';
import { httpBackend, testPort } from '../test-support/apps.js';
import {
  cluster,
  endpoints,
  forward,
  prefix,
  simpleRoutes,
} from '../test-support/envoy-builders.js';
import { spiffe, startFixture } from '../test-support/fixture.js';
import { ACCEPT_WHILE_DRAINING_MS } from '../waypoint/start.js';
import { gatewayListener } from '../test-support/gateway-builders.js';
import { hostCert, httpsRequest, ingressRoot } from '../test-support/gateway-clients.js';

const HBONE = testPort(161);
const HTTPS = testPort(162);
const APP = testPort(163);
const C = 'outbound|80||slow.default.svc.cluster.local';
const MAIN = fileURLToPath(new URL('../trellis-waypoint.mjs', import.meta.url));

test('drain: the request in flight finishes, readiness says draining, new requests are served for a moment (told to close), then the port is closed', async (t) => {
  const root = await ingressRoot();
  const cert = await hostCert(root, 'slow.example.com');
  const f = await startFixture({
    hbonePort: HBONE,
    identity: spiffe('istio-ingress', 'gw'),
    extraArgs: ['--role', 'gateway', '--listener-host', '127.0.0.1'],
    envoy: {
      listeners: [
        gatewayListener(HTTPS, [
          {
            name: 's',
            serverNames: ['slow.example.com'],
            // An inline certificate (tls_certificates) rather than SDS.
            tls: { inline: [cert] },
            routes: 'r',
          },
        ]),
      ],
      routes: [simpleRoutes('r', [forward('all', prefix('/'), C)])],
      clusters: [cluster(C)],
      endpoints: [
        endpoints(C, [{ ip: '127.0.0.161', port: APP, identity: spiffe('default', 'slow') }]),
      ],
    },
  });
  t.after(() => f.close());
  const backend = await httpBackend(t, f.mesh, {
    ip: '127.0.0.161',
    port: APP,
    hbonePort: HBONE,
    name: 'slow',
    handler: (_r, _b, res) => setTimeout(() => res.end('done'), 800),
  });
  const ready = () => fetch(`http://127.0.0.1:${f.waypoint.ports.readiness}/healthz/ready`);
  assert.equal((await ready()).status, 200);
  const inflight = httpsRequest(HTTPS, 'slow.example.com', root.cert);
  await eventually('the request at the backend', () => backend.seen.length > 0);
  const started = Date.now();
  const stopping = f.waypoint.shutdown(10_000);
  await new Promise((r) => setTimeout(r, 50));
  const r0 = await ready();
  assert.deepEqual([r0.status, await r0.text()], [503, 'not ready: draining\n']);
  // A client whose load balancer still sends here early in the drain is served, and told to close.
  const late = await httpsRequest(HTTPS, 'slow.example.com', root.cert);
  assert.deepEqual([late.status, late.body], [200, 'done'], 'a new request early in the drain');
  assert.equal(late.headers['connection'], 'close');
  const r = await inflight;
  assert.deepEqual([r.status, r.body], [200, 'done'], 'the request in flight completed');
  await eventually(
    'the port closed',
    () =>
      httpsRequest(HTTPS, 'slow.example.com', root.cert).then(
        () => undefined,
        (err: Error) => (/ECONNREFUSED/.test(err.message) ? true : undefined),
      ),
    20_000,
  );
  assert.ok(
    Date.now() - started >= ACCEPT_WHILE_DRAINING_MS,
    `the port closed after ${Date.now() - started} ms of drain, not before ${ACCEPT_WHILE_DRAINING_MS}`,
  );
  await stopping;
  assert.ok(Date.now() - started < 10_000, 'nothing left to drain: stopped before the deadline');
});

test('the binary: --help documents the gateway role; a bad role fails at start', () => {
  const help = spawnSync(process.execPath, [MAIN, '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0);
  for (const s of [
    '--role',
    'PROXY_ROLE',
    '--workload-name',
    'ISTIO_META_WORKLOAD_NAME',
    '--listener-host',
    'router~',
  ])
    assert.ok(help.stdout.includes(s), s);
  const bad = spawnSync(process.execPath, [MAIN, '--role', 'router'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--role/);
  const env = spawnSync(process.execPath, [MAIN], {
    encoding: 'utf8',
    env: { ...process.env, PROXY_ROLE: 'ingress' },
  });
  assert.equal(env.status, 2);
  assert.match(env.stderr, /PROXY_ROLE|--role/);
});
