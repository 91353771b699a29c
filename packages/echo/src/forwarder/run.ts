// Runs a forward plan's requests: up to 20 at once, spaced by --qps when given, all within the
// plan's timeout; the outputs come back in request order, or one error for the whole set (as
// upstream: "N/M requests had errors; first error: ..." or "request set timed out ...").
import { setMaxListeners } from 'node:events';
import { ForwardError, type ForwardPlan } from '../forward-request.pure.js';
import { formatGoDuration } from '../go-duration.pure.js';

export const MAX_CONCURRENCY = 20;

/** Requests in flight, reported as ActiveRequests=. */
export interface ActiveCounter {
  active: number;
}

/** Sends request `id`; rejects when `signal` aborts (the set's timeout). */
export type SendOne = (id: number, signal: AbortSignal) => Promise<string>;

export async function runRequests(
  plan: ForwardPlan,
  send: SendOne,
  counter: ActiveCounter,
): Promise<string[]> {
  const outputs: string[] = new Array<string>(plan.count).fill('');
  const errors: Error[] = [];
  const controller = new AbortController();
  // Every request in flight (and its redirects, and a --qps wait) listens for the set's timeout.
  setMaxListeners(MAX_CONCURRENCY * 4, controller.signal);
  const timer = setTimeout(() => controller.abort(), plan.timeoutMs);
  const start = Date.now();
  const spacingMs = plan.qps > 0 ? 1000 / plan.qps : 0;
  let next = 0;
  let completed = 0;
  const worker = async () => {
    while (next < plan.count && !controller.signal.aborted) {
      const id = next++;
      const wait = start + id * spacingMs - Date.now();
      if (wait > 0) await sleep(wait, controller.signal);
      if (controller.signal.aborted) return;
      counter.active++;
      try {
        outputs[id] = await send(id, controller.signal);
        completed++;
      } catch (e) {
        errors.push(e as Error);
      } finally {
        counter.active--;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(MAX_CONCURRENCY, plan.count) }, worker));
  } finally {
    clearTimeout(timer);
  }
  if (controller.signal.aborted && completed < plan.count)
    throw new ForwardError(
      `request set timed out after ${formatGoDuration(plan.timeoutMs * 1e6)} and only ${completed}/${plan.count} requests completed`,
    );
  if (errors.length)
    throw new ForwardError(
      `${errors.length}/${plan.count} requests had errors; first error: ${errors[0]!.message}`,
    );
  return outputs;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

/** Nanoseconds since `start` (from process.hrtime.bigint()) as Go prints a duration. */
export function latencySince(start: bigint): string {
  return formatGoDuration(Number(process.hrtime.bigint() - start));
}
