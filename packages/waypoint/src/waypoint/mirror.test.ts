// Mirrored copies over pooled upstream connections: a kept-alive connection the mirror's server
// closed gets the copy again on a fresh connection (as the real request does), so a mirror is not
// lost to a stale connection; a copy that cannot be delivered is counted.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { eventually } from '@trellis/core/test-support';
import { httpBackend, metricSum, metricsText, request, testPort } from '../test-support/apps.js';
import {
  cluster,
  endpoints,
  forward,
  listener,
  prefix,
  routeConfig,
} from '../test-support/envoy-builders.js';
import { spiffe, startDestination, startFixture } from '../test-support/fixture.js';

const HBONE = testPort(221);
const BPORT = testPort(222);
const VIP = '10.96.7.2';
const A = 'outbound|80||a.default.svc.cluster.local';
const M = 'outbound|80||m.default.svc.cluster.local';

test('a mirrored copy whose kept-alive connection the server closed is sent again on a new one', async (t) => {
  const f = await startFixture({
    hbonePort: HBONE,
    envoy: {
      listeners: [listener([{ vip: VIP, port: 80, routes: 'r' }])],
      routes: [
        routeConfig('r', [
          {
            name: 'r',
            domains: ['*'],
            routes: [forward('all', prefix('/'), A, { requestMirrorPolicies: [{ cluster: M }] })],
          },
        ]),
      ],
      clusters: [cluster(A), cluster(M)],
      endpoints: [
        endpoints(A, [{ ip: '127.0.0.131', port: BPORT, identity: spiffe('default', 'a') }]),
        endpoints(M, [{ ip: '127.0.0.132', port: BPORT, identity: spiffe('default', 'm') }]),
      ],
    },
  });
  t.after(() => f.close());
  await httpBackend(t, f.mesh, { ip: '127.0.0.131', port: BPORT, hbonePort: HBONE, name: 'a' });
  // The mirror's server answers the first request of each connection (keep-alive) and closes the
  // connection, unanswered, when a second request comes on it: a keep-alive it had given up on.
  const answered: string[] = [];
  const server = net.createServer((socket) => {
    let served = false;
    let buf = '';
    socket.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const path = buf.split(' ')[1]!;
      buf = buf.slice(end + 4);
      if (served) {
        socket.destroy();
        return;
      }
      served = true;
      answered.push(path);
      socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\nok');
    });
    socket.on('error', () => undefined);
  });
  server.listen(BPORT, '127.0.0.132');
  await new Promise((r) => server.once('listening', r));
  const dest = await startDestination(f.mesh, '127.0.0.132', HBONE, spiffe('default', 'm'));
  t.after(async () => {
    server.close();
    await dest.server.close({ drainMs: 0 });
  });
  const port = await f.sourcePort(VIP, 80);

  assert.equal((await request(port, { path: '/1' })).status, 200);
  await eventually('the first copy answered', () => answered.length === 1);
  assert.equal((await request(port, { path: '/2' })).status, 200);
  await eventually('the second copy answered, on a new connection', () => answered.length === 2);
  assert.deepEqual(answered, ['/1', '/2']);
  const m = await metricsText(f);
  assert.equal(metricSum(m, 'envoy_cluster_upstream_rq_mirror_dropped'), 0, 'nothing dropped');
});
