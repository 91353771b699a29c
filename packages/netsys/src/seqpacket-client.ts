// One connected SOCK_SEQPACKET socket on the event loop: 'message' for every packet received
// (with its fds), send() queues while the socket buffer is full. ztunnel's end of ZDS, and the
// agent's handle on each connection it accepts.
import { EventEmitter } from 'node:events';
import { closeSync } from 'node:fs';
import { getSystemErrorName } from 'node:util';
import { addon, type NativeFdWatcher } from './addon.js';
import {
  seqpacketConnect,
  seqpacketRecv,
  seqpacketSend,
  type SeqpacketMessage,
} from './seqpacket.js';

interface PendingSend {
  data: Uint8Array;
  fds: number[];
  resolve: () => void;
  reject: (err: Error) => void;
}

export interface SeqpacketClientEvents {
  /** One packet; the listener owns `fds` and must close them. */
  message: [SeqpacketMessage];
  error: [Error];
  /** The socket closed: close() was called, the peer closed, or after an 'error'. */
  close: [];
}

export class SeqpacketClient extends EventEmitter<SeqpacketClientEvents> {
  readonly fd: number;
  readonly #watcher: NativeFdWatcher;
  #queue: PendingSend[] = [];
  #closed = false;

  /** Connects to the SOCK_SEQPACKET listener at `path`. */
  static connect(path: string): SeqpacketClient {
    return new SeqpacketClient(seqpacketConnect(path));
  }

  /** Takes ownership of a connected, non-blocking SOCK_SEQPACKET fd. */
  constructor(fd: number) {
    super();
    this.fd = fd;
    this.#watcher = new (addon().FdWatcher)(fd, (status, readable, writable) =>
      this.#onEvent(status, readable, writable),
    );
    this.#watch();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Sends one packet with `fds` attached; resolves once the kernel has taken it. */
  send(data: Uint8Array, fds: number[] = []): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('SeqpacketClient: the socket is closed'));
    return new Promise((resolve, reject) => {
      this.#queue.push({ data, fds, resolve, reject });
      if (this.#queue.length === 1) this.#flush();
    });
  }

  /** Closes the socket; pending sends are rejected; 'close' follows. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#watcher.close();
    closeSync(this.fd);
    const pending = this.#queue;
    this.#queue = [];
    for (const p of pending)
      p.reject(new Error('SeqpacketClient: closed before the packet was sent'));
    process.nextTick(() => this.emit('close'));
  }

  #watch(): void {
    if (!this.#closed) this.#watcher.start(true, this.#queue.length > 0);
  }

  #onEvent(status: number, readable: boolean, writable: boolean): void {
    if (writable) this.#flush();
    // On an error event, reading reports the socket's actual error or its end.
    if (readable || status < 0) this.#readAll();
    if (status < 0 && !this.#closed) {
      this.#fail(
        new Error(`SeqpacketClient(fd ${this.fd}): poll failed: ${getSystemErrorName(status)}`),
      );
    }
  }

  #readAll(): void {
    while (!this.#closed) {
      let result: ReturnType<typeof seqpacketRecv>;
      try {
        result = seqpacketRecv(this.fd);
      } catch (err) {
        this.#fail(err as Error);
        return;
      }
      if (result === 'again') return;
      if (result === 'end') {
        this.close();
        return;
      }
      this.emit('message', result);
    }
  }

  #flush(): void {
    while (this.#queue.length > 0 && !this.#closed) {
      const next = this.#queue[0]!;
      try {
        if (!seqpacketSend(this.fd, next.data, next.fds)) break;
        this.#queue.shift();
        next.resolve();
      } catch (err) {
        this.#queue.shift();
        next.reject(err as Error);
      }
    }
    this.#watch();
  }

  #fail(err: Error): void {
    this.emit('error', err);
    this.close();
  }
}
