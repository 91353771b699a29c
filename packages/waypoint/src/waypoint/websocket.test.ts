// WebSocket through the waypoint role: the client's bytes arrive in an HBONE tunnel, the upgraded
// stream goes on to the mesh app in another HBONE tunnel, messages go both ways and a close on
// either side ends the other; without upgrade_configs the waypoint answers 403.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testPort } from '../test-support/apps.js';
import {
  cluster,
  endpoints,
  forward,
  listener,
  prefix,
  simpleRoutes,
} from '../test-support/envoy-builders.js';
import { spiffe, startDestination, startFixture } from '../test-support/fixture.js';
import { wsConnect, wsEcho, WsRefused } from '../test-support/ws-echo.js';

const HBONE = testPort(161);
const APP = testPort(162);
const CHAT = 'outbound|80||chat.default.svc.cluster.local';

test('WebSocket through the waypoint over HBONE', async (t) => {
  const f = await startFixture({
    hbonePort: HBONE,
    envoy: {
      listeners: [
        listener([
          {
            vip: '10.96.7.1',
            port: 80,
            routes: 'chat:80',
            hcm: { upgradeConfigs: [{ upgradeType: 'websocket' }] },
          },
          { vip: '10.96.7.2', port: 80, routes: 'chat:80' },
        ]),
      ],
      routes: [simpleRoutes('chat:80', [forward('chat', prefix('/'), CHAT)])],
      clusters: [cluster(CHAT)],
      endpoints: [
        endpoints(CHAT, [{ ip: '127.0.0.161', port: APP, identity: spiffe('default', 'chat') }]),
      ],
    },
  });
  t.after(() => f.close());
  const app = await wsEcho(t, '127.0.0.161', APP);
  const dest = await startDestination(f.mesh, '127.0.0.161', HBONE, spiffe('default', 'chat'));
  t.after(() => dest.server.close({ drainMs: 0 }));
  const port = await f.sourcePort('10.96.7.1', 80);
  const host = { host: 'chat.default.svc.cluster.local' };

  const c = await wsConnect(`ws://127.0.0.1:${port}/room`, host);
  assert.equal(c.status, 101);
  c.ws.send('hello');
  assert.equal(await c.next(), 'echo: hello');
  app.sockets.at(-1)!.send('from the app');
  assert.equal(await c.next(), 'from the app');
  assert.ok(dest.peers.length > 0, 'the app was reached over HBONE');
  const server = app.sockets.at(-1)!;
  const serverClosed = new Promise<number>((r) => server.on('close', (code: number) => r(code)));
  c.ws.close(1000);
  assert.equal(await serverClosed, 1000);

  const d = await wsConnect(`ws://127.0.0.1:${port}/room`, host);
  d.ws.send('ping');
  assert.equal(await d.next(), 'echo: ping');
  app.sockets.at(-1)!.close(4001);
  assert.equal(await d.closed, 4001);

  const noUpgrades = await f.sourcePort('10.96.7.2', 80);
  const err = await wsConnect(`ws://127.0.0.1:${noUpgrades}/room`, host).then(
    () => assert.fail('the upgrade was accepted'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof WsRefused, String(err));
  assert.equal(err.status, 403);
});
