// The spawned trellis-ztunnel with PROXY_MODE=dedicated (upstream's value: the proxy of one
// workload, listening in its own netns) and --workers 2, on loopback (root: its listeners are
// transparent and its sockets marked, as in a pod): it presents the served workload's certificate,
// fetched from a real CA with that workload's own token (no impersonation), and carries an HBONE
// connection from a client ztunnel to the workload's app.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { rootOnly, Spawned } from '@trellis/core/test-support';
import { StateStore } from '../state/store.js';
import { workload } from '../test-support/fixtures.js';
import {
  exchange,
  sha256,
  startHashApp,
  startTestCa,
  startTestZtunnel,
} from './test-support/loopback-mesh.js';

const MAIN = fileURLToPath(new URL('../trellis-ztunnel.mjs', import.meta.url));
const A_IP = '127.0.44.1';
const B_IP = '127.0.54.1';
const A = workload({
  uid: 'Kubernetes//Pod/default/a',
  addresses: [A_IP],
  serviceAccount: 'a',
  node: 'node-1',
});
const B = workload({
  uid: 'Kubernetes//Pod/default/b',
  addresses: [B_IP],
  serviceAccount: 'b',
  node: 'node-2',
});

test(
  'dedicated mode serves one workload with its own identity',
  rootOnly('IP_TRANSPARENT and SO_MARK'),
  async (t) => {
    const ca = await startTestCa(t);
    const dir = mkdtempSync(join(tmpdir(), 'ztunnel-dedicated-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(
      join(dir, 'local.yaml'),
      `workloads:
  - { uid: ${A.uid}, name: a, namespace: default, serviceAccount: a, workloadIps: [${A_IP}], node: node-1 }
  - { uid: ${B.uid}, name: b, namespace: default, serviceAccount: b, workloadIps: [${B_IP}], node: node-2 }
`,
    );
    writeFileSync(join(dir, 'root.pem'), ca.rootPem);
    writeFileSync(join(dir, 'token'), 'tok-b'); // the workload's own token
    const proc = new Spawned(
      'trellis-ztunnel',
      process.execPath,
      [
        MAIN,
        ...['--local-config', join(dir, 'local.yaml'), '--workers', '2'],
        ...['--ca-address', ca.address, '--ca-root-cert', join(dir, 'root.pem')],
        ...['--token-path', join(dir, 'token')],
        ...['--inbound-address', `${B_IP}:0`, '--outbound-address', '127.0.0.1:0'],
        ...['--inbound-plaintext-address', `${B_IP}:0`, '--admin-address', '127.0.0.1:0'],
        ...['--metrics-address', '127.0.0.1:0', '--readiness-address', '127.0.0.1:0'],
      ],
      {
        env: {
          ...process.env,
          PROXY_MODE: 'dedicated',
          PROXY_WORKLOAD_INFO: 'default/b/b',
          INSTANCE_IP: B_IP,
        },
      },
    );
    t.after(() => proc.stop('SIGKILL'));
    const line = (msg: string) => proc.waitForLine(`"${msg}"`, (l) => l.msg === msg);
    const listening = (await line('dedicated proxies listening')) as { ports: { inbound: number } };
    const { adminPort, running } = (await line('trellis-ztunnel started')) as {
      adminPort: number;
      running: string[];
    };
    assert.ok(running.includes('proxies(dedicated)'));

    const app = await startHashApp(t, B_IP);
    const store = new StateStore();
    store.apply({ upsertWorkloads: [A, B] });
    const client = await startTestZtunnel(t, ca, {
      token: 'tok-zt1',
      inboundHost: A_IP,
      hbonePort: listening.ports.inbound,
      store,
    });
    client.destination = { address: B_IP, port: app };
    const payload = Buffer.from('to the dedicated proxy');
    assert.deepEqual(await exchange(client.proxies.ports.outbound, payload, A_IP), {
      reply: sha256(payload),
    });

    // The certificate it holds is the workload's, asked for with the workload's token.
    const dump = (await (await fetch(`http://127.0.0.1:${adminPort}/config_dump`)).json()) as {
      certificates: { identity: string }[];
    };
    assert.deepEqual(
      dump.certificates.map((c) => c.identity),
      ['spiffe://cluster.local/ns/default/sa/b'],
    );
    assert.equal(await proc.stop('SIGTERM'), 0);
  },
);
