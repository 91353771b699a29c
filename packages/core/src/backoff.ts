// Exponential backoff with jitter: the n-th delay grows as initialMs * factor^n up to maxMs, and
// jitter spreads clients out so they do not retry in lockstep.
//   full:  random in [0, d)            (most spread)
//   equal: d/2 + random in [0, d/2)    (never shorter than half)
//   none:  d

export type Jitter = 'full' | 'equal' | 'none';

export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
  /** Growth per attempt; default 2. */
  readonly factor?: number;
  /** Default 'full'. */
  readonly jitter?: Jitter;
  /** Returns a number in [0, 1); default Math.random. Tests pass a fixed sequence. */
  readonly random?: () => number;
}

export interface Backoff {
  /** The delay before the next attempt, in whole milliseconds. */
  next(): number;
  /** Starts over from initialMs (call after a success). */
  reset(): void;
}

export function backoff(opts: BackoffOptions): Backoff {
  const { initialMs, maxMs, factor = 2, jitter = 'full', random = Math.random } = opts;
  if (!(initialMs >= 0) || !(maxMs >= initialMs)) {
    throw new Error(
      `backoff: need 0 <= initialMs <= maxMs, got initialMs=${initialMs} maxMs=${maxMs}`,
    );
  }
  if (!(factor >= 1)) throw new Error(`backoff: factor must be >= 1, got ${factor}`);
  if (!['full', 'equal', 'none'].includes(jitter)) {
    throw new Error(
      `backoff: jitter must be one of full, equal, none; got ${JSON.stringify(jitter)}`,
    );
  }

  let ceiling = initialMs;
  return {
    next() {
      const d = ceiling;
      ceiling = Math.min(maxMs, ceiling * factor);
      switch (jitter) {
        case 'full':
          return Math.floor(random() * d);
        case 'equal':
          return Math.floor(d / 2 + (random() * d) / 2);
        case 'none':
          return Math.floor(d);
      }
    },
    reset() {
      ceiling = initialMs;
    },
  };
}
