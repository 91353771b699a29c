// Istio's istio_tcp_* counters, with Istio's names, for the proxies that report them (ztunnel, and
// the waypoint and gateway for connections they pass through at L4). The label sets are the
// callers'; see counter-set.ts for how they are kept.
import type { Meter } from '@opentelemetry/api';
import { createCounterSet, type LabelledCounter } from './counter-set.js';

export interface IstioTcpCounters {
  /** istio_tcp_connections_opened_total */
  readonly connectionsOpened: LabelledCounter;
  /** istio_tcp_connections_closed_total */
  readonly connectionsClosed: LabelledCounter;
  /** istio_tcp_connections_failed_total: connections that could not be established. */
  readonly connectionsFailed: LabelledCounter;
  /** istio_tcp_received_bytes_total: bytes from the client (downstream) to the server. */
  readonly receivedBytes: LabelledCounter;
  /** istio_tcp_sent_bytes_total: bytes from the server back to the client. */
  readonly sentBytes: LabelledCounter;
}

export function createIstioTcpCounters(meter: Meter): IstioTcpCounters {
  return createCounterSet(meter, [
    ['connectionsOpened', 'istio_tcp_connections_opened_total', 'TCP connections opened'],
    ['connectionsClosed', 'istio_tcp_connections_closed_total', 'TCP connections closed'],
    [
      'connectionsFailed',
      'istio_tcp_connections_failed_total',
      'TCP connections that failed to be established',
    ],
    [
      'receivedBytes',
      'istio_tcp_received_bytes_total',
      'Bytes received from the client on TCP connections',
    ],
    ['sentBytes', 'istio_tcp_sent_bytes_total', 'Bytes sent to the client on TCP connections'],
  ]);
}
