// ZDS against a real SOCK_SEQPACKET peer (the agent's side, written out here so it can also send
// malformed packets) and real network namespaces; the pod's "proxy set" is three real listeners
// opened inside the pod netns through netnsSocketOps. Needs root.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { create, fromBinary, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import {
  Version,
  WorkloadRequestSchema,
  WorkloadResponseSchema,
  ZdsHelloSchema,
} from '@trellis/api/gen/istio/workload/zds/zds_pb.js';
import { createLogger } from '@trellis/core';
import { SeqpacketServer, type SeqpacketClient, type SeqpacketMessage } from '@trellis/netsys';
import { isRoot, rootOnly } from '@trellis/core/test-support';
import { InpodManager, type PodSpec } from './pod-manager.js';
import { ZdsClient } from './zds-client.js';

const ns = `ztz${process.pid}`;
const netnsPath = `/run/netns/${ns}`;
const dir = mkdtempSync(join(tmpdir(), 'zds-'));
const socketPath = join(dir, 'ztunnel.sock');
const logger = createLogger({ level: 'silent' }).root;

const needsRoot = rootOnly('a network namespace');
before(() => {
  if (!isRoot) return;
  execFileSync('ip', ['netns', 'add', ns]);
  execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
});
after(() => {
  if (isRoot) execFileSync('ip', ['netns', 'del', ns]);
  rmSync(dir, { recursive: true, force: true });
});

function listeningPorts(netns?: string): number[] {
  const cmd = netns ? ['ip', 'netns', 'exec', netns, 'ss', '-ltnH'] : ['ss', '-ltnH'];
  const out = execFileSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8' });
  return out
    .split('\n')
    .filter(Boolean)
    .map((l) => Number(l.trim().split(/\s+/)[3]!.split(':').pop()));
}

/** How many of this process's fds refer to the namespace at `path`. */
function openNetnsFds(path: string): number {
  const probe = openSync(path, 'r');
  const target = readlinkSync(`/proc/self/fd/${probe}`);
  closeSync(probe);
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === target) n++;
    } catch {
      // the fd closed while listing
    }
  }
  return n;
}

class Agent {
  readonly server = SeqpacketServer.listen(socketPath);
  readonly conns: SeqpacketClient[] = [];
  readonly #inbox: SeqpacketMessage[] = [];
  #wake: (() => void) | undefined;

  constructor() {
    this.server.on('connection', (c) => {
      this.conns.push(c);
      c.on('message', (m) => {
        this.#inbox.push(m);
        this.#wake?.();
      });
    });
  }

