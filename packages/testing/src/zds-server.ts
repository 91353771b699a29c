// The CNI agent's side of ZDS, over a real SOCK_SEQPACKET socket: waits for ztunnel's hello, sends
// the snapshot (each pod's netns fd by SCM_RIGHTS, then SnapshotSent), then add/del as pods come
// and go, and collects the acks in order. A real implementation of the protocol.
import { closeSync, openSync } from 'node:fs';
import { create, fromBinary, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import {
  Version,
  WorkloadRequestSchema,
  WorkloadResponseSchema,
  ZdsHelloSchema,
} from '@trellis/api/gen/istio/workload/zds/zds_pb.js';
import { SeqpacketServer, type SeqpacketClient } from '@trellis/netsys';

export interface ZdsPod {
  uid: string;
  name: string;
  namespace: string;
  serviceAccount: string;
  /** Path of the pod's netns, e.g. /run/netns/x. */
  netnsPath: string;
}

type Payload = MessageInitShape<typeof WorkloadRequestSchema>['payload'];

interface Conn {
  socket: SeqpacketClient;
  hello: boolean;
  pendingAcks: { resolve: (error: string) => void; reject: (err: Error) => void }[];
}

export class ZdsServer {
  readonly path: string;
  readonly #server: SeqpacketServer;
  readonly #pods = new Map<string, ZdsPod>();
  #conn: Conn | undefined;
  #snapshotWaiters: (() => void)[] = [];
  /** Completed snapshots (one per ztunnel connection). */
  snapshots = 0;

  constructor(path: string) {
    this.path = path;
    this.#server = SeqpacketServer.listen(path);
    this.#server.on('connection', (socket) => this.#accept(socket));
  }

  get connected(): boolean {
    return this.#conn?.hello === true && !this.#conn.socket.closed;
  }

  /** Resolves after the next snapshot has been sent and acked. */
  nextSnapshot(): Promise<void> {
    return new Promise((resolve) => this.#snapshotWaiters.push(resolve));
  }

  /** Registers a pod; if ztunnel is connected it gets an add now (resolves with the ack's error). */
  async addPod(pod: ZdsPod): Promise<string> {
    this.#pods.set(pod.uid, pod);
    if (!this.connected) return '';
    return this.#sendAdd(this.#conn!, pod);
  }

  async removePod(uid: string): Promise<string> {
    this.#pods.delete(uid);
    if (!this.connected) return '';
    return this.#send(this.#conn!, { case: 'del', value: { uid } });
  }

  close(): void {
    this.#conn?.socket.close();
    this.#server.close();
  }

  #accept(socket: SeqpacketClient): void {
    // A new ztunnel connection replaces the old one (ztunnel restarted or reconnected).
    this.#conn?.socket.close();
    const conn: Conn = { socket, hello: false, pendingAcks: [] };
    this.#conn = conn;
    socket.on('message', ({ data, fds }) => {
      for (const fd of fds) closeSync(fd);
      if (!conn.hello) {
        const hello = fromBinary(ZdsHelloSchema, data);
        if (hello.version !== Version.V1) {
          socket.close();
          return;
        }
        conn.hello = true;
        void this.#sendSnapshot(conn);
        return;
      }
      const response = fromBinary(WorkloadResponseSchema, data);
      const waiter = conn.pendingAcks.shift();
      waiter?.resolve(response.payload.case === 'ack' ? response.payload.value.error : 'no ack');
    });
    socket.on('error', () => undefined);
    socket.once('close', () => {
      for (const w of conn.pendingAcks.splice(0)) w.reject(new Error('ZDS connection closed'));
    });
  }

  async #sendSnapshot(conn: Conn): Promise<void> {
    try {
      for (const pod of this.#pods.values()) await this.#sendAdd(conn, pod);
      await this.#send(conn, { case: 'snapshotSent', value: {} });
      this.snapshots++;
      for (const w of this.#snapshotWaiters.splice(0)) w();
    } catch {
      // the connection went away; the next one sends a new snapshot
    }
  }

  async #sendAdd(conn: Conn, pod: ZdsPod): Promise<string> {
    const fd = openSync(pod.netnsPath, 'r');
    try {
      return await this.#send(
        conn,
        {
          case: 'add',
          value: {
            uid: pod.uid,
            workloadInfo: {
              name: pod.name,
              namespace: pod.namespace,
              serviceAccount: pod.serviceAccount,
            },
          },
        },
        [fd],
      );
    } finally {
      closeSync(fd);
    }
  }

  #send(conn: Conn, payload: Payload, fds: number[] = []): Promise<string> {
    const ack = new Promise<string>((resolve, reject) =>
      conn.pendingAcks.push({ resolve, reject }),
    );
    const data = toBinary(WorkloadRequestSchema, create(WorkloadRequestSchema, { payload }));
    return conn.socket.send(data, fds).then(() => ack);
  }
}
