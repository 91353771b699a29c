// DestinationRule traffic policies -> a waypoint cluster's load balancing, circuit breakers and
// outlier detection (and the route hash policy that consistent hashing needs), as Istio maps them:
//   loadBalancer.simple ROUND_ROBIN | LEAST_REQUEST | RANDOM (PASSTHROUGH unsupported);
//   consistentHash {httpHeaderName | httpCookie | useSourceIp | httpQueryParameterName} with
//   ringHash (default) or maglev;
//   connectionPool.tcp.maxConnections -> max_connections, connectTimeout; http.http1MaxPendingRequests
//   -> max_pending_requests, http2MaxRequests -> max_requests, maxRetries, maxRequestsPerConnection,
//   idleTimeout;
//   outlierDetection consecutive5xxErrors / consecutiveGatewayErrors (enforced at 100%),
//   consecutiveLocalOriginFailures with splitExternalLocalOriginErrors, interval, baseEjectionTime,
//   maxEjectionPercent, minHealthPercent -> healthy panic threshold.
//   tls SIMPLE / MUTUAL -> the cluster's TLS transport socket (client-tls.ts);
//   portLevelSettings: for the cluster of that service port, each field set (loadBalancer,
//   connectionPool, outlierDetection, tls) replaces the top-level one, as Istio merges them.
// The rule for a service: same namespace first, then the root namespace; host by FQDN or short
// name (resolved in the rule's namespace). Subsets are not used (only VirtualService routes select
// them, and routing here is Gateway API): `destinationRuleNotes` says so. Pure.
import { create } from '@bufbuild/protobuf';
import {
  CircuitBreakers_ThresholdsSchema,
  CircuitBreakersSchema,
} from '@trellis/api/gen/envoy/config/cluster/v3/circuit_breaker_pb.js';
import {
  Cluster_CommonLbConfigSchema,
  Cluster_LbPolicy,
  Cluster_RingHashLbConfigSchema,
  type Cluster,
} from '@trellis/api/gen/envoy/config/cluster/v3/cluster_pb.js';
import { OutlierDetectionSchema } from '@trellis/api/gen/envoy/config/cluster/v3/outlier_detection_pb.js';
import { HttpProtocolOptionsSchema } from '@trellis/api/gen/envoy/config/core/v3/protocol_pb.js';
import {
  RouteAction_HashPolicySchema,
  type RouteAction_HashPolicy,
} from '@trellis/api/gen/envoy/config/route/v3/route_components_pb.js';
import { PercentSchema } from '@trellis/api/gen/envoy/type/v3/percent_pb.js';
import { oldestFirst } from '../../collections/meta.js';
import type { DestinationRule, TrafficPolicy } from '../../model/istio-networking.js';
import type { ServiceInfo, ServicePortInfo } from '../../model/service-info.js';
import { clientTlsSocket } from './client-tls.js';
import { durationFromMs } from './duration.js';
import { MetadataSchema } from '@trellis/api/gen/envoy/config/core/v3/base_pb.js';
import type { RouteConfiguration } from '@trellis/api/gen/envoy/config/route/v3/route_pb.js';
import { edsCluster, speaksHttp2 } from './clusters.js';
import { NoteSink } from './notes.js';
import type { ClusterRef } from './route-context.js';

/** Istio durations ("1s", "500ms", "1m", "1h30m"; also fractional seconds "1.5s"). */
export function istioDurationMs(text: string | undefined): number | undefined {
  if (typeof text !== 'string') return undefined;
  const m = /^(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+)ms)?$/.exec(text.trim());
  if (!m || text.trim() === '') return undefined;
  const [, h, min, s, ms] = m;
  return (Number(h ?? 0) * 3600 + Number(min ?? 0) * 60 + Number(s ?? 0)) * 1000 + Number(ms ?? 0);
}

