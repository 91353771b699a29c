// Istio's TCP metrics for connections the engine proxies at L4 (reporter as for requests):
// istio_tcp_connections_opened_total, istio_tcp_connections_closed_total,
// istio_tcp_received_bytes_total, istio_tcp_sent_bytes_total.
import type { Attributes, Counter, Meter } from '@opentelemetry/api';
import type { PeerLabels } from './peer.js';
import type { Host } from '../upstream/host.js';
import { workloadLabels, type Destination } from './workload-labels.js';

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
  destinationService: Destination,
  host: Host | undefined,
  responseFlags: string,
): Attributes {
  return {
    ...workloadLabels(reporter, peer, host, destinationService),
    request_protocol: 'tcp',
    response_flags: responseFlags,
    connection_security_policy: security,
  };
}
