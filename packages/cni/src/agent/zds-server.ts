// The agent's end of ZDS (wire-compatible with upstream ztunnel's ZDS v1): listens on a unix
// SOCK_SEQPACKET socket, waits for ztunnel's hello, sends a full snapshot (an add with the netns fd
// for every redirected pod, then SnapshotSent), then adds and dels as pods come and go. Every
// request waits for ztunnel's ack before the next one goes; a missing ack closes the connection
// (ztunnel reconnects and gets a new snapshot). As upstream: adds go to the newest connection,
// dels to every connection (an old ztunnel may still be draining during an upgrade).
import { EventEmitter } from 'node:events';
import { closeSync, rmSync } from 'node:fs';
import { create, fromBinary, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import {
  Version,
  WorkloadRequestSchema,
  WorkloadResponseSchema,
  ZdsHelloSchema,
} from '@trellis/api/gen/istio/workload/zds/zds_pb.js';
import type { Logger } from '@trellis/core';
import { SeqpacketServer, type SeqpacketClient } from '@trellis/netsys';

export interface ZdsWorkload {
  uid: string;
  name: string;
  namespace: string;
  serviceAccount: string;
  /** An open fd of the pod's netns, owned by the caller (kept open while the pod is redirected). */
  netnsFd: number;
}

type Payload = MessageInitShape<typeof WorkloadRequestSchema>['payload'];

interface Pending {
  data: Uint8Array;
  fds: number[];
  resolve(error: string): void;
  reject(err: Error): void;
}

class Connection {
  readonly id: number;
  helloSeen = false;
  snapshotDone = false;
  readonly #socket: SeqpacketClient;
  readonly #queue: Pending[] = [];
  #inFlight: (Pending & { timer: NodeJS.Timeout }) | undefined;
  readonly #ackTimeoutMs: number;

  constructor(id: number, socket: SeqpacketClient, ackTimeoutMs: number) {
    this.id = id;
    this.#socket = socket;
    this.#ackTimeoutMs = ackTimeoutMs;
  }

  get closed(): boolean {
    return this.#socket.closed;
  }

  /** Sends one request; resolves with the ack's error text ('' = ok). */
  request(payload: Payload, fds: number[] = []): Promise<string> {
    const data = toBinary(WorkloadRequestSchema, create(WorkloadRequestSchema, { payload }));
    return new Promise((resolve, reject) => {
      if (this.closed) {
        reject(new Error('the ztunnel connection is closed'));
        return;
      }
      this.#queue.push({ data, fds, resolve, reject });
      this.#pump();
    });
  }

  onResponse(data: Buffer): void {
    const p = this.#inFlight;
    if (!p) {
      this.close('ztunnel sent a message nobody asked for');
      return;
    }
    clearTimeout(p.timer);
    this.#inFlight = undefined;
    let error: string;
    try {
      const r = fromBinary(WorkloadResponseSchema, data);
      error = r.payload.case === 'ack' ? r.payload.value.error : 'ztunnel answered without an ack';
    } catch (err) {
      error = `ztunnel answered with a malformed WorkloadResponse: ${(err as Error).message}`;
    }
    p.resolve(error);
    this.#pump();
  }

  close(why: string): void {
    if (this.#inFlight) {
      clearTimeout(this.#inFlight.timer);
      this.#inFlight.reject(new Error(`ztunnel connection closed: ${why}`));
      this.#inFlight = undefined;
    }
    for (const p of this.#queue.splice(0)) p.reject(new Error(`ztunnel connection closed: ${why}`));
    this.#socket.close();
  }

  #pump(): void {
    if (this.#inFlight || this.#queue.length === 0) return;
    const p = this.#queue.shift()!;
    const timer = setTimeout(
      () => this.close(`no ack within ${this.#ackTimeoutMs} ms`),
      this.#ackTimeoutMs,
    );
    this.#inFlight = { ...p, timer };
    this.#socket
      .send(p.data, p.fds)
      .catch((err: Error) => this.close(`send failed: ${err.message}`));
  }
}

export interface ZdsServerOptions {
  path: string;
  logger: Logger;
  /** The pods to put in a new connection's snapshot (called when ztunnel says hello). */
  snapshot(): ZdsWorkload[];
  ackTimeoutMs?: number;
}

export interface ZdsServerEvents {
  /** A ztunnel connected and acked its snapshot. */
  ready: [connections: number];
  /** A ztunnel connection went away. */
  disconnected: [connections: number];
}

export class ZdsServer extends EventEmitter<ZdsServerEvents> {
  readonly #opts: ZdsServerOptions;
  readonly #server: SeqpacketServer;
  readonly #conns: Connection[] = [];
  #nextId = 1;

  constructor(opts: ZdsServerOptions) {
    super();
    this.#opts = opts;
    // A socket file left by a previous agent would make listen fail.
    rmSync(opts.path, { force: true });
    this.#server = SeqpacketServer.listen(opts.path);
    this.#server.on('connection', (socket) => this.#accept(socket));
    this.#server.on('error', (err) =>
      opts.logger.error({ err: err.message }, 'ZDS listener error'),
    );
  }

  /** Connections whose snapshot is done. */
  get readyConnections(): number {
    return this.#conns.filter((c) => c.snapshotDone && !c.closed).length;
  }

  get connected(): boolean {
    return this.#latest() !== undefined;
  }

  /** Hands a pod to the newest ztunnel; throws when none is connected or ztunnel refuses it. */
  async add(w: ZdsWorkload): Promise<void> {
    const conn = this.#latest();
    if (!conn) throw new Error(`no ztunnel is connected on ${this.#opts.path}`);
    const error = await conn.request(addPayload(w), [w.netnsFd]);
    if (error) throw new Error(`ztunnel refused pod ${w.namespace}/${w.name}: ${error}`);
  }

  /** Tells every connected ztunnel the pod is gone (nothing to do when none is connected). */
  async del(uid: string): Promise<void> {
    const errors: string[] = [];
    await Promise.all(
      this.#conns
        .filter((c) => c.helloSeen && !c.closed)
        .map((c) =>
          c.request({ case: 'del', value: { uid } }).then(
            (e) => void (e && errors.push(e)),
            (err: Error) => void errors.push(err.message),
          ),
        ),
    );
    if (errors.length) throw new Error(`ztunnel del ${uid}: ${errors.join('; ')}`);
  }

  close(): void {
    for (const c of this.#conns.splice(0)) c.close('the agent is stopping');
    this.#server.close();
  }

  #latest(): Connection | undefined {
    for (let i = this.#conns.length - 1; i >= 0; i--) {
      const c = this.#conns[i]!;
      if (c.snapshotDone && !c.closed) return c;
    }
    return undefined;
  }

  #accept(socket: SeqpacketClient): void {
    const conn = new Connection(this.#nextId++, socket, this.#opts.ackTimeoutMs ?? 5000);
    const log = this.#opts.logger.child({ conn: conn.id });
    this.#conns.push(conn);
    socket.on('message', ({ data, fds }) => {
      for (const fd of fds) closeSync(fd);
      if (conn.helloSeen) {
        conn.onResponse(data);
        return;
      }
      let version: Version;
      try {
        version = fromBinary(ZdsHelloSchema, data).version;
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'ztunnel sent a malformed hello; closing');
        conn.close('malformed hello');
        return;
      }
      if (version !== Version.V1) {
        log.warn({ version }, 'ztunnel speaks an unknown ZDS version; closing');
        conn.close(`unsupported ZDS version ${version}`);
        return;
      }
      conn.helloSeen = true;
      log.info('ztunnel connected; sending snapshot');
      void this.#sendSnapshot(conn, log);
    });
    socket.on('error', (err) => log.warn({ err: err.message }, 'ZDS connection error'));
    socket.once('close', () => {
      conn.close('ztunnel closed it');
      const i = this.#conns.indexOf(conn);
      if (i >= 0) this.#conns.splice(i, 1);
      log.info({ connections: this.readyConnections }, 'ztunnel disconnected');
      this.emit('disconnected', this.readyConnections);
    });
  }

  async #sendSnapshot(conn: Connection, log: Logger): Promise<void> {
    const pods = this.#opts.snapshot();
    try {
      for (const w of pods) {
        const error = await conn.request(addPayload(w), [w.netnsFd]);
        if (error)
          log.warn({ pod: `${w.namespace}/${w.name}`, error }, 'ztunnel refused a snapshot pod');
      }
      const error = await conn.request({ case: 'snapshotSent', value: {} });
      if (error) log.warn({ error }, 'ztunnel refused SnapshotSent');
      conn.snapshotDone = true;
      log.info({ pods: pods.length }, 'snapshot sent');
      this.emit('ready', this.readyConnections);
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'snapshot interrupted');
    }
  }
}

function addPayload(w: ZdsWorkload): Payload {
  return {
    case: 'add',
    value: {
      uid: w.uid,
      workloadInfo: { name: w.name, namespace: w.namespace, serviceAccount: w.serviceAccount },
    },
  };
}
