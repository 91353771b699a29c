// Whether an attempt's outcome is retried under a retry policy, and the back-off before the next
// attempt (Envoy: fully jittered, [0, (2^n - 1) x base], capped at max). Pure.
import type { RetryPolicy } from '../model/route.js';
import type { UpstreamFailure } from '../upstream/stream.js';

const GRPC_RETRY_ON: Record<string, number> = {
  cancelled: 1,
  'deadline-exceeded': 4,
  'resource-exhausted': 8,
  internal: 13,
  unavailable: 14,
};

/** A response head: retried for retriable statuses or gRPC codes. */
export function retriableResponse(
  p: RetryPolicy,
  status: number,
  grpcStatus: number | undefined,
): boolean {
  const on = p.on;
  if (status >= 500 && on.has('5xx')) return true;
  if ((status === 502 || status === 503 || status === 504) && on.has('gateway-error')) return true;
  if (status === 409 && on.has('retriable-4xx')) return true;
  if (on.has('retriable-status-codes') && p.retriableStatusCodes.has(status)) return true;
  if (grpcStatus !== undefined) {
    for (const [cond, code] of Object.entries(GRPC_RETRY_ON))
      if (code === grpcStatus && on.has(cond)) return true;
  }
  return false;
}

/**
 * A kept-alive connection the upstream had closed before our request reached it: reset before any
 * response on a reused connection. Worth one more try on a fresh connection, whatever the policy
 * (the request and its mirrored copies alike).
 */
export function staleConnection(failure: UpstreamFailure, reused: boolean): boolean {
  return failure === 'reset-before-response' && reused;
}

/** A failure without a response: connect failure, reset, refused stream, per-try timeout. */
export function retriableFailure(p: RetryPolicy, failure: UpstreamFailure): boolean {
  const on = p.on;
  switch (failure) {
    case 'connect-failure':
      return (
        on.has('connect-failure') ||
        on.has('5xx') ||
        on.has('gateway-error') ||
        on.has('reset') ||
        on.has('reset-before-request')
      );
    case 'refused-stream':
      return on.has('refused-stream') || on.has('5xx') || on.has('reset');
    case 'reset-before-response':
    case 'protocol-error':
      return on.has('reset') || on.has('5xx') || on.has('gateway-error');
    case 'timeout':
      return on.has('5xx') || on.has('gateway-error') || on.has('reset');
    default:
      return false;
  }
}

/** Back-off before retry number `n` (1 = first retry). */
export function backoffMs(p: RetryPolicy, n: number, random: () => number): number {
  const ceiling = Math.min(p.maxIntervalMs, (2 ** n - 1) * p.baseIntervalMs);
  return Math.floor(random() * ceiling);
}
