// The CA's metrics, with Istio's citadel_* names where they exist. The counts are up-down
// counters that only go up: the Prometheus exporter would append "_total" to a counter, and
// Istio's dashboards use the names without it.
import { metrics as otel, type Meter } from '@opentelemetry/api';

export type CsrResult =
  'success' | 'unauthenticated' | 'permission_denied' | 'invalid_argument' | 'sign_error';

export interface CaMetrics {
  /** Counts one CSR and its outcome; `signSeconds` only for signed ones. */
  record(result: CsrResult, signSeconds?: number): void;
}

/** Instruments on `meter` (default: the global, no-op unless a provider is registered). `rootExpiry` is read at scrape time. */
export function caMetrics(rootExpiry: () => Date, meter: Meter = otel.getMeter('ca')): CaMetrics {
  const csrs = meter.createUpDownCounter('citadel_server_csr_count', {
    description: 'CSRs received by the CA',
  });
  const issued = meter.createUpDownCounter('citadel_server_success_cert_issuance_count', {
    description: 'Certificates issued',
  });
  const signErrors = meter.createUpDownCounter('citadel_server_csr_sign_error_count', {
    description: 'CSRs that could not be signed',
  });
  const authnErrors = meter.createUpDownCounter('citadel_server_authentication_failure_count', {
    description: 'CSRs from unauthenticated callers',
  });
  const rejected = meter.createUpDownCounter('citadel_server_csr_rejected_count', {
    description: 'CSRs refused, by reason',
  });
  const latency = meter.createHistogram('citadel_server_csr_sign_seconds', {
    description: 'Time to verify and sign a CSR',
    unit: 's',
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