  async next(): Promise<SeqpacketMessage> {
    while (this.#inbox.length === 0) await new Promise<void>((r) => (this.#wake = r));
    return this.#inbox.shift()!;
  }

  async hello(): Promise<Version> {
    return fromBinary(ZdsHelloSchema, (await this.next()).data).version;
  }

  /** Sends a request and returns the ack's error text. */
  async request(
    payload: MessageInitShape<typeof WorkloadRequestSchema>['payload'] | Uint8Array,
    fds: number[] = [],
  ): Promise<string> {
    const data =
      payload instanceof Uint8Array
        ? payload
        : toBinary(WorkloadRequestSchema, create(WorkloadRequestSchema, { payload }));
    await this.conns.at(-1)!.send(data, fds);
    for (const fd of fds) closeSync(fd); // the receiver has its own copies now
    const reply = fromBinary(WorkloadResponseSchema, (await this.next()).data);
    assert.equal(reply.payload.case, 'ack');
    return reply.payload.value!.error;
  }

  close(): void {
    for (const c of this.conns) c.close();
    this.server.close();
  }
}

const add = (uid: string) =>
  ({
    case: 'add',
    value: { uid, workloadInfo: { name: 'app', namespace: 'demo', serviceAccount: 'sa1' } },
  }) as const;

test(
  'ZDS: hello, snapshot with a netns fd, malformed requests, del, reconnect',
  needsRoot,
  async () => {
    const started: PodSpec[] = [];
    const manager = new InpodManager({
      logger,
      drainMs: 0,
      async startPod(pod, ops) {
        started.push(pod);
        const servers: net.Server[] = [];
        for (const port of [15001, 15006, 15008])
          servers.push(await ops.listen({ host: '0.0.0.0', port, transparent: port !== 15001 }));
        return {
          close: async () => {
            await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
          },
        };
      },
    });
    const agent = new Agent();
    const client = new ZdsClient({ path: socketPath, manager, logger }).start();
    try {
      assert.equal(await agent.hello(), Version.V1);

      const before = openNetnsFds(netnsPath);
      assert.equal(await agent.request(add('pod-1'), [openSync(netnsPath, 'r')]), '');
      assert.deepEqual(started, [
        { uid: 'pod-1', name: 'app', namespace: 'demo', serviceAccount: 'sa1' },
      ]);
      assert.deepEqual(listeningPorts(ns).sort(), [15001, 15006, 15008]);
      assert.equal(openNetnsFds(netnsPath), before + 1, 'ztunnel holds the pod netns fd');

      // Malformed requests get an error ack and the connection stays usable.
      assert.match(
        await agent.request(add('pod-2')),
        /add pod-2: expected exactly one netns fd, got 0/,
      );
      const two = [openSync(netnsPath, 'r'), openSync(netnsPath, 'r')];
      assert.match(await agent.request(add('pod-2'), two), /expected exactly one netns fd, got 2/);
      assert.match(await agent.request(Uint8Array.of(0x20, 0x01)), /no known payload/);
      assert.match(await agent.request(Uint8Array.of(0xff, 0xff)), /not a WorkloadRequest/);
      assert.match(
        await agent.request({ case: 'keep', value: { uid: 'nope' } }),
        /keep nope: unknown pod/,
      );
      assert.equal(openNetnsFds(netnsPath), before + 1, 'fds of refused requests are closed');

      assert.equal(await agent.request({ case: 'snapshotSent', value: {} }), '');
      assert.deepEqual(manager.pods, ['pod-1']);

      // The agent restarts: ztunnel reconnects; a snapshot that keeps the pod keeps its listeners.
      agent.conns.at(-1)!.close();
      assert.equal(await agent.hello(), Version.V1);
      assert.equal(await agent.request({ case: 'keep', value: { uid: 'pod-1' } }), '');
      assert.equal(await agent.request({ case: 'snapshotSent', value: {} }), '');
      assert.deepEqual(listeningPorts(ns).sort(), [15001, 15006, 15008]);
      assert.equal(started.length, 1);

      // del closes the proxies and the netns fd.
      assert.equal(await agent.request({ case: 'del', value: { uid: 'pod-1' } }), '');
      assert.deepEqual(listeningPorts(ns), []);
      assert.equal(openNetnsFds(netnsPath), before);

      // Re-add, then a snapshot that does not name the pod removes it.
      assert.equal(await agent.request(add('pod-1'), [openSync(netnsPath, 'r')]), '');
      agent.conns.at(-1)!.close();
      assert.equal(await agent.hello(), Version.V1);
      assert.equal(await agent.request({ case: 'snapshotSent', value: {} }), '');
      assert.deepEqual(manager.pods, []);
      assert.deepEqual(listeningPorts(ns), []);
      assert.equal(openNetnsFds(netnsPath), before);
    } finally {
      await client.close();
      await manager.close();
      agent.close();
    }
  },
);

test(
  'netnsSocketOps listeners exist inside the pod netns and not in the host',
  needsRoot,
  async () => {
    const manager = new InpodManager({
      logger,
      drainMs: 0,
      async startPod(_pod, ops) {
        const s = await ops.listen({ host: '0.0.0.0', port: 15006 });
        return { close: () => new Promise<void>((r) => s.close(() => r())) };
      },
    });
    await manager.handle({
      kind: 'add',
      netnsFd: openSync(netnsPath, 'r'),
      pod: { uid: 'u', name: 'a', namespace: 'n', serviceAccount: 's' },
    });
    try {
      assert.deepEqual(listeningPorts(ns), [15006]);
      const mine = execFileSync('ss', ['-ltnpH'], { encoding: 'utf8' })
        .split('\n')
        .filter((l) => l.includes(`pid=${process.pid},`));
      assert.deepEqual(mine, [], 'no listener of this process in the host netns');
    } finally {
      await manager.close();
    }
  },
);
