// ztunnel's end of ZDS: connects to the agent's SOCK_SEQPACKET socket, says hello, applies every
// request to the in-pod manager in order and acks it, and reconnects with backoff when the agent
// goes away (pods keep running; the next snapshot decides which stay).
import { EventEmitter } from 'node:events';
import { closeSync } from 'node:fs';
import { backoff as createBackoff, type Backoff, type Logger } from '@trellis/core';
import { SeqpacketClient, type SeqpacketMessage } from '@trellis/netsys';
import type { InpodManager } from './pod-manager.js';
import { decodeWorkloadRequest, encodeAck, encodeHello } from './zds-messages.js';

export interface ZdsClientOptions {
  path: string;
  manager: InpodManager;
  logger: Logger;
  backoff?: Backoff;
}

export interface ZdsClientEvents {
  connected: [];
  /** The snapshot of a connection has been applied. */
  snapshot: [];
  /** A request was answered; `error` is '' on success. */
  ack: [error: string];
  disconnected: [];
}

export class ZdsClient extends EventEmitter<ZdsClientEvents> {
  readonly #opts: ZdsClientOptions;
  readonly #backoff: Backoff;
  #socket: SeqpacketClient | undefined;
  #timer: NodeJS.Timeout | undefined;
  #queue: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(opts: ZdsClientOptions) {
    super();
    this.#opts = opts;
    this.#backoff = opts.backoff ?? createBackoff({ initialMs: 100, maxMs: 5000, jitter: 'equal' });
  }

  /** Starts connecting (and keeps reconnecting until close()). */
  start(): this {
    this.#connect();
    return this;
  }

  get connected(): boolean {
    return this.#socket !== undefined && !this.#socket.closed;
  }

  /** Stops reconnecting and closes the connection; running pods are left to the manager. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#socket?.close();
    await this.#queue;
  }

  #connect(): void {
    if (this.#closed) return;
    let socket: SeqpacketClient;
    try {
      socket = SeqpacketClient.connect(this.#opts.path);
    } catch (err) {
      this.#retry(`connect failed: ${(err as Error).message}`);
      return;
    }
    this.#socket = socket;
    this.#opts.manager.beginSnapshot();
    socket.on('message', (m) => this.#enqueue(socket, m));
    socket.on('error', (err) =>
      this.#opts.logger.warn({ err: err.message }, 'ZDS connection error'),
    );
    socket.once('close', () => {
      if (this.#socket === socket) this.#socket = undefined;
      this.emit('disconnected');
      this.#retry('the agent closed the connection');
    });
    socket.send(encodeHello()).then(
      () => {
        this.#backoff.reset();
        this.#opts.logger.info({ path: this.#opts.path }, 'ZDS connected');
        this.emit('connected');
      },
      (err: Error) => this.#opts.logger.warn({ err: err.message }, 'ZDS hello failed'),
    );
  }

  #retry(why: string): void {
    if (this.#closed) return;
    const delay = this.#backoff.next();
    this.#opts.logger.warn({ path: this.#opts.path, why, retryMs: delay }, 'ZDS not connected');
    this.#timer = setTimeout(() => this.#connect(), delay);
  }

  #enqueue(socket: SeqpacketClient, message: SeqpacketMessage): void {
    this.#queue = this.#queue.then(() => this.#process(socket, message));
  }

  async #process(socket: SeqpacketClient, { data, fds }: SeqpacketMessage): Promise<void> {
    const decoded = decodeWorkloadRequest(data, fds);
    let error = '';
    if (!decoded.ok) {
      for (const fd of fds) closeSync(fd);
      error = decoded.reason;
    } else {
      try {
        await this.#opts.manager.handle(decoded.value);
        if (decoded.value.kind === 'snapshot-sent') this.emit('snapshot');
      } catch (err) {
        error = (err as Error).message;
      }
    }
    if (error) this.#opts.logger.warn({ error }, 'ZDS request refused');
    if (socket.closed) return;
    try {
      await socket.send(encodeAck(error));
      this.emit('ack', error);
    } catch (err) {
      this.#opts.logger.warn({ err: (err as Error).message }, 'ZDS ack failed');
    }
  }
}
