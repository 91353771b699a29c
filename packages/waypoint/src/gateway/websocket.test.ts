// WebSocket (HTTP/1.1 Upgrade) through the gateway role, with a real `ws` client and app: the route
// is matched and its header modifier applied, the 101 comes back, messages go both ways over HBONE
// to a mesh app and over plain TCP to an app outside the mesh, a close on either side ends the
// other, the route timeout does not cut the stream, an app's 400 is relayed, a listener whose
// connection manager does not allow websocket answers 403, and the exchange is logged as a 101.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test, type TestContext } from 'node:test';
import { eventually } from '@trellis/core/test-support';
import { testPort } from '../test-support/apps.js';
import {
  addHeader,
  cluster,
  endpoints,
  forward,
  prefix,
  routeConfig,
} from '../test-support/envoy-builders.js';
import { spiffe, startDestination, startFixture, type Fixture } from '../test-support/fixture.js';
import { gatewayListener } from '../test-support/gateway-builders.js';
import { wsConnect, wsEcho, WsRefused, type WsEcho } from '../test-support/ws-echo.js';

const HBONE = testPort(141);
const HTTP = testPort(142);
const NOUP = testPort(143);
const APP = testPort(144);
const GW_ID = spiffe('istio-ingress', 'gw');
const MESH = 'outbound|80||chat.default.svc.cluster.local';
const PLAIN = 'outbound|80||legacy-chat.example.internal';

interface World {
  f: Fixture;
  log: string[];
  mesh: WsEcho;
  plain: WsEcho;
  peers: string[];
}

async function setup(t: TestContext): Promise<World> {
  const log: string[] = [];
  const routes = `http.${HTTP}`;
  const f = await startFixture({
    hbonePort: HBONE,
    identity: GW_ID,
    accessLog: log,
    extraArgs: ['--role', 'gateway', '--listener-host', '127.0.0.1', '--gateway-name', 'gw'],
    envoy: {
      listeners: [
        gatewayListener(HTTP, [
          { name: 'http', routes, hcm: { upgradeConfigs: [{ upgradeType: 'websocket' }] } },
        ]),
        gatewayListener(NOUP, [{ name: 'noup', routes }]),
      ],
      routes: [
        routeConfig(routes, [
          {
            name: 'chat',
            domains: ['*'],
            routes: [
              forward(
                'mesh',
                prefix('/mesh'),
                MESH,
                // A short route timeout: it bounds the wait for the 101, not the stream.
                { timeout: { nanos: 300_000_000 } },
                { requestHeadersToAdd: [addHeader('x-route', 'mesh')] },
              ),
              // The route's setting wins over the connection manager's.
              forward('off', prefix('/off'), PLAIN, {
                upgradeConfigs: [{ upgradeType: 'websocket', enabled: false }],
              }),
              forward('plain', prefix('/'), PLAIN),
            ],
          },
        ]),
      ],
      clusters: [cluster(MESH), cluster(PLAIN)],
      endpoints: [
        endpoints(MESH, [{ ip: '127.0.0.141', port: APP, identity: spiffe('default', 'chat') }]),
        // No HBONE metadata: outside the mesh, plain TCP.
        endpoints(PLAIN, [{ ip: '127.0.0.142', port: APP }]),
      ],
    },
  });
  t.after(() => f.close());
  const mesh = await wsEcho(t, '127.0.0.141', APP);
  const plain = await wsEcho(t, '127.0.0.142', APP);
  const dest = await startDestination(f.mesh, '127.0.0.141', HBONE, spiffe('default', 'chat'));
  t.after(() => dest.server.close({ drainMs: 0 }));
  return { f, log, mesh, plain, peers: dest.peers };
}

