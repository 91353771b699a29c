// In-pod mode end to end in real network namespaces (root): two nodes, a real trellis-ca and one
// real trellis-ztunnel per node (spawned inside the node netns, fed pods over ZDS), pods with the
// real in-pod iptables rules. A (node 1) and B (node 2) are mesh pods; C (node 1) and D (node 2)
// are outside the mesh.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type net from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { eventually, fileTimeout, isRoot, rootOnly } from '@trellis/core/test-support';
import { Mesh, NetnsCluster, type LocalPolicy, type Pod } from '@trellis/testing';
import {
  closeServer,
  podAnswerAfterEnd,
  podExchange,
  sample,
  sha256,
  startCapture,
  startPodHashApp,
  startPodFirstSpeakerApp,
  startPodPeerApp,
} from './test-support/pod-apps.js';

const needsRoot = rootOnly('network namespaces, a bridge and iptables');
// A mesh of real processes in namespaces (and, here, 100 MB through it): minutes under load.
fileTimeout(5 * 60_000);
const APP_PORT = 8080;
const OUTSIDE_PORT = 9090;
const PEER_PORT = 8081;
const FIRST_SPEAKER_PORT = 8082;
/** What B's first-speaking app read from each client after its own end. */
const afterFin: string[] = [];
const A_ID = 'spiffe://cluster.local/ns/default/sa/a';

const DENY_A: LocalPolicy = {
  name: 'deny-a',
  namespace: 'default',
  scope: 'Namespace',
  action: 'Deny',
  rules: [[[{ principals: [{ exact: 'cluster.local/ns/default/sa/a' }] }]]],
};
const STRICT: LocalPolicy = {
  name: 'converted_peer_authentication_strict',
  namespace: 'default',
  scope: 'Namespace',
  action: 'Deny',
  rules: [[[{ notPrincipals: [{ presence: {} }] }]]],
};

let cluster: NetnsCluster;
let mesh: Mesh;
let A: Pod, B: Pod, C: Pod, D: Pod;
const servers: net.Server[] = [];

before(async () => {
  if (!isRoot) return;
  cluster = NetnsCluster.create(2);
  const [n1, n2] = cluster.nodes as [NetnsCluster['nodes'][0], NetnsCluster['nodes'][0]];
  A = cluster.addPod(n1, { name: 'a', sa: 'a' });
  C = cluster.addPod(n1, { name: 'c', sa: 'c', redirect: false });
  B = cluster.addPod(n2, { name: 'b', sa: 'b' });
  D = cluster.addPod(n2, { name: 'd', sa: 'd', redirect: false });
  mesh = await Mesh.start(cluster, { drainMs: 5000, workers: 2 });
  servers.push(await startPodHashApp(B.netnsPath, APP_PORT));
  servers.push(await startPodHashApp(D.netnsPath, OUTSIDE_PORT));
  servers.push(await startPodPeerApp(B.netnsPath, PEER_PORT));
  servers.push(await startPodFirstSpeakerApp(B.netnsPath, FIRST_SPEAKER_PORT, afterFin));
});

after(async () => {
  if (!isRoot) return;
  await Promise.all(servers.map(closeServer));
  await mesh?.close();
  cluster?.cleanup();
});

const z = (i: number) => mesh.nodes[i]!.ztunnel;

/** Rewrites the local config, SIGHUPs every ztunnel and waits until each store holds `n` policies. */
async function setPolicies(policies: LocalPolicy[]): Promise<void> {
  mesh.writeConfig(policies);
  for (const node of mesh.nodes) {
    node.ztunnel.reload();
    await eventually(`${node.node.name} to load ${policies.length} policies`, async () => {
      const dump = JSON.parse((await node.ztunnel.get(15000, '/config_dump')).body) as {
        policies: unknown[];
      };
      return dump.policies.length === policies.length ? true : undefined;
    });
  }
}

