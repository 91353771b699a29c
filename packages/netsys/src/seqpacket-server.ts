// A SOCK_SEQPACKET listener on the event loop: 'connection' with a SeqpacketClient for every
// accepted peer. The CNI node agent's end of ZDS.
import { EventEmitter } from 'node:events';
import { closeSync, rmSync } from 'node:fs';
import { addon, type NativeFdWatcher } from './addon.js';
import { SeqpacketClient } from './seqpacket-client.js';
import { seqpacketAccept, seqpacketListen } from './seqpacket.js';

export interface SeqpacketServerEvents {
  /** An accepted peer; without a 'connection' listener it is closed at once. */
  connection: [SeqpacketClient];
  /** accept failed (e.g. EMFILE); the server keeps listening. */
  error: [Error];
  close: [];
}

export class SeqpacketServer extends EventEmitter<SeqpacketServerEvents> {
  readonly path: string;
  readonly fd: number;
  readonly #watcher: NativeFdWatcher;
  #closed = false;

  /** Listens at `path`, which must not exist (remove a stale socket file first). */
  static listen(path: string, backlog = 128): SeqpacketServer {
    return new SeqpacketServer(path, seqpacketListen(path, backlog));
  }

  private constructor(path: string, fd: number) {
    super();
    this.path = path;
    this.fd = fd;
    this.#watcher = new (addon().FdWatcher)(fd, () => this.#acceptAll());
    this.#watcher.start(true, false);
  }

  /** Stops listening and removes the socket file; accepted connections stay open. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#watcher.close();
    closeSync(this.fd);
    rmSync(this.path, { force: true });
    process.nextTick(() => this.emit('close'));
  }

  #acceptAll(): void {
    while (!this.#closed) {
      let fd: number | null;
      try {
        fd = seqpacketAccept(this.fd);
      } catch (err) {
        this.emit('error', err as Error);
        return;
      }
      if (fd === null) return;
      const client = new SeqpacketClient(fd);
      if (!this.emit('connection', client)) client.close();
    }
  }
}
