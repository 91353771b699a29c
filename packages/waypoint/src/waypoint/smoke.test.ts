import assert from 'node:assert/strict';
import http from 'node:http';
import { test, type TestContext } from 'node:test';
import { eventually } from '@trellis/core/test-support';
import { cluster, endpoints, listener, simpleRoutes } from '../test-support/envoy-builders.js';
import { startDestination, startFixture, spiffe } from '../test-support/fixture.js';

const HBONE_PORT = 20000 + (process.pid % 20000);

/** The waypoint serving web.default (VIP 10.96.0.1:80) at `app`, behind an HBONE destination. */
async function throughWaypoint(t: TestContext, app: http.Server) {
  await new Promise<void>((r) => app.listen(8080, '127.0.0.2', () => r()));
  t.after(() => app.close());
  const f = await startFixture({
    hbonePort: HBONE_PORT,
    envoy: {
      listeners: [listener([{ vip: '10.96.0.1', port: 80, routes: 'web:80' }])],
      routes: [
        simpleRoutes('web:80', [
          {
            name: 'all',
            match: { pathSpecifier: { case: 'prefix', value: '/' } },
            action: {
              case: 'route',
              value: {
                clusterSpecifier: {
                  case: 'cluster',
                  value: 'outbound|80||web.default.svc.cluster.local',
                },
                timeout: { seconds: 5n },
              },
            },
          },
        ]),
      ],
      clusters: [cluster('outbound|80||web.default.svc.cluster.local')],
      endpoints: [
        endpoints('outbound|80||web.default.svc.cluster.local', [
          { ip: '127.0.0.2', port: 8080, identity: spiffe('default', 'web') },
        ]),
      ],
    },
  });
  t.after(() => f.close());
  const dest = await startDestination(f.mesh, '127.0.0.2', HBONE_PORT, spiffe('default', 'web'));
  t.after(() => dest.server.close({ drainMs: 0 }));
  const port = await f.sourcePort('10.96.0.1', 80);
  return { dest, port };
}

function get(port: number, path: string, agent?: http.Agent) {
  return new Promise<{ status: number; text: string; host: string }>((resolve, reject) => {
    http
      .get(
        {
          host: '127.0.0.1',
          port,
          path,
          ...(agent ? { agent } : {}),
          headers: { host: 'web.default.svc.cluster.local' },
        },
        (res) => {
          let text = '';
          res.on('data', (d) => (text += d));
          res.on('end', () =>
            resolve({ status: res.statusCode!, text, host: String(res.headers['x-seen-host']) }),
          );
        },
      )
      .on('error', reject);
  });
}

test('smoke: HTTP/1.1 through the waypoint to an HBONE destination', async (t) => {
  const app = http.createServer((req, res) => {
    res.setHeader('x-seen-host', req.headers.host ?? '');
    res.end(`hello ${req.url}`);
  });
  const { dest, port } = await throughWaypoint(t, app);
  const agent = new http.Agent({ keepAlive: true });
  for (let i = 0; i < 3; i++) {
    const body = await get(port, `/x${i}`, agent);
    assert.equal(body.status, 200, body.text);
    assert.equal(body.text, `hello /x${i}`);
    assert.equal(body.host, 'web.default.svc.cluster.local');
  }
  agent.destroy();
  assert.deepEqual([...new Set(dest.peers)], [spiffe('default', 'waypoint')]);
});

test('an idle pooled connection the app closes ends its HBONE tunnel cleanly, not with a reset', async (t) => {
  const app = http.createServer((_req, res) => res.end('short-lived'));
  app.keepAliveTimeout = 200;
  const { dest, port } = await throughWaypoint(t, app);
  const r = await get(port, '/once');
  assert.equal(r.status, 200, r.text);
  // The app closes the idle keep-alive connection after 200 ms; the destination sees the tunnel
  // end. A reset (RST_STREAM) would show as an error, which a ztunnel logs as decision "error".
  const closed = await eventually('the tunnel closed at the destination', () =>
    dest.closed.length > 0 ? dest.closed : undefined,
  );
  assert.deepEqual(closed, [undefined]);
});
