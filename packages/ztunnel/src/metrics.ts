// Istio's TCP metrics, with Istio's names and labels so existing dashboards work. Declared here for
// the proxies: each connection builds its labels once with `trafficLabels` and bumps the counters
// (a labels object is resolved to its series once: pass the same object to every counter).
import type { Attributes, Meter } from '@opentelemetry/api';
import { createIstioTcpCounters, type IstioTcpCounters } from '@trellis/core';
import type { WorkloadIdentity } from '@trellis/pki';
import type { Service, Workload } from './state/model.js';
import { workloadSpiffeId } from './state/model.js';

/** Istio's istio_tcp_* counters (@trellis/core). */
export type TrafficMetrics = IstioTcpCounters;

export const createTrafficMetrics = (meter: Meter): TrafficMetrics => createIstioTcpCounters(meter);

/** "-" means none; the others are Istio's response flags for L4 failures. */
export type ResponseFlags =
  '-' | 'DENY' | 'CONNECT' | 'TLS_FAILURE' | 'H2_HANDSHAKE_FAILURE' | 'IDENTITY_ERROR';

export interface TrafficParties {
  /** "source" on the client side (outbound), "destination" on the server side (inbound). */
  readonly reporter: 'source' | 'destination';
  readonly source?: Workload;
  /** The peer identity proven by mTLS; the only source of source_principal. */
  readonly sourceIdentity?: WorkloadIdentity;
  readonly destination?: Workload;
  readonly destinationService?: Service;
  /** "mutual_tls" when the connection was HBONE/mTLS, else "unknown". */
  readonly securityPolicy: 'mutual_tls' | 'unknown';
  readonly responseFlags?: ResponseFlags;
}

const UNKNOWN = 'unknown';
const or = (v: string | undefined) => (v ? v : UNKNOWN);

/** The label set of one connection, every label present ("unknown" when not known). */
export function trafficLabels(p: TrafficParties): Attributes {
  const src = p.source;
  const dst = p.destination;
  const svc = p.destinationService;
  const id = p.sourceIdentity;
  return {
    reporter: p.reporter,
    source_workload: or(src?.workloadName),
    source_canonical_service: or(src?.canonicalName),
    source_canonical_revision: or(src?.canonicalRevision),
    source_workload_namespace: or(src?.namespace ?? id?.namespace),
    source_principal: id
      ? `spiffe://${id.trustDomain}/ns/${id.namespace}/sa/${id.serviceAccount}`
      : UNKNOWN,
    source_app: or(src?.canonicalName),
    source_version: or(src?.canonicalRevision),
    source_cluster: or(src?.clusterId),
    destination_service: or(svc?.hostname),
    destination_service_namespace: or(svc?.namespace),
    destination_service_name: or(svc?.name),
    destination_workload: or(dst?.workloadName),
    destination_canonical_service: or(dst?.canonicalName),
    destination_canonical_revision: or(dst?.canonicalRevision),
    destination_workload_namespace: or(dst?.namespace),
    destination_principal: dst ? workloadSpiffeId(dst) : UNKNOWN,
    destination_app: or(dst?.canonicalName),
    destination_version: or(dst?.canonicalRevision),
    destination_cluster: or(dst?.clusterId),
    request_protocol: 'tcp',
    response_flags: p.responseFlags ?? '-',
    connection_security_policy: p.securityPolicy,
  };
}