test('WebSocket through the gateway', async (t) => {
  const w = await setup(t);
  const url = (port: number, path: string) => `ws://127.0.0.1:${port}${path}`;

  await t.test('101, messages both ways over HBONE, past the route timeout', async () => {
    const c = await wsConnect(url(HTTP, '/mesh/room'));
    assert.equal(c.status, 101);
    assert.equal(String(c.headers['upgrade']).toLowerCase(), 'websocket');
    c.ws.send('hello');
    assert.equal(await c.next(), 'echo: hello');
    const seen = w.mesh.heads.at(-1)!;
    assert.equal(seen['x-route'], 'mesh', 'the route header modifier applied');
    assert.equal(String(seen['upgrade']).toLowerCase(), 'websocket');
    assert.ok(seen['x-request-id'], 'the engine handled the request head');
    assert.ok(w.peers.includes(GW_ID), `HBONE peers: ${w.peers.join(', ')}`);
    // The server speaks first, then the client again after the 300 ms route timeout.
    w.mesh.sockets.at(-1)!.send('from the app');
    assert.equal(await c.next(), 'from the app');
    await sleep(600);
    c.ws.send('still here');
    assert.equal(await c.next(), 'echo: still here');
    // The client closes: the app sees the close frame and code.
    const server = w.mesh.sockets.at(-1)!;
    const serverClosed = new Promise<number>((r) => server.on('close', (code: number) => r(code)));
    c.ws.close(1000, 'bye');
    assert.equal(await serverClosed, 1000);
    assert.equal(await c.closed, 1000);
  });

  await t.test('over plain TCP; the app closes, then the app drops the connection', async () => {
    const c = await wsConnect(url(HTTP, '/plain'));
    c.ws.send('x'.repeat(200_000));
    assert.equal(await c.next(), `echo: ${'x'.repeat(200_000)}`);
    w.plain.sockets.at(-1)!.close(4000, 'app closes');
    assert.equal(await c.closed, 4000);

    const d = await wsConnect(url(HTTP, '/plain'));
    d.ws.send('ping');
    assert.equal(await d.next(), 'echo: ping');
    w.plain.sockets.at(-1)!.terminate();
    assert.equal(await d.closed, 1006, 'an abrupt close reaches the client');
  });

  await t.test("the app's 400 to the upgrade is relayed", async () => {
    const err = await wsConnect(url(HTTP, '/reject')).then(
      () => assert.fail('the upgrade was accepted'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof WsRefused, String(err));
    assert.equal(err.status, 400);
    assert.equal(err.body, 'no websocket\n');
  });

  await t.test('a connection manager or route without websocket upgrades answers 403', async () => {
    const before = w.plain.heads.length;
    const err = await wsConnect(url(NOUP, '/plain')).then(
      () => assert.fail('the upgrade was accepted'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof WsRefused, String(err));
    assert.equal(err.status, 403);
    const off = await wsConnect(url(HTTP, '/off')).then(
      () => assert.fail('the upgrade was accepted on a route that disables it'),
      (e: unknown) => e,
    );
    assert.ok(off instanceof WsRefused, String(off));
    assert.equal(off.status, 403);
    assert.equal(w.plain.heads.length, before, 'nothing reached the app');
    // A plain request on the same listener still works.
    const res = await fetch(`http://127.0.0.1:${NOUP}/plain`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'not a websocket request\n');
  });

  await t.test('the access log records the upgraded streams as 101 with their bytes', async () => {
    const lines = await eventually('three 101 lines in the access log', () => {
      const l = w.log
        .map((x) => JSON.parse(x) as Record<string, unknown>)
        .filter((x) => x['response_code'] === 101);
      return l.length >= 3 ? l : undefined;
    });
    const big = lines.find((l) => (l['bytes_received'] as number) > 200_000);
    assert.ok(big, JSON.stringify(lines));
    assert.ok((big['bytes_sent'] as number) > 200_000, JSON.stringify(big));
    const refused = w.log.map((x) => JSON.parse(x) as Record<string, unknown>);
    assert.ok(
      refused.some(
        (l) => l['response_code'] === 403 && l['response_code_details'] === 'upgrade_failed',
      ),
      w.log.join('\n'),
    );
  });
});
