// Istio's TCP metrics for connections the engine proxies at L4 (reporter as for requests):
// istio_tcp_connections_opened_total, istio_tcp_connections_closed_total,
// istio_tcp_received_bytes_total, istio_tcp_sent_bytes_total.
import type { Attributes, Meter } from '@opentelemetry/api';
import { createIstioTcpCounters } from '@trellis/core';
import type { PeerLabels } from './peer.js';
import type { Host } from '../upstream/host.js';
import { workloadLabels, type Destination } from './workload-labels.js';

export interface TcpMetrics {
  opened(a: Attributes): void;
  closed(a: Attributes, received: number, sent: number): void;
}

export function createTcpMetrics(meter: Meter | undefined): TcpMetrics {
  if (!meter) return { opened() {}, closed() {} };
  const c = createIstioTcpCounters(meter);
  return {
    opened: (a) => c.connectionsOpened.add(1, a),
    closed: (a, r, s) => {
      c.connectionsClosed.add(1, a);
      c.receivedBytes.add(r, a);
      c.sentBytes.add(s, a);
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
