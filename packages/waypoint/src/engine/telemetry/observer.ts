// Per-exchange telemetry: a span started when the request arrives (W3C traceparent in and out),
// Istio request metrics and a JSON access-log line when it is over.
import type { ClusterRuntime } from '../upstream/cluster.js';
import type { ExchangeObserver } from '../proxy/context.js';
import type { Exchange } from '../proxy/exchange.js';
import type { AccessLog } from './access-log.js';
import type { PeerLabels } from './peer.js';
import { RequestMetrics, type RequestLabels } from './request-metrics.js';
import { workloadLabels, type Destination } from './workload-labels.js';
import type { RequestTracer } from './tracing.js';

export interface ObserverOptions {
  /** Istio's reporter label: "waypoint" for waypoints, "source" for gateways. */
  readonly reporter: string;
  readonly metrics: RequestMetrics;
  readonly accessLog?: AccessLog;
  readonly tracer?: RequestTracer;
  readonly cluster: (name: string) => ClusterRuntime | undefined;
}

/** destination_service from cluster metadata (istio.services[0].host) or Istio's cluster name. */
export function destinationOf(
  clusterName: string,
  cluster: ClusterRuntime | undefined,
): Destination {
  let host: string | undefined;
  const services = cluster?.config.metadata.get('istio')?.['services'];
  if (Array.isArray(services) && services.length > 0) {
    const first = services[0] as Record<string, unknown>;
    if (typeof first['host'] === 'string') host = first['host'];
  }
  if (host === undefined) {
    const parts = clusterName.split('|');
    if (parts.length === 4 && parts[3]) host = parts[3];
  }
  if (host === undefined)
    return { service: 'unknown', serviceName: 'unknown', serviceNamespace: 'unknown' };
  const labels = host.split('.');
  return {
    service: host,
    serviceName: labels[0] ?? 'unknown',
    serviceNamespace: labels.length > 2 && labels[2] === 'svc' ? labels[1]! : 'unknown',
  };
}

const connKeys = new WeakMap<PeerLabels, number>();
const destCache = new Map<string, Destination>();
/**
 * Small numbers for the long parts of a series key (peer labels, cluster name, host), so the key
 * built per request is short: hashing it is what a lookup costs.
 */
const partIds = new Map<string, number>();
function partId(s: string): number {
  let id = partIds.get(s);
  if (id === undefined) {
    id = partIds.size;
    partIds.set(s, id);
  }
  return id;
}

export function createObserver(o: ObserverOptions): ExchangeObserver {
  return {
    started(ex) {
      o.tracer?.start(ex);
    },
    finished(ex) {
      o.tracer?.end(ex);
      const peer = ex.conn.peer;
      let ck = connKeys.get(peer);
      if (ck === undefined) {
        ck = partId(
          `${peer.principal}|${peer.workload}|${peer.namespace}|${peer.canonicalService}|${peer.canonicalRevision}|${peer.cluster}|${ex.conn.security}`,
        );
        connKeys.set(peer, ck);
      }
      const host = ex.upstreamHost;
      const protocol = ex.grpc ? 'grpc' : 'http';
      const grpcStatus = ex.grpcStatus === undefined ? '' : String(ex.grpcStatus);
      const key = `${ck}|${partId(ex.clusterName)}|${host ? partId(host.key) : ''}|${protocol}|${ex.responseStatus}|${grpcStatus}|${ex.responseFlags}`;
      o.metrics.record(
        key,
        () => labels(o, ex, protocol, grpcStatus),
        ex.durationMs,
        ex.requestBytes,
        ex.responseBytes,
      );
      o.accessLog?.request(ex);
    },
  };
}

function labels(
  o: ObserverOptions,
  ex: Exchange,
  protocol: string,
  grpcStatus: string,
): RequestLabels {
  const peer = ex.conn.peer;
  let dest = destCache.get(ex.clusterName);
  if (!dest) {
    dest = destinationOf(ex.clusterName, o.cluster(ex.clusterName));
    if (ex.clusterName !== '') destCache.set(ex.clusterName, dest);
  }
  return {
    ...workloadLabels(o.reporter, peer, ex.upstreamHost, dest),
    request_protocol: protocol,
    response_code: String(ex.responseStatus),
    grpc_response_status: grpcStatus,
    response_flags: ex.responseFlags,
    connection_security_policy: ex.conn.security,
  };
}
