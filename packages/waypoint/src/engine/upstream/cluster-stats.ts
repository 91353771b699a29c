// Envoy-style cluster statistics (circuit breakers, retries, outlier detection) as Prometheus text,
// with the names Istio's proxies export on 15020: envoy_cluster_<stat>{cluster_name="..."}.
import type { ClusterRuntime } from './cluster.js';

const COUNTERS = [
  'upstream_rq_total',
  'upstream_rq_pending_overflow',
  'upstream_rq_retry',
  'upstream_rq_retry_overflow',
  'upstream_rq_timeout',
  'upstream_cx_total',
  'upstream_cx_connect_fail',
  'upstream_cx_overflow',
] as const;

/** A Prometheus label value, escaped. */
export function esc(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
}

export function clusterStatsText(clusters: ReadonlyMap<string, ClusterRuntime>): string {
  const out: string[] = [];
  for (const stat of COUNTERS) {
    out.push(`# TYPE envoy_cluster_${stat} counter`);
    for (const [name, c] of clusters)
      out.push(`envoy_cluster_${stat}{cluster_name="${esc(name)}"} ${c.stats[stat]}`);
  }
  const gauges: [string, (c: ClusterRuntime) => number][] = [
    ['upstream_rq_pending_active', (c) => c.pending],
    ['upstream_rq_active', (c) => c.activeRequests],
    ['upstream_cx_active', (c) => c.connections],
    ['membership_total', (c) => c.hosts.length],
    ['membership_healthy', (c) => c.hosts.filter((h) => h.healthy).length],
    ['outlier_detection_ejections_active', (c) => c.hosts.filter((h) => h.ejected).length],
  ];
  for (const [stat, read] of gauges) {
    out.push(`# TYPE envoy_cluster_${stat} gauge`);
    for (const [name, c] of clusters)
      out.push(`envoy_cluster_${stat}{cluster_name="${esc(name)}"} ${read(c)}`);
  }
  out.push('# TYPE envoy_cluster_outlier_detection_ejections_enforced_total counter');
  for (const [name, c] of clusters)
    out.push(
      `envoy_cluster_outlier_detection_ejections_enforced_total{cluster_name="${esc(name)}"} ${c.outlier?.stats.ejectionsTotal ?? 0}`,
    );
  return `${out.join('\n')}\n`;
}

/** /clusters in the admin server: hosts, health, ejections, connections, counters. */
export function clustersDump(
  clusters: ReadonlyMap<string, ClusterRuntime>,
  now = Date.now(),
): unknown {
  return [...clusters].map(([name, c]) => ({
    name,
    lbPolicy: c.config.lbPolicy,
    protocol: c.config.protocol,
    circuitBreakers: c.config.limits,
    stats: {
      ...c.stats,
      pending: c.pending,
      activeRequests: c.activeRequests,
      connections: c.connections,
    },
    ...(c.outlier ? { outlierDetection: c.outlier.stats } : {}),
    hosts: c.hosts.map((h) => ({
      address: h.address,
      health: h.endpoint.health,
      hbone: h.endpoint.hbone,
      identity: h.endpoint.identity ?? null,
      weight: h.endpoint.weight,
      activeRequests: h.active,
      connections: h.connections,
      ejected: h.ejected,
      ...(h.ejected ? { ejectedForMs: Math.max(0, h.ejectedUntil - now) } : {}),
      ejections: h.ejections,
    })),
  }));
}
