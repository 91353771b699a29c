// The DNS proxy's metrics, with upstream ztunnel's names (istio_dns_*) and labels.
import type { Counter, Meter } from '@opentelemetry/api';
import { TYPE } from './message.js';

export interface DnsMetrics {
  /** istio_dns_requests_total: queries the proxy received. */
  readonly requests: Counter;
  /** istio_dns_upstream_requests_total: queries forwarded to the upstream resolver. */
  readonly upstreamRequests: Counter;
  /** istio_dns_upstream_failures_total: forwarded queries no upstream answered. */
  readonly upstreamFailures: Counter;
}

export function createDnsMetrics(meter: Meter): DnsMetrics {
  return {
    requests: meter.createCounter('istio_dns_requests_total', {
      description: 'Total number of DNS requests',
    }),
    upstreamRequests: meter.createCounter('istio_dns_upstream_requests_total', {
      description: 'Total number of DNS requests forwarded to upstream',
    }),
    upstreamFailures: meter.createCounter('istio_dns_upstream_failures_total', {
      description: 'Total number of DNS requests that failed to forward upstream',
    }),
  };
}

const TYPE_NAMES = new Map<number, string>([
  ...Object.entries(TYPE).map(([name, n]) => [n, name] as [number, string]),
  [2, 'NS'],
  [6, 'SOA'],
  [12, 'PTR'],
  [15, 'MX'],
  [16, 'TXT'],
  [33, 'SRV'],
  [65, 'HTTPS'],
]);

/** Labels of one query: request_query_type (A, AAAA, SRV, ... or TYPE<n>) and request_protocol. */
export function dnsLabels(type: number | undefined, protocol: 'udp' | 'tcp') {
  return {
    request_query_type: type === undefined ? 'unknown' : (TYPE_NAMES.get(type) ?? `TYPE${type}`),
    request_protocol: protocol,
  };
}
