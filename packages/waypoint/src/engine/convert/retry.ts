// RetryPolicy -> the model, with Envoy's defaults (1 retry, 25 ms base back-off, max 10x base).
// Pure.
import type { RetryPolicy as XdsRetryPolicy } from '@trellis/api/gen/envoy/config/route/v3/route_components_pb.js';
import type { RetryPolicy } from '../model/route.js';
import { durationMs, invalid } from './common.js';

/** retry_on conditions Trellis implements (HTTP and gRPC). */
export const RETRY_ON = new Set([
  '5xx',
  'gateway-error',
  'reset',
  'reset-before-request',
  'connect-failure',
  'retriable-4xx',
  'refused-stream',
  'retriable-status-codes',
  'cancelled',
  'deadline-exceeded',
  'internal',
  'resource-exhausted',
  'unavailable',
]);

const KNOWN_HOST_PREDICATES = new Set([
  'envoy.retry_host_predicates.previous_hosts',
  'envoy.retry_host_predicates.omit_canary_hosts',
  'envoy.retry_host_predicates.omit_host_metadata',
]);

export function retryPolicy(p: XdsRetryPolicy, field: string): RetryPolicy {
  const on = new Set<string>();
  for (const raw of p.retryOn.split(',')) {
    const c = raw.trim();
    if (c === '') continue;
    if (!RETRY_ON.has(c))
      invalid(
        `${field}.retry_on`,
        `"${c}" is not supported (supported: ${[...RETRY_ON].join(', ')})`,
      );
    on.add(c);
  }
  for (const [i, code] of p.retriableStatusCodes.entries()) {
    if (code < 100 || code > 599)
      invalid(`${field}.retriable_status_codes[${i}]`, `${code} is not an HTTP status`);
  }
  if (p.retriableHeaders.length > 0) invalid(`${field}.retriable_headers`, 'not supported');
  if (p.retriableRequestHeaders.length > 0)
    invalid(`${field}.retriable_request_headers`, 'not supported');
  if (p.rateLimitedRetryBackOff) invalid(`${field}.rate_limited_retry_back_off`, 'not supported');
  let otherHosts = false;
  for (const [i, pred] of p.retryHostPredicate.entries()) {
    if (!KNOWN_HOST_PREDICATES.has(pred.name))
      invalid(`${field}.retry_host_predicate[${i}]`, `unknown predicate "${pred.name}"`);
    if (pred.name === 'envoy.retry_host_predicates.previous_hosts') otherHosts = true;
  }
  const base =
    durationMs(p.retryBackOff?.baseInterval, `${field}.retry_back_off.base_interval`) ?? 25;
  if (p.retryBackOff && base === 0)
    invalid(`${field}.retry_back_off.base_interval`, 'must be above 0');
  const max =
    durationMs(p.retryBackOff?.maxInterval, `${field}.retry_back_off.max_interval`) ?? base * 10;
  if (max < base) invalid(`${field}.retry_back_off.max_interval`, 'is below base_interval');
  return {
    on,
    numRetries: p.numRetries ?? 1,
    perTryTimeoutMs: durationMs(p.perTryTimeout, `${field}.per_try_timeout`) ?? 0,
    retriableStatusCodes: new Set(p.retriableStatusCodes),
    baseIntervalMs: base,
    maxIntervalMs: max,
    otherHosts,
    hostSelectionAttempts: Math.max(1, Number(p.hostSelectionRetryMaxAttempts)),
  };
}
