// One ADS stream at a time, reopened with backoff when it ends: the transport shared by the delta
// and state-of-the-world clients. The first request of each stream carries the node.
import { create } from '@bufbuild/protobuf';
import type { ClientDuplexStream, StatusObject } from '@grpc/grpc-js';
import { NodeSchema, type Node } from '@trellis/api/gen/envoy/config/core/v3/base_pb.js';
import { backoff as createBackoff, type Logger } from '@trellis/core';
import type { ConnectionState, XdsClientOptions } from './types.js';

export interface SessionHooks<Req, Res> {
  /** Opens a new stream. */
  open(): ClientDuplexStream<Req, Res>;
  /** Requests that resume every subscription on a new stream. */
  resume(): Req[];
  /** Handles a response; returns the ACK/NACK to send. */
  respond(res: Res): Req | undefined;
  /** Whether the connection to the server is still being made (not yet TCP + TLS). */
  connecting(): boolean;
  /** Drops the connection being made; the next stream dials a new one. */
  redial(): void;
}

export class Session<Req extends { node?: Node }, Res> {
  private stream: ClientDuplexStream<Req, Res> | undefined;
  private sentOnStream = false;
  private timer: NodeJS.Timeout | undefined;
  private connectTimer: NodeJS.Timeout | undefined;
  private readonly connectTimeoutMs: number;
  private current: ConnectionState = 'connecting';
  private readonly listeners = new Set<(s: ConnectionState) => void>();
  private readonly node: Node;
  private readonly delays;
  private readonly untilFirstAnswerMs: number;
  /** The server answered on some stream (the startup cap on reconnect delays no longer applies). */
  private answered = false;

  constructor(
    opts: XdsClientOptions,
    private readonly log: Logger,
    private readonly hooks: SessionHooks<Req, Res>,
  ) {
    this.node = create(NodeSchema, opts.node);
    if (!this.node.id) throw new Error('xDS client: node.id is required');
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 10_000;
    this.delays = createBackoff({
      initialMs: opts.backoff?.initialMs ?? 250,
      maxMs: opts.backoff?.maxMs ?? 30_000,
      jitter: 'equal',
    });
    this.untilFirstAnswerMs = opts.backoff?.untilFirstAnswerMs ?? 5_000;
  }

  get state(): ConnectionState {
    return this.current;
  }

  onStateChange(listener: (s: ConnectionState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    this.setState('connecting');
    const stream = this.hooks.open();
    this.stream = stream;
    this.sentOnStream = false;
    clearTimeout(this.connectTimer);
    this.connectTimer = setTimeout(() => {
      this.connectTimer = undefined;
      if (stream !== this.stream || !this.hooks.connecting()) return;
      this.log.warn(
        { afterMs: this.connectTimeoutMs },
        'xDS server not reached; dialling again on a new connection',
      );
      this.hooks.redial();
      stream.cancel();
    }, this.connectTimeoutMs);
    stream.on('metadata', () => {
      if (stream === this.stream) this.setState('connected');
    });
    stream.on('data', (res: Res) => {
      if (stream !== this.stream) return;
      clearTimeout(this.connectTimer);
      this.setState('connected');
      this.delays.reset();
      this.answered = true;
      const reply = this.hooks.respond(res);
      if (reply) this.send(reply);
    });
    stream.on('error', (err: Error) => {
      if (stream === this.stream) this.log.warn({ err: err.message }, 'xDS stream failed');
    });
    stream.on('status', (s: StatusObject) => {
      if (stream !== this.stream) return;
      this.stream = undefined;
      clearTimeout(this.connectTimer);
      if (this.current === 'closed') return;
      const next = this.delays.next();
      const delay = this.answered ? next : Math.min(next, this.untilFirstAnswerMs);
      this.log.info(
        { code: s.code, details: s.details, retryInMs: delay },
        'xDS stream ended; reconnecting',
      );
      this.setState('backoff');
      this.timer = setTimeout(() => {
        this.timer = undefined;
        // grpc-js keeps a channel that failed to connect in TRANSIENT_FAILURE for a reconnect
        // backoff of its own (1 s, growing to 120 s), failing every new stream at once with its
        // last error and without dialling: after a server outage of a minute the client would
        // stay away for up to two more, whatever this backoff says. A new channel dials when the
        // stream opens, so this backoff alone decides when the server is tried again.
        if (this.hooks.connecting()) this.hooks.redial();
        this.start();
      }, delay);
    });
    for (const req of this.hooks.resume()) this.send(req);
  }

  /** Sends on the open stream; dropped when there is none (the next stream resumes everything). */
  send(req: Req): void {
    if (!this.stream) return;
    if (!this.sentOnStream) {
      req.node = this.node;
      this.sentOnStream = true;
    }
    this.stream.write(req);
  }

  close(): void {
    if (this.current === 'closed') return;
    this.setState('closed');
    clearTimeout(this.timer);
    clearTimeout(this.connectTimer);
    const stream = this.stream;
    this.stream = undefined;
    stream?.cancel();
  }

  private setState(s: ConnectionState): void {
    if (s === this.current) return;
    this.current = s;
    for (const l of this.listeners) l(s);
  }
}