/** The DestinationRule that applies to `service`: its namespace's, else the root namespace's. */
export function destinationRuleFor(
  rules: readonly DestinationRule[] | undefined,
  service: ServiceInfo,
  rootNamespace: string,
): DestinationRule | undefined {
  const matches = (dr: DestinationRule): boolean => {
    const host = dr.spec.host;
    const ns = dr.metadata.namespace;
    if (host === service.hostname) return true;
    if (!host.includes('.')) return ns === service.namespace && host === service.name;
    if (host === `${service.name}.${service.namespace}`) return true;
    if (host.startsWith('*.')) return service.hostname.endsWith(host.slice(1));
    return false;
  };
  const candidates = (rules ?? []).filter(matches);
  const oldest = (list: DestinationRule[]) => list.sort(oldestFirst)[0];
  return (
    oldest(candidates.filter((d) => d.metadata.namespace === service.namespace)) ??
    oldest(candidates.filter((d) => d.metadata.namespace === rootNamespace))
  );
}

/** The policy of one service port: a port-level setting's fields replace the top-level ones. */
export function policyForPort(tp: TrafficPolicy, port: number): TrafficPolicy {
  const p = tp.portLevelSettings?.find((s) => s.port === port);
  if (!p) return tp;
  return {
    ...tp,
    ...(p.loadBalancer ? { loadBalancer: p.loadBalancer } : {}),
    ...(p.connectionPool ? { connectionPool: p.connectionPool } : {}),
    ...(p.outlierDetection ? { outlierDetection: p.outlierDetection } : {}),
    ...(p.tls ? { tls: p.tls } : {}),
  };
}

/**
 * Applies the rule's traffic policy for service port `port` to `cluster` in place; what cannot be
 * honoured is noted.
 */
