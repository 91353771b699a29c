// Debounce: updates that arrive close together are merged and published once. A batch is
// published when no update arrived for `quietMs`, or `maxDelayMs` after its first update, whichever
// comes first, so a steady stream of changes cannot postpone a push forever.

export interface DebounceOptions<T> {
  readonly quietMs: number;
  readonly maxDelayMs: number;
  /** Folds a new update into the pending batch (`pending` is undefined for the first one). */
  readonly merge: (pending: T | undefined, update: T) => T;
  /** Receives the merged batch and how many updates went into it. */
  readonly publish: (batch: T, count: number) => void;
}

export interface Debouncer<T> {
  add(update: T): void;
  /** Publishes the pending batch now, if any. */
  flush(): void;
  /** Drops the pending batch. */
  cancel(): void;
}

export function debouncer<T>(opts: DebounceOptions<T>): Debouncer<T> {
  const { quietMs, maxDelayMs } = opts;
  if (!(quietMs >= 0) || !(maxDelayMs >= quietMs)) {
    throw new Error(
      `debounce: need 0 <= quietMs <= maxDelayMs, got quietMs=${quietMs} maxDelayMs=${maxDelayMs}`,
    );
  }
  let pending: T | undefined;
  let count = 0;
  let quietTimer: NodeJS.Timeout | undefined;
  let maxTimer: NodeJS.Timeout | undefined;

  const stopTimers = () => {
    clearTimeout(quietTimer);
    clearTimeout(maxTimer);
    quietTimer = maxTimer = undefined;
  };
  const flush = () => {
    stopTimers();
    if (count === 0) return;
    const batch = pending as T;
    const n = count;
    pending = undefined;
    count = 0;
    opts.publish(batch, n);
  };

  return {
    add(update) {
      pending = opts.merge(pending, update);
      count++;
      if (maxTimer === undefined) maxTimer = setTimeout(flush, maxDelayMs);
      clearTimeout(quietTimer);
      quietTimer = setTimeout(flush, quietMs);
    },
    flush,
    cancel() {
      stopTimers();
      pending = undefined;
      count = 0;
    },
  };
}
