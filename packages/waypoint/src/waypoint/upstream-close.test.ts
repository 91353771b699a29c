// How the waypoint ends kept-alive upstream connections over HBONE, seen by the destination's HBONE
// server (the destination ztunnel in a cluster, which logs every tunnel): when the app closes an
// idle connection, and when the waypoint's own idle timeout closes one, the tunnel ends cleanly
// (END_STREAM both ways), not with a reset the ztunnel would record as an error.
import assert from 'node:assert/strict';
import http from 'node:http';
import type net from 'node:net';
import { test } from 'node:test';
import { eventually } from '@trellis/core/test-support';
import { cluster, endpoints, listener, simpleRoutes } from '../test-support/envoy-builders.js';
import { testPort } from '../test-support/apps.js';
import { startDestination, startFixture, spiffe } from '../test-support/fixture.js';

const HBONE_PORT = testPort(7);
const APP_IP = '127.0.0.31';

function get(port: number, path: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent: false, headers: { host: 'web' } }, (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode!, text }));
      })
      .on('error', reject);
  });
}

test('upstream connections over HBONE end cleanly between requests', async (t) => {
  // /app-closes: the app closes the connection 100 ms after answering (its keep-alive timeout).
  const appSockets = new Set<net.Socket>();
  const app = http.createServer((req, res) => res.end(`hello ${req.url}`));
  app.keepAliveTimeout = 100;
  app.on('connection', (s: net.Socket) => {
    appSockets.add(s);
    s.on('close', () => appSockets.delete(s));
  });
  await new Promise<void>((r) => app.listen(8080, APP_IP, () => r()));
  t.after(() => app.close());
  const patient = http.createServer((req, res) => res.end(`patient ${req.url}`));
  patient.keepAliveTimeout = 60_000;
  const patientSockets = new Set<net.Socket>();
  patient.on('connection', (s: net.Socket) => {
    patientSockets.add(s);
    s.on('close', () => patientSockets.delete(s));
  });
  await new Promise<void>((r) => patient.listen(8081, APP_IP, () => r()));
  t.after(() => patient.close());

  const route = (name: string, prefix: string, clusterName: string) => ({
    name,
    match: { pathSpecifier: { case: 'prefix' as const, value: prefix } },
    action: {
      case: 'route' as const,
      value: { clusterSpecifier: { case: 'cluster' as const, value: clusterName } },
    },
  });
  const f = await startFixture({
    hbonePort: HBONE_PORT,
    envoy: {
      listeners: [listener([{ vip: '10.96.0.31', port: 80, routes: 'web:80' }])],
      routes: [
        simpleRoutes('web:80', [
          route('app-closes', '/app-closes', 'app'),
          route('idle', '/idle', 'patient'),
        ]),
      ],
      clusters: [
        cluster('app'),
        // The waypoint closes connections idle for 300 ms (swept every second).
        cluster('patient', { commonHttpProtocolOptions: { idleTimeout: { nanos: 300_000_000 } } }),
      ],
      endpoints: [
        endpoints('app', [{ ip: APP_IP, port: 8080, identity: spiffe('default', 'web') }]),
        endpoints('patient', [{ ip: APP_IP, port: 8081, identity: spiffe('default', 'web') }]),
      ],
    },
  });
  t.after(() => f.close());
  const dest = await startDestination(f.mesh, APP_IP, HBONE_PORT, spiffe('default', 'web'));
  t.after(() => dest.server.close({ drainMs: 0 }));
  const port = await f.sourcePort('10.96.0.31', 80);

  await t.test('the app closes its kept-alive connection', async () => {
    assert.deepEqual(await get(port, '/app-closes/1'), {
      status: 200,
      text: 'hello /app-closes/1',
    });
    await eventually('the tunnel closed', () => dest.closed.length === 1, 5_000);
    assert.equal(dest.closed[0]!.error, undefined, `${dest.closed[0]!.error?.message}`);
    assert.ok(dest.closed[0]!.bytesSent > 0);
    // The next request opens a fresh connection and is answered.
    assert.deepEqual(await get(port, '/app-closes/2'), {
      status: 200,
      text: 'hello /app-closes/2',
    });
    await eventually('the second tunnel closed', () => dest.closed.length === 2, 5_000);
    assert.equal(dest.closed[1]!.error, undefined, `${dest.closed[1]!.error?.message}`);
  });

  await t.test("the waypoint's idle timeout closes a connection the app keeps open", async () => {
    assert.deepEqual(await get(port, '/idle/1'), { status: 200, text: 'patient /idle/1' });
    assert.equal(patientSockets.size, 1);
    await eventually('the tunnel closed', () => dest.closed.length === 3, 5_000);
    assert.equal(dest.closed[2]!.error, undefined, `${dest.closed[2]!.error?.message}`);
    // The app saw its connection end (the destination passed the end on).
    await eventually('the app connection closed', () => patientSockets.size === 0, 5_000);
  });
});