export function applyTrafficPolicy(
  cluster: Cluster,
  dr: DestinationRule,
  port: ServicePortInfo,
  notes: NoteSink,
): void {
  const object = `${dr.metadata.namespace}/${dr.metadata.name}`;
  const note = (m: string) => notes.add('DestinationRule', object, m);
  const tp = policyForPort(dr.spec.trafficPolicy, port.port);
  const tls = clientTlsSocket(tp.tls, speaksHttp2(port));
  if (tls.problem) note(`port ${port.port}: ${tls.problem}`);
  if (tls.socket) cluster.transportSocket = tls.socket;
  const lb = tp.loadBalancer;
  if (lb?.simple !== undefined) {
    const policy = {
      ROUND_ROBIN: Cluster_LbPolicy.ROUND_ROBIN,
      LEAST_REQUEST: Cluster_LbPolicy.LEAST_REQUEST,
      LEAST_CONN: Cluster_LbPolicy.LEAST_REQUEST,
      RANDOM: Cluster_LbPolicy.RANDOM,
      UNSPECIFIED: Cluster_LbPolicy.ROUND_ROBIN,
    }[lb.simple];
    if (policy === undefined)
      note(`loadBalancer.simple ${lb.simple} is not supported; round robin is used`);
    else cluster.lbPolicy = policy;
  }
  const ch = lb?.consistentHash;
  if (ch) {
    if (ch.maglev) cluster.lbPolicy = Cluster_LbPolicy.MAGLEV;
    else {
      cluster.lbPolicy = Cluster_LbPolicy.RING_HASH;
      const min = ch.ringHash?.minimumRingSize ?? ch.minimumRingSize;
      if (min !== undefined)
        cluster.lbConfig = {
          case: 'ringHashLbConfig',
          value: create(Cluster_RingHashLbConfigSchema, { minimumRingSize: BigInt(min) }),
        };
    }
  }
  const cp = tp.connectionPool;
  const limits: Record<string, number> = {};
  if (cp?.tcp?.maxConnections !== undefined) limits['maxConnections'] = cp.tcp.maxConnections;
  if (cp?.http?.http1MaxPendingRequests !== undefined)
    limits['maxPendingRequests'] = cp.http.http1MaxPendingRequests;
  if (cp?.http?.http2MaxRequests !== undefined) limits['maxRequests'] = cp.http.http2MaxRequests;
  if (cp?.http?.maxRetries !== undefined) limits['maxRetries'] = cp.http.maxRetries;
  if (Object.keys(limits).length > 0)
    cluster.circuitBreakers = create(CircuitBreakersSchema, {
      thresholds: [create(CircuitBreakers_ThresholdsSchema, limits)],
    });
  const connectTimeout = istioDurationMs(cp?.tcp?.connectTimeout);
  if (cp?.tcp?.connectTimeout !== undefined && connectTimeout === undefined)
    note(`connectionPool.tcp.connectTimeout "${cp.tcp.connectTimeout}" is not a duration`);
  if (connectTimeout !== undefined) cluster.connectTimeout = durationFromMs(connectTimeout);
  const idle = istioDurationMs(cp?.http?.idleTimeout);
  if (idle !== undefined || cp?.http?.maxRequestsPerConnection !== undefined)
    cluster.commonHttpProtocolOptions = create(HttpProtocolOptionsSchema, {
      ...(idle !== undefined ? { idleTimeout: durationFromMs(idle) } : {}),
      ...(cp?.http?.maxRequestsPerConnection !== undefined
        ? { maxRequestsPerConnection: cp.http.maxRequestsPerConnection }
        : {}),
    });
  const od = tp.outlierDetection;
  if (od) {
    const interval = istioDurationMs(od.interval);
    const base = istioDurationMs(od.baseEjectionTime);
    const gateway = od.consecutiveGatewayErrors;
    // Istio: consecutive5xxErrors 0 turns 5xx ejection off; unset means Envoy's default (5).
    cluster.outlierDetection = create(OutlierDetectionSchema, {
      ...(od.consecutive5xxErrors !== undefined
        ? od.consecutive5xxErrors === 0
          ? { enforcingConsecutive5xx: 0 }
          : { consecutive5xx: od.consecutive5xxErrors, enforcingConsecutive5xx: 100 }
        : {}),
      ...(gateway !== undefined && gateway > 0
        ? { consecutiveGatewayFailure: gateway, enforcingConsecutiveGatewayFailure: 100 }
        : {}),
      ...(od.splitExternalLocalOriginErrors ? { splitExternalLocalOriginErrors: true } : {}),
      ...(od.consecutiveLocalOriginFailures !== undefined
        ? {
            consecutiveLocalOriginFailure: od.consecutiveLocalOriginFailures,
            enforcingConsecutiveLocalOriginFailure: 100,
          }
        : {}),
      ...(interval !== undefined ? { interval: durationFromMs(interval) } : {}),
      ...(base !== undefined ? { baseEjectionTime: durationFromMs(base) } : {}),
      ...(od.maxEjectionPercent !== undefined ? { maxEjectionPercent: od.maxEjectionPercent } : {}),
      // Istio leaves success-rate ejection off.
      enforcingSuccessRate: 0,
    });
    if (od.minHealthPercent !== undefined)
      cluster.commonLbConfig = create(Cluster_CommonLbConfigSchema, {
        healthyPanicThreshold: create(PercentSchema, { value: od.minHealthPercent }),
      });
  }
}

/** The route hash policy a consistent-hash rule needs (Envoy hashes on the route, balances on the cluster). */
export function hashPolicies(
  dr: DestinationRule | undefined,
  port: number,
): RouteAction_HashPolicy[] {
  const ch = dr && policyForPort(dr.spec.trafficPolicy, port).loadBalancer?.consistentHash;
  if (!ch) return [];
  if (ch.httpHeaderName)
    return [
      create(RouteAction_HashPolicySchema, {
        policySpecifier: { case: 'header', value: { headerName: ch.httpHeaderName } },
      }),
    ];
  if (ch.httpCookie?.name)
    return [
      create(RouteAction_HashPolicySchema, {
        policySpecifier: {
          case: 'cookie',
          value: { name: ch.httpCookie.name, path: ch.httpCookie.path ?? '' },
        },
      }),
    ];
  if (ch.useSourceIp)
    return [
      create(RouteAction_HashPolicySchema, {
        policySpecifier: { case: 'connectionProperties', value: { sourceIp: true } },
      }),
    ];
  if (ch.httpQueryParameterName)
    return [
      create(RouteAction_HashPolicySchema, {
        policySpecifier: { case: 'queryParameter', value: { name: ch.httpQueryParameterName } },
      }),
    ];
  return [];
}

