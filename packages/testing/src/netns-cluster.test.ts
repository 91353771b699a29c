// Real namespaces, veths, a bridge and the in-pod iptables rules. Needs root.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { connectInNetns, fdOf, listenInNetns, originalDst } from '@trellis/netsys';
import { isRoot, rootOnly } from '@trellis/core/test-support';
import { NetnsCluster, type Pod } from './netns-cluster.js';
import { run, runIn } from './run.js';

let cluster: NetnsCluster;
let plainA: Pod; // node 1, not redirected
let plainB: Pod; // node 2, not redirected
let meshC: Pod; // node 2, redirected

const needsRoot = rootOnly('network namespaces, a bridge and iptables');
before(() => {
  if (!isRoot) return;
  cluster = NetnsCluster.create(2);
  plainA = cluster.addPod(cluster.nodes[0]!, { name: 'a', redirect: false });
  plainB = cluster.addPod(cluster.nodes[1]!, { name: 'b', redirect: false });
  meshC = cluster.addPod(cluster.nodes[1]!, { name: 'c', ns: 'demo', sa: 'sa-c' });
});
after(() => cluster?.cleanup());

async function listen(netns: string, host: string, port: number): Promise<net.Server> {
  const server = net.createServer();
  await listenInNetns(server, `/run/netns/${netns}`, { host, port });
  return server;
}

function closeServer(s: net.Server): Promise<void> {
  return new Promise((r) => s.close(() => r()));
}

/** Accepts one connection on `server`, replies with what it saw, and resolves with that. */
async function acceptOne(server: net.Server, describe: (s: net.Socket) => string): Promise<string> {
  const [socket] = (await once(server, 'connection')) as [net.Socket];
  const text = describe(socket);
  socket.end(text);
  return text;
}

async function readAll(socket: net.Socket): Promise<string> {
  let out = '';
  for await (const chunk of socket) out += String(chunk);
  return out;
}

test('a pod on node 1 reaches a pod on node 2 across the bridge', needsRoot, async () => {
  const server = await listen(plainB.netns, '0.0.0.0', 8080);
  try {
    const accepted = acceptOne(server, (s) => `hello ${s.remoteAddress}`);
    const client = await connectInNetns(plainA.netnsPath, { host: plainB.ip, port: 8080 });
    assert.equal(await readAll(client), `hello ${plainA.ip}`);
    await accepted;
  } finally {
    await closeServer(server);
  }
});

test(
  'in-pod rules send inbound TCP to 15006 and outbound TCP to 15001 with the original destination',
  needsRoot,
  async () => {
    const inbound = await listen(meshC.netns, '0.0.0.0', 15006);
    const outbound = await listen(meshC.netns, '127.0.0.1', 15001);
    const dst = (s: net.Socket) => {
      const d = originalDst(fdOf(s));
      return `${d.address}:${d.port}`;
    };
    try {
      const seenIn = acceptOne(inbound, dst);
      const c1 = await connectInNetns(plainA.netnsPath, { host: meshC.ip, port: 9090 });
      assert.equal(await readAll(c1), `${meshC.ip}:9090`);
      await seenIn;

      const seenOut = acceptOne(outbound, dst);
      const c2 = await connectInNetns(meshC.netnsPath, { host: plainB.ip, port: 7070 });
      assert.equal(await readAll(c2), `${plainB.ip}:7070`);
      await seenOut;

      // ztunnel's own sockets (mark 0x539) bypass the redirect: this one reaches plainB directly.
      const direct = await listen(plainB.netns, '0.0.0.0', 7070);
      try {
        const seen = acceptOne(direct, (s) => `direct from ${s.remoteAddress}`);
        const c3 = await connectInNetns(meshC.netnsPath, {
          host: plainB.ip,
          port: 7070,
          mark: 0x539,
        });
        assert.equal(await readAll(c3), `direct from ${meshC.ip}`);
        await seen;
      } finally {
        await closeServer(direct);
      }
    } finally {
      await Promise.all([closeServer(inbound), closeServer(outbound)]);
    }
  },
);

test(
  'the pod has the ISTIO chains and the fwmark policy route; a non-mesh pod has neither',
  needsRoot,
  () => {
    const nat = runIn(meshC.netns, 'iptables', ['-t', 'nat', '-S']);
    assert.match(nat, /-A OUTPUT -j ISTIO_OUTPUT/);
    assert.match(nat, /REDIRECT --to-ports 15001/);
    assert.match(
      runIn(meshC.netns, 'iptables', ['-t', 'mangle', '-S']),
      /CONNMARK --set-xmark 0x111\/0xfff/,
    );
    assert.match(
      run('ip', ['-n', meshC.netns, 'rule']),
      /32764:\s+from all fwmark 0x111\/0xfff lookup 100/,
    );
    assert.match(
      run('ip', ['-n', meshC.netns, 'route', 'show', 'table', '100']),
      /local default dev lo/,
    );
    assert.doesNotMatch(runIn(plainA.netns, 'iptables', ['-t', 'nat', '-S']), /ISTIO/);
  },
);

test('cleanup deletes every namespace of the run', needsRoot, () => {
  const other = NetnsCluster.create(1);
  other.addPod(other.nodes[0]!, { name: 'x' });
  assert.equal(
    run('ip', ['netns', 'list'])
      .split('\n')
      .filter((l) => l.startsWith(`tb${other.runId}`)).length,
    3,
  );
  other.cleanup();
  assert.equal(
    run('ip', ['netns', 'list'])
      .split('\n')
      .filter((l) => l.startsWith(`tb${other.runId}`)).length,
    0,
  );
});
