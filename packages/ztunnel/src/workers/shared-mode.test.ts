// The spawned trellis-ztunnel in shared mode with --workers 2, on loopback (no root): two
// in-process client ztunnels (each with its own HBONE pool, so two HBONE connections) reach app B
// through it. The primary accepts, the workers terminate TLS with B's certificate (fetched by the
// primary from a real CA), both workers carry a connection, and 15020 counts every stream.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { eventually, Spawned, START_TIMEOUT_MS } from '@trellis/core/test-support';
import { StateStore } from '../state/store.js';
import { workload } from '../test-support/fixtures.js';
import {
  exchange,
  sample,
  sha256,
  startHashApp,
  startTestCa,
  startTestZtunnel,
} from '../proxy/test-support/loopback-mesh.js';

const MAIN = fileURLToPath(new URL('../main.js', import.meta.url));
const A_IP = '127.0.40.1';
const B_IP = '127.0.50.1';
const LOCAL = `workloads:
  - { uid: Kubernetes//Pod/default/a, name: a, namespace: default, serviceAccount: a, workloadIps: [${A_IP}], node: node-1 }
  - { uid: Kubernetes//Pod/default/b, name: b, namespace: default, serviceAccount: b, workloadIps: [${B_IP}], node: node-2 }
`;

test('shared mode, --workers 2: HBONE connections are served by both workers and counted once each', async (t) => {
  const ca = await startTestCa(t);
  const dir = mkdtempSync(join(tmpdir(), 'ztunnel-workers-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, text] of [
    ['local.yaml', LOCAL],
    ['root.pem', ca.rootPem],
    ['token', 'tok-zt2'],
  ] as const)
    writeFileSync(join(dir, name), text);
  const proc = new Spawned('trellis-ztunnel', process.execPath, [
    MAIN,
    ...['--proxy-mode', 'shared', '--workers', '2', '--local-config', join(dir, 'local.yaml')],
    ...['--ca-address', ca.address, '--ca-root-cert', join(dir, 'root.pem')],
    ...['--token-path', join(dir, 'token'), '--pod-namespace', 'trellis-system'],
    ...['--inbound-address', `${B_IP}:0`, '--outbound-address', '127.0.0.1:0'],
    ...['--inbound-plaintext-address', '127.0.0.1:0', '--admin-address', '127.0.0.1:0'],
    ...['--metrics-address', '127.0.0.1:0', '--readiness-address', '127.0.0.1:0'],
  ]);
  t.after(() => proc.stop('SIGKILL'));
  // Start-up is over when it says so (however long a loaded machine takes), not after a fixed wait.
  const line = (msg: string) => proc.waitForLine(`"${msg}"`, (l) => l.msg === msg);
  const started = (await line('trellis-ztunnel started')) as {
    metricsPort: number;
    readinessPort: number;
    workers: number[];
  };
  const { ports } = (await line('shared proxies listening')) as { ports: { inbound: number } };
  await eventually(
    'ready',
    async () =>
      (await fetch(`http://127.0.0.1:${started.readinessPort}/healthz/ready`)).status === 200,
    START_TIMEOUT_MS,
  );

  const app = await startHashApp(t, B_IP);
  const store = () => {
    const s = new StateStore();
    s.apply({
      upsertWorkloads: [
        workload({
          uid: 'Kubernetes//Pod/default/a',
          addresses: [A_IP],
          serviceAccount: 'a',
          node: 'node-1',
        }),
        workload({
          uid: 'Kubernetes//Pod/default/b',
          addresses: [B_IP],
          serviceAccount: 'b',
          node: 'node-2',
        }),
      ],
    });
    return s;
  };
  // Two clients, two pools: two HBONE connections, handed to the workers in turn.
  const clients = [
    await startTestZtunnel(t, ca, {
      token: 'tok-zt1',
      inboundHost: A_IP,
      hbonePort: ports.inbound,
      store: store(),
    }),
    await startTestZtunnel(t, ca, {
      token: 'tok-zt1',
      inboundHost: A_IP,
      hbonePort: ports.inbound,
      store: store(),
    }),
  ];
  for (const z of clients) {
    z.destination = { address: B_IP, port: app };
    for (let i = 0; i < 2; i++) {
      const payload = Buffer.from(`from client ${clients.indexOf(z)}, ${i}`);
      assert.deepEqual(await exchange(z.proxies.ports.outbound, payload, A_IP), {
        reply: sha256(payload),
      });
    }
  }
  const inbound = await eventually('four inbound access log lines', () => {
    const e = proc.lines.filter((l) => l.scope === 'access' && l.direction === 'inbound');
    return e.length === 4 ? e : undefined;
  });
  assert.deepEqual(new Set(inbound.map((e) => e.pid)), new Set(started.workers));
  for (const e of inbound) assert.equal(e.srcIdentity, 'spiffe://cluster.local/ns/default/sa/a');
  const metrics = await (await fetch(`http://127.0.0.1:${started.metricsPort}/metrics`)).text();
  assert.equal(
    sample(metrics, 'istio_tcp_connections_opened_total', { reporter: 'destination' }),
    4,
  );
  assert.equal(
    sample(metrics, 'istio_tcp_connections_closed_total', { reporter: 'destination' }),
    4,
  );

  assert.equal(await proc.stop('SIGTERM'), 0);
});