/**
 * A waypoint's cluster: EDS (HTTP/2 upstream for gRPC/HTTP2 ports), Istio's metadata naming the
 * service (telemetry's destination_service) and the service's DestinationRule traffic policy.
 */
export function waypointCluster(
  ref: ClusterRef,
  rules: readonly DestinationRule[],
  rootNamespace: string,
): Cluster {
  const { service } = ref;
  const cluster = edsCluster(ref.cluster, { http2: speaksHttp2(ref.port) });
  cluster.metadata = create(MetadataSchema, {
    filterMetadata: {
      istio: {
        services: [{ host: service.hostname, name: service.name, namespace: service.namespace }],
      },
    },
  });
  const dr = destinationRuleFor(rules, service, rootNamespace);
  // What cannot be honoured is noted by the service that uses the cluster (noteTrafficPolicies).
  if (dr) applyTrafficPolicy(cluster, dr, ref.port, new NoteSink());
  return cluster;
}

/** The problems of the traffic policies of `clusters`, as notes of their DestinationRules. */
export function noteTrafficPolicies(
  clusters: ReadonlyMap<string, ClusterRef>,
  rules: readonly DestinationRule[],
  rootNamespace: string,
  notes: NoteSink,
): void {
  if (rules.length === 0) return;
  for (const ref of clusters.values()) {
    const dr = destinationRuleFor(rules, ref.service, rootNamespace);
    if (dr) applyTrafficPolicy(edsCluster(ref.cluster, { http2: false }), dr, ref.port, notes);
  }
}

/** Consistent hashing needs a hash policy on the routes that send to the cluster. */
export function addHashPolicies(
  configs: readonly RouteConfiguration[],
  clusters: ReadonlyMap<string, ClusterRef>,
  rules: readonly DestinationRule[],
  rootNamespace: string,
): void {
  if (rules.length === 0) return;
  const byCluster = new Map<string, RouteAction_HashPolicy[]>();
  for (const { cluster, service, port } of clusters.values()) {
    const hp = hashPolicies(destinationRuleFor(rules, service, rootNamespace), port.port);
    if (hp.length > 0) byCluster.set(cluster, hp);
  }
  if (byCluster.size === 0) return;
  for (const config of configs)
    for (const vh of config.virtualHosts)
      for (const r of vh.routes) {
        if (r.action.case !== 'route') continue;
        const spec = r.action.value.clusterSpecifier;
        const first =
          spec.case === 'cluster'
            ? spec.value
            : spec.case === 'weightedClusters'
              ? spec.value.clusters[0]?.name
              : undefined;
        const hp = first !== undefined ? byCluster.get(first) : undefined;
        if (hp) r.action.value.hashPolicy = hp;
      }
}

/**
 * What the control plane says about DestinationRules whatever proxies ask for (logged once, shown
 * in /debug/configz): subsets are not used, since only VirtualService routes select them and
 * VirtualService is not read (routing is Gateway API; DESIGN.md's contract).
 */
export function destinationRuleNotes(
  rules: readonly DestinationRule[],
): { kind: 'DestinationRule'; object: string; message: string }[] {
  return rules
    .filter((dr) => dr.spec.subsets.length > 0)
    .map((dr) => ({
      kind: 'DestinationRule' as const,
      object: `${dr.metadata.namespace}/${dr.metadata.name}`,
      message: `subsets (${dr.spec.subsets.join(', ')}) are ignored: only VirtualService routes select subsets, and Trellis routes with Gateway API (HTTPRoute/GRPCRoute backendRefs name Services; make a Service per version instead)`,
    }));
}
