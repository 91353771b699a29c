// Retries an async operation with exponential backoff until it succeeds, gives up, or the
// caller aborts.
import { setTimeout as sleep } from 'node:timers/promises';
import { backoff, type BackoffOptions } from './backoff.js';

export interface RetryOptions extends BackoffOptions {
  /** Stops retrying: the pending wait ends at once and retry rejects with `signal.reason`. */
  readonly signal?: AbortSignal;
  /** Total attempts including the first; default unlimited. */
  readonly maxAttempts?: number;
  /** Errors for which this returns false are thrown at once; default: retry every error. */
  readonly shouldRetry?: (err: unknown) => boolean;
  /** Called before each wait, e.g. to log. `attempt` is the one that just failed, from 1. */
  readonly onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
}

/**
 * Calls `fn(attempt)` (attempt counts from 1) until it resolves, and returns its result. After a
 * failure it waits the next backoff delay and tries again. Rejects with the last error when
 * attempts run out or shouldRetry says no, and with `signal.reason` once aborted.
 */
export async function retry<T>(
  fn: (attempt: number) => Promise<T>,
  opts: RetryOptions,
): Promise<T> {
  const { signal, maxAttempts = Infinity, shouldRetry = () => true, onRetry } = opts;
  const delays = backoff(opts);
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    try {
      return await fn(attempt);
    } catch (err) {
      signal?.throwIfAborted();
      if (attempt >= maxAttempts || !shouldRetry(err)) throw err;
      const delayMs = delays.next();
      onRetry?.(err, attempt, delayMs);
      try {
        await sleep(delayMs, undefined, signal ? { signal } : undefined);
      } catch (sleepErr) {
        signal?.throwIfAborted();
        throw sleepErr;
      }
    }
  }
}
