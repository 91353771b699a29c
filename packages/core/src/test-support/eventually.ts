// Waiting for a condition in a test, always with a deadline: a check that never passes fails with
// a message naming what was awaited (and the last error), instead of hanging until the runner's
// timeout says only "timed out".
import { setTimeout as sleep } from 'node:timers/promises';

/** Not there yet: `eventually` calls the check again. */
export type NotYet = undefined | null | false;

export interface EventuallyOptions {
  /** Give up after this long (default 30 s). */
  readonly timeoutMs?: number;
  /** Pause between checks (default 20 ms). */
  readonly intervalMs?: number;
  /** Extra context for the failure message, e.g. the state of a process or its log tail. */
  readonly detail?: () => string;
  /** Checked before each attempt: a reason here fails at once (e.g. the process under test died). */
  readonly failFast?: () => string | undefined;
}

export const EVENTUALLY_TIMEOUT_MS = 30_000;

/**
 * Calls `check` until it returns a value other than undefined, null or false (or stops throwing)
 * and returns that value. A third argument that is a number is the timeout in milliseconds.
 */
export async function eventually<T>(
  what: string,
  check: () => T | NotYet | Promise<T | NotYet>,
  options: EventuallyOptions | number = {},
): Promise<T> {
  const o: EventuallyOptions = typeof options === 'number' ? { timeoutMs: options } : options;
  const timeoutMs = o.timeoutMs ?? EVENTUALLY_TIMEOUT_MS;
  const started = Date.now();
  let last: unknown;
  for (;;) {
    const dead = o.failFast?.();
    if (dead) throw new Error(`stopped waiting for ${what}: ${dead}`);
    try {
      const v = await check();
      if (v !== undefined && v !== null && v !== false) return v;
      last = undefined;
    } catch (err) {
      last = err;
    }
    if (Date.now() - started >= timeoutMs) {
      const why = last instanceof Error ? last.message : last === undefined ? '' : String(last);
      const detail = o.detail?.();
      throw new Error(
        `gave up after ${timeoutMs} ms waiting for ${what}` +
          (why ? ` (last error: ${why})` : '') +
          (detail ? `; ${detail}` : ''),
      );
    }
    await sleep(o.intervalMs ?? 20);
  }
}
