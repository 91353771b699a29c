// Joins a tunnel and a TCP socket (or any two Duplex streams) in both directions, the way a proxy
// carries one TCP connection: data flows with back-pressure (pipe), an end on one side becomes an
// end on the other while the opposite direction keeps flowing, and an error or premature close on
// one side resets the other (a TCP RST for sockets, RST_STREAM for tunnels).
import { Socket } from 'node:net';
import { finished, type Duplex } from 'node:stream';

export interface SpliceResult {
  /** Why the connection ended abnormally; absent when both directions ended cleanly. */
  readonly error?: Error;
}

/**
 * Copies `a` to `b` and `b` to `a` until both are done. Both should allow half-open connections
 * (net sockets: `allowHalfOpen: true`), otherwise an end on one side closes both directions.
 */
export function splice(a: Duplex, b: Duplex): Promise<SpliceResult> {
  return new Promise((resolve) => {
    let pending = 2;
    let error: Error | undefined;
    const settle = (err: Error | null | undefined, other: Duplex): void => {
      if (err) {
        error ??= err;
        reset(other, err);
      }
      if (--pending === 0) resolve(error ? { error } : {});
    };
    finished(a, (err) => settle(err, b));
    finished(b, (err) => settle(err, a));
    a.pipe(b);
    b.pipe(a);
  });
}

/** Ends `stream` abruptly: a TCP RST for a connected socket, destroy(err) for anything else. */
export function reset(stream: Duplex, err: Error): void {
  if (stream.destroyed) return;
  if (stream instanceof Socket && !stream.connecting) {
    try {
      stream.resetAndDestroy();
      return;
    } catch {
      // Not a TCP handle (e.g. a pipe): fall back to destroy.
    }
  }
  stream.destroy(err);
}
