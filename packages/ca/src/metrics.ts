// The CA's metrics, with Istio's citadel_* names where they exist. The counts are counters named as
// Istio names them, without "_total" (core's renderer exports names exactly as written).
import { metrics as otel, type Meter } from '@opentelemetry/api';

/** From a millisecond (a P-256 signature) to ten seconds (a CA starved of CPU). */
export const SIGN_SECONDS_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

export type CsrResult =
  'success' | 'unauthenticated' | 'permission_denied' | 'invalid_argument' | 'sign_error';

export interface CaMetrics {
  /** Counts one CSR and its outcome; `signSeconds` only for signed ones. */
  record(result: CsrResult, signSeconds?: number): void;
}

/** Instruments on `meter` (default: the global, no-op unless a provider is registered). `rootExpiry` is read at scrape time. */
export function caMetrics(rootExpiry: () => Date, meter: Meter = otel.getMeter('ca')): CaMetrics {
  const csrs = meter.createCounter('citadel_server_csr_count', {
    description: 'CSRs received by the CA',
  });
  const issued = meter.createCounter('citadel_server_success_cert_issuance_count', {
    description: 'Certificates issued',
  });
  const signErrors = meter.createCounter('citadel_server_csr_sign_error_count', {
    description: 'CSRs that could not be signed',
  });
  const authnErrors = meter.createCounter('citadel_server_authentication_failure_count', {
    description: 'CSRs from unauthenticated callers',
  });
  const rejected = meter.createCounter('citadel_server_csr_rejected_count', {
    description: 'CSRs refused, by reason',
  });
  const latency = meter.createHistogram('citadel_server_csr_sign_seconds', {
    description: 'Time to verify and sign a CSR',
    unit: 's',
    // Seconds, as recorded: the SDK's default buckets (0 .. 10000) are meant for milliseconds.
    advice: { explicitBucketBoundaries: SIGN_SECONDS_BUCKETS },
  });
  meter
    .createObservableGauge('citadel_server_root_cert_expiry_timestamp', {
      description: 'Unix time (s) when the root certificate expires',
    })
    .addCallback((r) => r.observe(rootExpiry().getTime() / 1000));
  return {
    record(result, signSeconds) {
      csrs.add(1);
      if (result === 'success') {
        issued.add(1);
        if (signSeconds !== undefined) latency.record(signSeconds);
      } else if (result === 'sign_error') signErrors.add(1);
      else if (result === 'unauthenticated') authnErrors.add(1);
      else rejected.add(1, { reason: result });
    },
  };
}
