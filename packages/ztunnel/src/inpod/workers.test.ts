// ztunnel --workers 2 in real network namespaces (root): the same mesh as scenarios.test.ts (a real
// trellis-ca, one spawned trellis-ztunnel per node fed by ZDS, pods with the in-pod rules), watched
// for what the workers change: connections spread over both worker processes, metrics summed over
// them, a killed worker respawned, SIGTERM draining connections held by different workers, and a
// pod's certificate forgotten once its last pod on the node is gone.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type net from 'node:net';
import { after, before, test } from 'node:test';
import { eventually, fileTimeout, isRoot, rootOnly } from '@trellis/core/test-support';
import { Mesh, NetnsCluster, type LogLine, type Pod } from '@trellis/testing';
import type { ConfigDump } from '../admin/config-dump.js';
import {
  podExchange,
  sample,
  sha256,
  startPodHashApp,
  closeServer,
} from './test-support/pod-apps.js';

const APP_PORT = 8080;
const needsRoot = rootOnly('network namespaces, a bridge and iptables');
// A mesh of real processes in namespaces, two workers per node: minutes under load.
fileTimeout(5 * 60_000);

let cluster: NetnsCluster;
let mesh: Mesh;
let A: Pod, A2: Pod, F: Pod, B: Pod;
const servers: net.Server[] = [];

before(async () => {
  if (!isRoot) return;
  cluster = NetnsCluster.create(2);
  const [n1, n2] = cluster.nodes as [NetnsCluster['nodes'][0], NetnsCluster['nodes'][0]];
  A = cluster.addPod(n1, { name: 'a', sa: 'a' });
  A2 = cluster.addPod(n1, { name: 'a2', sa: 'a' });
  F = cluster.addPod(n1, { name: 'f', sa: 'f' });
  B = cluster.addPod(n2, { name: 'b', sa: 'b' });
  mesh = await Mesh.start(cluster, { drainMs: 5000, workers: 2 });
  servers.push(await startPodHashApp(B.netnsPath, APP_PORT));
});

after(async () => {
  if (!isRoot) return;
  await Promise.all(servers.map(closeServer));
  await mesh?.close();
  cluster?.cleanup();
});

const z = (i: number) => mesh.nodes[i]!.ztunnel;
const id = (sa: string) => `spiffe://cluster.local/ns/default/sa/${sa}`;

/** pid of each worker of node i's ztunnel, from its log (the latest start of each index). */
function workerPids(i: number): Map<number, number> {
  const pids = new Map<number, number>();
  for (const l of z(i).proc.lines)
    if (l.msg === 'worker started') pids.set(l.worker as number, l.pid as number);
  return pids;
}

const opened = (i: number, reporter: 'source' | 'destination') =>
  z(i)
    .metrics()
    .then((m) => sample(m, 'istio_tcp_connections_opened_total', { reporter }));

/** Waits until the counter reads `want` (workers push every second), then checks it stays there. */
async function openedReaches(i: number, reporter: 'source' | 'destination', want: number) {
  return eventually(`node ${i + 1} ${reporter} opened = ${want}`, async () =>
    (await opened(i, reporter)) === want ? want : undefined,
  );
}

/** Connections node 1 has carried so far (every exchange starts on node 1). */
let madeOnNode1 = 0;

async function exchange(from: Pod, n: number): Promise<void> {
  for (let k = 0; k < n; k++) {
    madeOnNode1++;
    const body = randomBytes(64 * 1024);
    assert.deepEqual(await podExchange(from.netnsPath, B.ip, APP_PORT, [body]), {
      reply: sha256(body),
    });
  }
}

const entries = (i: number, direction: string, since: number): LogLine[] =>
  z(i)
    .accessLog()
    .slice(since)
    .filter((e) => e.direction === direction);

test(
  'connections are carried by both workers on each node, and the metrics endpoint counts them all',
  needsRoot,
  async () => {
    const logBefore = z(0).accessLog().length;
    const N = 8;
    await exchange(A, N);
    const outbound = await eventually('8 outbound log entries on node 1', () => {
      const e = entries(0, 'outbound', logBefore);
      return e.length >= N ? e : undefined;
    });
    const pids = workerPids(0);
    assert.equal(pids.size, 2);
    assert.deepEqual(
      new Set(outbound.map((e) => e.pid)),
      new Set(pids.values()),
      'node 1: both workers carried outbound connections',
    );
    // Each worker counted only its own connections; 15020 shows their sum.
    assert.equal(await openedReaches(0, 'source', madeOnNode1), N);
    // Node 2: the HBONE connections of node 1's two workers landed on both of node 2's workers.
    const inbound = entries(1, 'inbound', 0);
    assert.deepEqual(new Set(inbound.map((e) => e.pid)), new Set(workerPids(1).values()));
    for (const e of inbound) assert.equal(e.srcIdentity, id('a'));
  },
);

