// The client's connection pool. Connections are shared per key (source identity, destination
// identity, source IP, destination IP and port); each carries at most `maxStreams` streams at once
// (fewer if the server says so), beyond that another connection to the same key is opened.
// Concurrent callers share a connection attempt in progress; a connection that fails, closes or
// receives GOAWAY leaves the pool (its open streams carry on); one without streams for
// `idleTimeoutMs` is closed.
import type { ClientHttp2Session } from 'node:http2';
import type { OpenConnection } from './connection.js';

export interface PoolOptions {
  readonly maxStreams: number;
  readonly idleTimeoutMs: number;
  /** Called when a connection opened and when it closed (for metrics). */
  readonly onOpened?: () => void;
  readonly onClosed?: () => void;
}

/** A reserved stream slot on a connection that is, or will be, open. */
export interface Lease {
  readonly connection: Promise<OpenConnection>;
  /** Frees the slot; call once the stream is closed (or was never opened). Extra calls are ignored. */
  release(): void;
}

interface Entry {
  readonly key: string;
  readonly ready: Promise<OpenConnection>;
  opened?: OpenConnection;
  /** Reserved slots, including callers still waiting for the connection. */
  active: number;
  /** False once the connection failed, closed, got GOAWAY or idled out: no new leases. */
  usable: boolean;
  idleTimer?: NodeJS.Timeout;
}

export class ConnectionPool {
  readonly #options: PoolOptions;
  readonly #entries = new Map<string, Entry[]>();
  readonly #sessions = new Set<ClientHttp2Session>();
  #reserved = 0;
  #closed = false;

  constructor(options: PoolOptions) {
    this.#options = options;
  }

  /** Reserves a stream on a connection for `key`, opening one with `open` when none has room. */
  acquire(key: string, open: () => Promise<OpenConnection>): Lease {
    if (this.#closed) throw new Error('the HBONE client is closed');
    const list = this.#entries.get(key) ?? [];
    let entry = list.find((e) => this.#hasRoom(e));
    if (!entry) {
      entry = this.#open(key, open);
      list.push(entry);
      this.#entries.set(key, list);
    }
    const leased = entry;
    leased.active++;
    this.#reserved++;
    clearTimeout(leased.idleTimer);
    let released = false;
    return {
      connection: leased.ready,
      release: () => {
        if (released) return;
        released = true;
        leased.active--;
        this.#reserved--;
        this.#maybeIdle(leased);
      },
    };
  }

  /** Open connections (including ones draining after GOAWAY) and reserved streams. */
  stats(): { connections: number; streams: number } {
    return { connections: this.#sessions.size, streams: this.#reserved };
  }

  /** Stops pooling and closes every connection once its open streams are done. */
  async close(): Promise<void> {
    this.#closed = true;
    const closing = [...this.#sessions].map(
      (session) =>
        new Promise<void>((resolve) => {
          session.once('close', () => resolve());
          session.close();
        }),
    );
    for (const list of [...this.#entries.values()]) for (const e of [...list]) this.#remove(e);
    await Promise.all(closing);
  }

  #hasRoom(entry: Entry): boolean {
    if (!entry.usable) return false;
    const session = entry.opened?.session;
    if (session && (session.closed || session.destroyed)) return false;
    const serverLimit = session?.remoteSettings.maxConcurrentStreams ?? Infinity;
    return entry.active < Math.min(this.#options.maxStreams, serverLimit);
  }

  #open(key: string, open: () => Promise<OpenConnection>): Entry {
    const entry: Entry = {
      key,
      active: 0,
      usable: true,
      ready: open().then(
        (opened) => {
          this.#adopt(entry, opened);
          return opened;
        },
        (err: unknown) => {
          this.#remove(entry);
          throw err;
        },
      ),
    };
    // Every caller awaits `ready`; this keeps a failure nobody waits for from being unhandled.
    entry.ready.catch(() => undefined);
    return entry;
  }

  #adopt(entry: Entry, opened: OpenConnection): void {
    const { session } = opened;
    entry.opened = opened;
    this.#sessions.add(session);
    this.#options.onOpened?.();
    session.on('error', () => this.#remove(entry));
    session.once('goaway', () => this.#remove(entry));
    session.once('close', () => {
      this.#remove(entry);
      this.#sessions.delete(session);
      this.#options.onClosed?.();
    });
    if (this.#closed) {
      this.#remove(entry);
      session.close();
    }
    this.#maybeIdle(entry);
  }

  #maybeIdle(entry: Entry): void {
    if (entry.active > 0 || !entry.usable || !entry.opened) return;
    const session = entry.opened.session;
    entry.idleTimer = setTimeout(() => {
      this.#remove(entry);
      session.close();
    }, this.#options.idleTimeoutMs);
    entry.idleTimer.unref();
  }

  #remove(entry: Entry): void {
    entry.usable = false;
    clearTimeout(entry.idleTimer);
    const list = this.#entries.get(entry.key);
    if (!list) return;
    const i = list.indexOf(entry);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.#entries.delete(entry.key);
  }
}
