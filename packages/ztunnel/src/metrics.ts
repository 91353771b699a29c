// Istio's TCP metrics, with Istio's names and labels so existing dashboards work. Declared here for
// the proxies: each connection builds its labels once with `trafficLabels` and bumps the counters.
import type { Attributes, Counter, Meter } from '@opentelemetry/api';
import type { WorkloadIdentity } from '@trellis/pki';
import type { Service, Workload } from './state/model.js';
import { workloadSpiffeId } from './state/model.js';

export interface TrafficMetrics {
  /** istio_tcp_connections_opened_total */
  readonly connectionsOpened: Counter;
  /** istio_tcp_connections_closed_total */
  readonly connectionsClosed: Counter;
  /** istio_tcp_connections_failed_total: connections that could not be established. */
  readonly connectionsFailed: Counter;
  /** istio_tcp_received_bytes_total: bytes from the client (downstream) to the server. */
  readonly receivedBytes: Counter;
  /** istio_tcp_sent_bytes_total: bytes from the server back to the client. */
  readonly sentBytes: Counter;
}

export function createTrafficMetrics(meter: Meter): TrafficMetrics {
  return {
    connectionsOpened: meter.createCounter('istio_tcp_connections_opened_total', {
      description: 'TCP connections opened',
    }),
    connectionsClosed: meter.createCounter('istio_tcp_connections_closed_total', {
      description: 'TCP connections closed',
    }),
    connectionsFailed: meter.createCounter('istio_tcp_connections_failed_total', {
      description: 'TCP connections that failed to be established',
    }),
    receivedBytes: meter.createCounter('istio_tcp_received_bytes_total', {
      description: 'Bytes received from the client on TCP connections',
    }),
    sentBytes: meter.createCounter('istio_tcp_sent_bytes_total', {
      description: 'Bytes sent to the client on TCP connections',
    }),
  };
}

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
