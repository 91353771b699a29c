// Istio's TCP metrics for connections the engine proxies at L4 (reporter as for requests):
// istio_tcp_connections_opened_total, istio_tcp_connections_closed_total,
// istio_tcp_received_bytes_total, istio_tcp_sent_bytes_total.
import type { Attributes, Counter, Meter } from '@opentelemetry/api';
import type { PeerLabels } from './peer.js';
import type { Host } from '../upstream/host.js';

export interface TcpMetrics {
  opened(a: Attributes): void;
  closed(a: Attributes, received: number, sent: number): void;
}

export function createTcpMetrics(meter: Meter | undefined): TcpMetrics {
  if (!meter) return { opened() {}, closed() {} };
  const opened: Counter = meter.createCounter('istio_tcp_connections_opened_total', {
    description: 'TCP connections opened',
  });
  const closed: Counter = meter.createCounter('istio_tcp_connections_closed_total', {
    description: 'TCP connections closed',
  });
  const received: Counter = meter.createCounter('istio_tcp_received_bytes_total', {
    description: 'Bytes received from the client on TCP connections',
  });
  const sent: Counter = meter.createCounter('istio_tcp_sent_bytes_total', {
    description: 'Bytes sent to the client on TCP connections',
  });
  return {
    opened: (a) => opened.add(1, a),
    closed: (a, r, s) => {
      closed.add(1, a);
      received.add(r, a);
      sent.add(s, a);
    },
  };
}

export function tcpLabels(
  reporter: string,
  peer: PeerLabels,
  security: string,
  destinationService: { service: string; serviceName: string; serviceNamespace: string },
  host: Host | undefined,
  responseFlags: string,
): Attributes {
  const w = host?.endpoint.workload;
  const identity = host?.endpoint.identity;
  return {
    reporter,
    source_workload: peer.workload,
    source_canonical_service: peer.canonicalService,
    source_canonical_revision: peer.canonicalRevision,
    source_workload_namespace: peer.namespace,
    source_principal: peer.principal,
    source_app: peer.canonicalService,
    source_version: peer.canonicalRevision,
    source_cluster: peer.cluster,
    destination_workload: w?.name || 'unknown',
    destination_workload_namespace: w?.namespace || 'unknown',
    destination_principal: identity ?? 'unknown',
    destination_app: w?.canonicalService || 'unknown',
    destination_version: w?.canonicalRevision || 'unknown',
    destination_service: destinationService.service,
    destination_service_name: destinationService.serviceName,
    destination_service_namespace: destinationService.serviceNamespace,
    destination_canonical_service: w?.canonicalService || 'unknown',
    destination_canonical_revision: w?.canonicalRevision || 'latest',
    destination_cluster: w?.cluster || 'unknown',
    request_protocol: 'tcp',
    response_flags: responseFlags,
    connection_security_policy: security,
  };
}
