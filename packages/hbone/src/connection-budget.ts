// A cap on the inbound HBONE connections one process holds, shared by all its HBONE servers (ztunnel
// runs one per pod): a connection takes a place when it is accepted, before TLS, and gives it back
// when its socket closes. Past the cap new connections are refused at once, so idle or stuck
// clients cannot exhaust memory (~45 KB per authenticated connection).
export class ConnectionBudget {
  #inUse = 0;

  /** `max` >= 1 connections at a time. */
  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1)
      throw new Error(`connection cap must be >= 1, got ${max}`);
  }

  /** Takes a place; false when all `max` are taken. */
  acquire(): boolean {
    if (this.#inUse >= this.max) return false;
    this.#inUse++;
    return true;
  }

  release(): void {
    if (this.#inUse > 0) this.#inUse--;
  }

  get inUse(): number {
    return this.#inUse;
  }
}
