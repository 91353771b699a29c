// The spawned trellis-ztunnel's inbound HBONE bounds, on loopback (no root), with a client that
// authenticates with a real workload certificate and then misbehaves: SIGTERM while it holds a
// connection after half an HTTP/2 preface (and reads nothing) ends at the drain deadline; a
// connection that carries no stream is closed after --hbone-idle-timeout; one past
// --max-hbone-connections is refused before TLS. Both are counted on 15020.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import tls from 'node:tls';
import { eventually } from '@trellis/core/test-support';
import { sample, startTestCa, type TestCa } from './test-support/loopback-mesh.js';
import { spawnAllWorkloadsZtunnel } from './test-support/spawned-ztunnel.js';

const B_IP = '127.0.52.1';
const LOCAL = `workloads:
  - { uid: Kubernetes//Pod/default/a, name: a, namespace: default, serviceAccount: a, workloadIps: [127.0.42.1] }
  - { uid: Kubernetes//Pod/default/b, name: b, namespace: default, serviceAccount: b, workloadIps: [${B_IP}] }
`;

async function startZtunnel(t: TestContext, ca: TestCa, args: string[]) {
  const z = await spawnAllWorkloadsZtunnel(t, ca, { localConfig: LOCAL, inboundHost: B_IP, args });
  const metric = async (name: string, labels: Record<string, string>) =>
    sample(await (await fetch(`http://127.0.0.1:${z.metricsPort}/metrics`)).text(), name, labels);
  return { proc: z.proc, inbound: z.ports.inbound, metric };
}

/** Authenticates as workload a with ALPN h2; `closed` resolves when the connection is gone. */
async function clientTls(t: TestContext, ca: TestCa, port: number) {
  const cert = await ca.certificate('spiffe://cluster.local/ns/default/sa/a', 'tok-a');
  const socket = tls.connect({
    host: B_IP,
    port,
    key: cert.key,
    cert: cert.chain.join(''),
    ca: ca.rootPem,
    ALPNProtocols: ['h2'],
    rejectUnauthorized: false,
    servername: '',
  });
  socket.on('error', () => {});
  t.after(() => socket.destroy());
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const connected = new Promise<boolean>((resolve) =>
    socket.once('secureConnect', () => resolve(true)),
  );
  const authenticated = await Promise.race([connected, closed.then(() => false)]);
  return { socket, closed, authenticated };
}

for (const workers of ['1', '2']) {
  test(`--workers ${workers}: SIGTERM with a client stuck after half the HTTP/2 preface exits at the drain deadline`, async (t) => {
    const ca = await startTestCa(t);
    const z = await startZtunnel(t, ca, ['--workers', workers, '--drain-timeout', '300ms']);
    const c = await clientTls(t, ca, z.inbound);
    assert.ok(c.authenticated);
    c.socket.write('PRI * HTTP/2.0\r\n'); // and never reads what the server sends
    await new Promise((r) => setTimeout(r, 200));
    z.proc.child.kill('SIGTERM');
    const code = await Promise.race([
      z.proc.exited,
      new Promise<string>((r) => setTimeout(() => r('still running 10 s after SIGTERM'), 10_000)),
    ]);
    assert.equal(code, 0);
  });
}

test('an inbound connection that carries no stream is closed after --hbone-idle-timeout', async (t) => {
  const ca = await startTestCa(t);
  const z = await startZtunnel(t, ca, ['--workers', '1', '--hbone-idle-timeout', '300ms']);
  const c = await clientTls(t, ca, z.inbound);
  assert.ok(c.authenticated);
  c.socket.resume();
  await c.closed;
  assert.equal(await z.metric('hbone_idle_closed_connections_total', { direction: 'inbound' }), 1);
});

test('past --max-hbone-connections a connection is refused before TLS, and counted', async (t) => {
  const ca = await startTestCa(t);
  const z = await startZtunnel(t, ca, ['--workers', '1', '--max-hbone-connections', '1']);
  const first = await clientTls(t, ca, z.inbound);
  assert.ok(first.authenticated);
  const second = await clientTls(t, ca, z.inbound);
  assert.equal(second.authenticated, false, 'the second connection got no TLS handshake');
  assert.equal(
    await z.metric('hbone_refused_connections_total', { direction: 'inbound', reason: 'limit' }),
    1,
  );
  first.socket.destroy();
  await eventually(
    'a place to free up',
    async () => (await clientTls(t, ca, z.inbound)).authenticated,
  );
});
