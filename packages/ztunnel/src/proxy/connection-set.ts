// The open downstream sockets of one listener, so a drain can wait for them and then cut the rest.
import type net from 'node:net';

export class ConnectionSet {
  readonly #open = new Set<net.Socket>();
  #waiters: (() => void)[] = [];

  add(socket: net.Socket): void {
    this.#open.add(socket);
    socket.once('close', () => {
      this.#open.delete(socket);
      if (this.#open.size === 0) for (const w of this.#waiters.splice(0)) w();
    });
  }

  get size(): number {
    return this.#open.size;
  }

  /** Resolves when every socket closed, or after `ms` once the rest were destroyed. */
  async drain(ms: number): Promise<void> {
    if (this.#open.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => this.#waiters.push(resolve)),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, ms);
      }),
    ]);
    clearTimeout(timer);
    for (const socket of this.#open) socket.destroy();
  }
}