test(
  "a: A -> B carries 100 MB intact over mutual TLS on 15008; the wire shows no plaintext; B logs A's identity",
  needsRoot,
  async () => {
    const marker = Buffer.from(`plaintext-marker-${randomBytes(8).toString('hex')}`);
    const payload = randomBytes(100 * 1024 * 1024);
    const file = join(mesh.dir, 'node1.pcapng');
    const capture = await startCapture(cluster.nodes[0]!.netns, 'eth0', file);
    let outcome;
    let report: string;
    try {
      outcome = await podExchange(A.netnsPath, B.ip, APP_PORT, [marker, payload]);
    } finally {
      report = await capture.stop();
    }
    assert.deepEqual(outcome, { reply: sha256(marker, payload) });

    const wire = readFileSync(file);
    assert.ok(
      wire.length > payload.length,
      `the capture holds the transfer (${wire.length} bytes; tshark: ${report})`,
    );
    assert.equal(wire.indexOf(marker), -1, 'the marker never crossed the wire in clear');
    const hellos = execFileSync(
      'tshark',
      [
        '-r',
        file,
        '-d',
        'tcp.port==15008,tls',
        '-Y',
        'tls.handshake.type == 1',
        '-T',
        'fields',
        '-e',
        'ip.src',
        '-e',
        'ip.dst',
        '-e',
        'tcp.dstport',
      ],
      { encoding: 'utf8' },
    );
    assert.ok(
      hellos.split('\n').includes(`${A.ip}\t${B.ip}\t15008`),
      `a TLS ClientHello from A to B:15008, got: ${hellos}`,
    );
    const serverHellos = execFileSync(
      'tshark',
      [
        '-r',
        file,
        '-d',
        'tcp.port==15008,tls',
        '-Y',
        'tls.handshake.type == 2 && tcp.srcport == 15008',
        '-T',
        'fields',
        '-e',
        'ip.src',
      ],
      { encoding: 'utf8' },
    );
    assert.match(serverHellos, new RegExp(B.ip.replaceAll('.', '\\.')));

    const entry = await eventually("B's inbound access log entry", () =>
      z(1)
        .accessLog()
        .find(
          (e) => e.direction === 'inbound' && e.bytesReceived === marker.length + payload.length,
        ),
    );
    assert.equal(entry.srcIdentity, A_ID);
    assert.equal(entry.protocol, 'hbone');
    assert.equal(entry.decision, 'allow');
  },
);

test(
  "f: the app in B sees the caller's own IP, over HBONE from A and in plaintext from C",
  needsRoot,
  async () => {
    const ask = [Buffer.from('who am I?')];
    assert.deepEqual(await podExchange(A.netnsPath, B.ip, PEER_PORT, ask), { reply: A.ip });
    assert.deepEqual(await podExchange(C.netnsPath, B.ip, PEER_PORT, ask), { reply: C.ip });
    const toPeerApp = () =>
      z(1)
        .accessLog()
        .filter((e) => e.direction === 'inbound' && e.dst === `${B.ip}:${PEER_PORT}`);
    const entries = await eventually("B's two inbound entries for the peer app", () => {
      const e = toPeerApp();
      return e.length >= 2 ? e : undefined;
    }).catch((err: Error) => {
      throw new Error(`${err.message}; got ${JSON.stringify(toPeerApp())}`);
    });
    assert.deepEqual(
      entries.map((e) => [e.protocol, String(e.src).split(':')[0], e.decision]).sort(),
      [
        ['hbone', A.ip, 'allow'],
        ['tcp', C.ip, 'allow'],
      ],
    );
  },
);

test('d: A -> a pod outside the mesh gets plain TCP passthrough', needsRoot, async () => {
  const body = Buffer.from('to outside the mesh');
  assert.deepEqual(await podExchange(A.netnsPath, D.ip, OUTSIDE_PORT, [body]), {
    reply: sha256(body),
  });
  const entry = await eventually("A's passthrough log entry", () =>
    z(0)
      .accessLog()
      .find((e) => e.direction === 'outbound' && String(e.dst).startsWith(`${D.ip}:`)),
  );
  assert.equal(entry.protocol, 'tcp');
});

