// Fault injection settings (envoy.filters.http.fault HTTPFault), as the filter and per-route
// overrides use them.
import type { HeaderPredicate } from '../convert/matchers.js';

export interface FaultConfig {
  readonly delay?: { readonly ms: number; readonly fraction: number };
  readonly abort?:
    | { readonly httpStatus: number; readonly fraction: number }
    | { readonly grpcStatus: number; readonly fraction: number };
  /** All must match for a fault to apply. */
  readonly headers: readonly HeaderPredicate[];
  /** Only requests routed to this cluster, when set. */
  readonly upstreamCluster?: string;
  /** At most this many requests delayed or aborted at once; undefined = no limit. */
  readonly maxActiveFaults?: number;
}
