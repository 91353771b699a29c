// Waiting for conditions without deadlines: the test runner's timeout catches a hang.
import { setTimeout as sleep } from 'node:timers/promises';

/** Polls `check` until it returns a truthy value, which it returns. */
export async function eventually<T>(check: () => T | undefined | false): Promise<T> {
  for (;;) {
    const v = check();
    if (v) return v;
    await sleep(5);
  }
}
