// The bytes of an upgraded connection (101 Switching Protocols, e.g. WebSocket), relayed both ways
// between the downstream and the upstream byte streams with back-pressure, like a TCP proxy: an end
// on one side half-closes the other, an error or reset on one side destroys both, and `done` runs
// once both are closed.
import type { Duplex } from 'node:stream';

export interface UpgradePipeCounts {
  /** Bytes from the downstream to the upstream. */
  sent: number;
  /** Bytes from the upstream to the downstream. */
  received: number;
}

export function upgradePipe(
  down: Duplex,
  downFirst: Buffer | undefined,
  up: Duplex,
  upFirst: Buffer,
  done: (counts: UpgradePipeCounts, error: boolean) => void,
): void {
  const counts: UpgradePipeCounts = { sent: 0, received: 0 };
  let open = 2;
  let failed = false;
  const closed = (): void => {
    if (--open === 0) done(counts, failed);
  };
  const relay = (from: Duplex, to: Duplex, add: (n: number) => void): void => {
    from.on('data', (d: Buffer) => {
      add(d.length);
      if (!to.write(d)) from.pause();
    });
    to.on('drain', () => from.resume());
    from.on('end', () => to.end());
    from.on('error', () => {
      failed = true;
      to.destroy();
    });
    // Closed without an end (reset): the other side cannot be finished cleanly either.
    from.on('close', () => {
      if (!from.readableEnded) to.destroy();
      else if (to.writableFinished && to.readableEnded) to.destroy();
      closed();
    });
  };
  relay(down, up, (n) => (counts.sent += n));
  relay(up, down, (n) => (counts.received += n));
  if (downFirst && downFirst.length > 0) {
    counts.sent += downFirst.length;
    up.write(downFirst);
  }
  if (upFirst.length > 0) {
    counts.received += upFirst.length;
    down.write(upFirst);
  }
  down.resume();
  up.resume();
}
