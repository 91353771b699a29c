// The agent's side of ZDS against a raw SOCK_SEQPACKET peer playing ztunnel, with real netns fds.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, fstatSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  Version,
  WorkloadRequestSchema,
  WorkloadResponseSchema,
  ZdsHelloSchema,
  type WorkloadRequest,
} from '@trellis/api/gen/istio/workload/zds/zds_pb.js';
import { SeqpacketClient, type SeqpacketMessage } from '@trellis/netsys';
import { isRoot, rootOnly } from '@trellis/core/test-support';
import { ZdsServer } from './zds-server.js';

const ns = `tbz${process.pid}`;
const dir = mkdtempSync(join(tmpdir(), 'zds-server-'));
const needsRoot = rootOnly('a network namespace');
before(() => {
  if (isRoot) execFileSync('ip', ['netns', 'add', ns]);
});
after(() => {
  if (isRoot) execFileSync('ip', ['netns', 'del', ns]);
  rmSync(dir, { recursive: true, force: true });
});

class FakeZtunnelPeer {
  readonly socket: SeqpacketClient;
  readonly #inbox: SeqpacketMessage[] = [];
  #wake: (() => void) | undefined;
  constructor(path: string) {
    this.socket = SeqpacketClient.connect(path);
    this.socket.on('message', (m) => {
      this.#inbox.push(m);
      this.#wake?.();
    });
  }
  async next(): Promise<{ request: WorkloadRequest; fds: number[] }> {
    while (this.#inbox.length === 0) await new Promise<void>((r) => (this.#wake = r));
    const m = this.#inbox.shift()!;
    return { request: fromBinary(WorkloadRequestSchema, m.data), fds: m.fds };
  }
  ack(error = ''): Promise<void> {
    return this.socket.send(
      toBinary(
        WorkloadResponseSchema,
        create(WorkloadResponseSchema, { payload: { case: 'ack', value: { error } } }),
      ),
    );
  }
}

test(
  'snapshot with one netns fd per pod, SnapshotSent, then add and del with acks',
  needsRoot,
  async () => {
    const server = new ZdsServer(join(dir, 'ztunnel.sock'));
    const netnsPath = `/run/netns/${ns}`;
    await server.addPod({
      uid: 'u1',
      name: 'a',
      namespace: 'demo',
      serviceAccount: 'sa',
      netnsPath,
    });
    const peer = new FakeZtunnelPeer(server.path);
    try {
      const snapshot = server.nextSnapshot();
      await peer.socket.send(
        toBinary(ZdsHelloSchema, create(ZdsHelloSchema, { version: Version.V1 })),
      );

      const first = await peer.next();
      assert.equal(first.request.payload.case, 'add');
      assert.equal(first.fds.length, 1);
      const st = fstatSync(first.fds[0]!);
      assert.equal(st.ino, statSync(netnsPath).ino, 'the fd is the pod netns');
      closeSync(first.fds[0]!);
      assert.deepEqual(
        first.request.payload.case === 'add' &&
          first.request.payload.value.workloadInfo?.serviceAccount,
        'sa',
      );
      await peer.ack();
      assert.equal((await peer.next()).request.payload.case, 'snapshotSent');
      await peer.ack();
      await snapshot;
      assert.equal(server.snapshots, 1);

      const added = server.addPod({
        uid: 'u2',
        name: 'b',
        namespace: 'demo',
        serviceAccount: 'sa',
        netnsPath,
      });
      const m = await peer.next();
      assert.equal(m.request.payload.case, 'add');
      for (const fd of m.fds) closeSync(fd);
      await peer.ack('add u2: something went wrong');
      assert.equal(await added, 'add u2: something went wrong');

      const removed = server.removePod('u1');
      const del = await peer.next();
      assert.equal(del.request.payload.case, 'del');
      assert.equal(del.request.payload.case === 'del' && del.request.payload.value.uid, 'u1');
      await peer.ack();
      assert.equal(await removed, '');
    } finally {
      peer.socket.close();
      server.close();
    }
  },
);
