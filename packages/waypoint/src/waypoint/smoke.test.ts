import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';
import { cluster, endpoints, listener, simpleRoutes } from '../test-support/envoy-builders.js';
import { testPort } from '../test-support/apps.js';
import { startDestination, startFixture, spiffe } from '../test-support/fixture.js';

const HBONE_PORT = testPort(0);

test('smoke: HTTP/1.1 through the waypoint to an HBONE destination', async (t) => {
  const app = http.createServer((req, res) => {
    res.setHeader('x-seen-host', req.headers.host ?? '');
    res.end(`hello ${req.url}`);
  });
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
  const agent = new http.Agent({ keepAlive: true });
  for (let i = 0; i < 3; i++) {
    const body = await new Promise<{ status: number; text: string; host: string }>(
      (resolve, reject) => {
        http
          .get(
            {
              host: '127.0.0.1',
              port,
              path: `/x${i}`,
              agent,
              headers: { host: 'web.default.svc.cluster.local' },
            },
            (res) => {
              let text = '';
              res.on('data', (d) => (text += d));
              res.on('end', () =>
                resolve({
                  status: res.statusCode!,
                  text,
                  host: String(res.headers['x-seen-host']),
                }),
              );
            },
          )
          .on('error', reject);
      },
    );
    assert.equal(body.status, 200, body.text);
    assert.equal(body.text, `hello /x${i}`);
    assert.equal(body.host, 'web.default.svc.cluster.local');
  }
  agent.destroy();
  assert.deepEqual([...new Set(dest.peers)], [spiffe('default', 'waypoint')]);
});