test(
  'a killed worker is respawned; new connections work and the counters do not go back',
  needsRoot,
  async () => {
    await exchange(A, 2);
    // Both workers have pushed their counts, so the one killed leaves nothing uncounted behind.
    await openedReaches(0, 'source', madeOnNode1);
    const [victimIndex, victim] = [...workerPids(0)][0]!;
    process.kill(victim, 'SIGKILL');
    const respawned = await eventually('the worker to be respawned', () => {
      const pid = workerPids(0).get(victimIndex);
      return pid !== undefined && pid !== victim ? pid : undefined;
    });
    const exit = z(0).proc.lines.find((l) => l.msg === 'worker exited; respawning it');
    assert.equal(exit?.pid, victim);
    assert.equal(exit?.signal, 'SIGKILL');
    await z(0).ready();
    const logBefore = z(0).accessLog().length;
    await exchange(A, 4);
    const outbound = await eventually('4 outbound entries', () => {
      const e = entries(0, 'outbound', logBefore);
      return e.length >= 4 ? e : undefined;
    });
    assert.ok(
      outbound.some((e) => e.pid === respawned),
      'the respawned worker carries connections',
    );
    assert.equal(await openedReaches(0, 'source', madeOnNode1), madeOnNode1);
  },
);

test(
  "a pod's certificate is forgotten when its last pod on the node leaves (ZDS del), not before",
  needsRoot,
  async () => {
    const certs = async () =>
      (JSON.parse((await z(0).get(15000, '/config_dump')).body) as ConfigDump).certificates.map(
        (c) => c.identity,
      );
    // F and A2 make connections, so node 1 holds certificates for f and a.
    await exchange(F, 1);
    await exchange(A2, 1);
    assert.ok((await certs()).includes(id('f')));
    assert.ok((await certs()).includes(id('a')));
    const zds = mesh.nodes[0]!.zds;
    assert.equal(await zds.removePod(F.uid), '');
    assert.equal(await zds.removePod(A2.uid), '');
    const held = await certs();
    assert.ok(!held.includes(id('f')), `f forgotten, held: ${held.join(', ')}`);
    assert.ok(held.includes(id('a')), 'a is kept: pod A still has that identity');
    // The log line reaches us through the child's stdout, possibly after /config_dump answered.
    await z(0).proc.waitForLine(
      `"no pod uses this identity" for ${id('f')}`,
      (l) => l.msg?.startsWith('no pod uses this identity') === true && l.identity === id('f'),
      10_000,
    );
    // A still gets through with its (kept) certificate.
    await exchange(A, 1);
  },
);

test(
  'SIGTERM on node 1 drains open connections held by both of its workers',
  needsRoot,
  async () => {
    const node1 = mesh.nodes[0]!;
    const logBefore = z(0).accessLog().length;
    const parts = [randomBytes(512 * 1024), randomBytes(512 * 1024)];
    // Two connections, each held open after its first part until the drain has begun.
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let bothOpen!: () => void;
    const open = new Promise<void>((r) => (bothOpen = r));
    let waiting = 0;
    const between = async (i: number) => {
      if (i !== 0) return;
      if (++waiting === 2) bothOpen();
      await released;
    };
    const conns = [
      podExchange(A.netnsPath, B.ip, APP_PORT, parts, between),
      podExchange(A.netnsPath, B.ip, APP_PORT, parts, between),
    ];
    madeOnNode1 += 2;
    let outcomes;
    try {
      await open;
      await openedReaches(0, 'source', madeOnNode1);
      const stopped = node1.ztunnel.stop('SIGTERM');
      await eventually('the drain to begin', () =>
        node1.ztunnel.proc.lines.some((l) => l.msg === 'shutting down') ? true : undefined,
      );
      release();
      outcomes = await Promise.all(conns);
      assert.equal(await stopped, 0);
    } finally {
      release();
    }
    for (const o of outcomes) assert.deepEqual(o, { reply: sha256(...parts) });
    const total = parts[0]!.length + parts[1]!.length;
    const closed = entries(0, 'outbound', logBefore).filter((e) => e.bytesReceived === total);
    assert.equal(closed.length, 2);
    assert.notEqual(
      closed[0]!.pid,
      closed[1]!.pid,
      'the two connections were on different workers',
    );
  },
);