test(
  "b: a DENY policy for A's principal closes A's connections without data and counts the failure on B's node",
  needsRoot,
  async () => {
    const failed = () =>
      z(1)
        .metrics()
        .then((m) =>
          sample(m, 'istio_tcp_connections_failed_total', {
            reporter: 'destination',
            response_flags: 'DENY',
            source_principal: A_ID,
          }),
        );
    const before = await failed();
    await setPolicies([DENY_A]);
    try {
      const outcome = await podExchange(A.netnsPath, B.ip, APP_PORT, [Buffer.from('denied?')]);
      assert.ok(
        'error' in outcome || outcome.reply === '',
        `no data back, got ${JSON.stringify(outcome)}`,
      );
      assert.equal(
        await eventually('the DENY to be counted', async () =>
          (await failed()) > before ? await failed() : undefined,
        ),
        before + 1,
      );
      const entry = z(1)
        .accessLog()
        .find((e) => e.decision === 'deny');
      assert.equal(entry?.policy, 'default/deny-a');
    } finally {
      await setPolicies([]);
    }
    const body = Buffer.from('allowed again');
    assert.deepEqual(await podExchange(A.netnsPath, B.ip, APP_PORT, [body]), {
      reply: sha256(body),
    });
  },
);

test(
  "f: half-close from the app first: A reads B's greeting and end, then still sends, and B reads it",
  needsRoot,
  async () => {
    const outcome = await podAnswerAfterEnd(
      A.netnsPath,
      B.ip,
      FIRST_SPEAKER_PORT,
      'after your FIN',
    );
    assert.deepEqual(outcome, { reply: 'hello' });
    await eventually('B to read the end of the client', () => afterFin.length === 1);
    assert.deepEqual(afterFin, ['after your FIN']);
  },
);

test(
  'c: plaintext from a pod outside the mesh: PERMISSIVE accepts, STRICT refuses',
  needsRoot,
  async () => {
    const body = Buffer.from('plaintext from outside');
    assert.deepEqual(await podExchange(C.netnsPath, B.ip, APP_PORT, [body]), {
      reply: sha256(body),
    });
    await setPolicies([STRICT]);
    try {
      const refused = await podExchange(C.netnsPath, B.ip, APP_PORT, [body]);
      assert.ok(
        'error' in refused || refused.reply === '',
        `refused, got ${JSON.stringify(refused)}`,
      );
      // Mutual TLS from a mesh pod still gets through.
      assert.deepEqual(await podExchange(A.netnsPath, B.ip, APP_PORT, [body]), {
        reply: sha256(body),
      });
    } finally {
      await setPolicies([]);
    }
  },
);

test(
  "e: node 2's ztunnel drains an open connection on SIGTERM; after a restart (ZDS snapshot again) A reaches B again",
  needsRoot,
  async () => {
    const node2 = mesh.nodes[1]!;
    const first = randomBytes(1024 * 1024);
    const second = randomBytes(1024 * 1024);
    let stopped: Promise<number | null> | undefined;
    const opened = () =>
      z(1)
        .metrics()
        .then((m) => sample(m, 'istio_tcp_connections_opened_total', { reporter: 'destination' }));
    const openedBefore = await opened();
    const outcome = await podExchange(A.netnsPath, B.ip, APP_PORT, [first, second], async (i) => {
      if (i !== 0) return;
      // The connection is open and carried data; ztunnel is told to stop while it is in flight.
      await eventually("B's ztunnel to count the open connection", async () =>
        (await opened()) > openedBefore ? true : undefined,
      );
      stopped = node2.ztunnel.stop('SIGTERM');
      await eventually('the drain to begin', () =>
        node2.ztunnel.proc.lines.some((l) => /drain|shutting down|shutdown/i.test(String(l.msg)))
          ? true
          : undefined,
      );
    });
    assert.deepEqual(
      outcome,
      { reply: sha256(first, second) },
      `the open connection finished during the drain; node 2 logged ${node2.ztunnel.proc.lines
        .slice(-8)
        .map((l) => JSON.stringify(l))
        .join('\n')}`,
    );
    assert.equal(await stopped, 0);

    const snapshots = node2.zds.snapshots;
    await mesh.startZtunnel(node2);
    assert.equal(node2.zds.snapshots, snapshots + 1);
    const body = Buffer.from('after the restart');
    let attempts = 0;
    let last;
    for (; attempts < 50;) {
      attempts++;
      last = await podExchange(A.netnsPath, B.ip, APP_PORT, [body]);
      if ('reply' in last && last.reply === sha256(body)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.deepEqual(last, { reply: sha256(body) }, `A reached B within ${attempts} attempts`);
    console.log(`# e: A reached B after the restart on attempt ${attempts}`);
  },
);
