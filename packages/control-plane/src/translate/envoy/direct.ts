// Workload-addressed traffic at a waypoint (`istio.io/waypoint-for: workload | all`): a pod bound
// to the waypoint through `istio.io/use-waypoint` (on itself or its namespace) has the traffic
// addressed to its own IP sent by the source ztunnel to the waypoint, the CONNECT naming
// `podIP:port`. As Istio's waypoint does, two filter chains match every bound pod IP on any port:
// `direct-http` (application protocols http/1.1, h2c: HTTP detected in the first bytes) with the
// L7 policy of the waypoint (policies and RequestAuthentications bound to its Gateway or
// GatewayClass, selector ones of its pods; Service-bound ones are for service traffic) and one
// route to the original destination, and `direct-tcp` with the L4 part of that policy. Both send
// to `direct|<waypoint>`, an ORIGINAL_DST cluster: the destination is the CONNECT target, reached
// by HBONE with the identity its metadata table (`trellis.original_dst`) names. Pure.
import { create } from '@bufbuild/protobuf';
import { packAny } from '@trellis/api';
import {
  Cluster_DiscoveryType,
  Cluster_LbPolicy,
  ClusterSchema,
  type Cluster,
} from '@trellis/api/gen/envoy/config/cluster/v3/cluster_pb.js';
import { MetadataSchema } from '@trellis/api/gen/envoy/config/core/v3/base_pb.js';
import {
  FilterChainMatchSchema,
  type FilterChain,
} from '@trellis/api/gen/envoy/config/listener/v3/listener_components_pb.js';
import type { RouteConfiguration } from '@trellis/api/gen/envoy/config/route/v3/route_pb.js';
import {
  RouteActionSchema,
  RouteMatchSchema,
  RouteSchema,
} from '@trellis/api/gen/envoy/config/route/v3/route_components_pb.js';
import {
  HttpProtocolOptions_UseDownstreamHttpConfigSchema,
  HttpProtocolOptionsSchema,
} from '@trellis/api/gen/envoy/extensions/upstreams/http/v3/http_protocol_options_pb.js';
import type { WaypointInfo } from '../../model/waypoint-info.js';
import type { WorkloadInfo } from '../../model/workload-info.js';
import { cidrRange } from './common.js';
import { durationFromMs } from './duration.js';
import { istioWorkload } from './endpoints.js';
import { httpChain, tcpChain } from './listeners.js';
import { NoteSink, type EnvoyNote } from './notes.js';
import { networkRbacFilters, rbacFilters } from './rbac.js';
import { routeConfiguration } from './route-config.js';
import { waypointAuth, type WaypointSelected } from './service-resources.js';
import type { EnvoyState } from './state.js';

export const DIRECT_HTTP_CHAIN = 'direct-http';
export const DIRECT_TCP_CHAIN = 'direct-tcp';
/** RDS name of the workload-addressed HTTP chain. */
export const DIRECT_ROUTE_CONFIG = 'direct-http';
/** The application protocols the waypoint's protocol detection reports for HTTP. */
export const HTTP_APP_PROTOCOLS = ['http/1.1', 'h2c'];

/** The ORIGINAL_DST cluster of a waypoint's workload-addressed traffic. */
export function directClusterName(waypoint: WaypointInfo): string {
  return `direct|${waypoint.key}`;
}

/** What the workloads bound to a waypoint contribute to its set. */
export interface DirectContribution {
  readonly chains: readonly FilterChain[];
  readonly route: RouteConfiguration;
  readonly cluster: Cluster;
  readonly notes: readonly EnvoyNote[];
}

const UPSTREAM_HTTP = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';
const CONNECT_TIMEOUT_MS = 10_000;

/** Workloads bound to `waypoint` with an address, in uid order. */
export function boundWorkloads(state: EnvoyState, waypoint: string): WorkloadInfo[] {
  const out: WorkloadInfo[] = [];
  for (const w of state.workloads.values())
    if (w.waypoint?.waypoint === waypoint && w.addresses.length > 0) out.push(w);
  return out;
}

/** The chains, route and cluster for `workloads` (bound to `waypoint`); undefined when none. */
export function directContribution(
  state: EnvoyState,
  waypoint: WaypointInfo,
  workloads: readonly WorkloadInfo[],
  selected: WaypointSelected,
): DirectContribution | undefined {
  if (workloads.length === 0) return undefined;
  const notes = new NoteSink();
  const { trustDomain } = state.options;
  const { policies, jwt } = waypointAuth(state, waypoint, undefined, selected, notes);
  const cluster = directClusterName(waypoint);
  const ranges = workloads.flatMap((w) => w.addresses.map((ip) => cidrRange(ip)!));
  const http = httpChain(
    DIRECT_HTTP_CHAIN,
    create(FilterChainMatchSchema, {
      prefixRanges: ranges,
      applicationProtocols: HTTP_APP_PROTOCOLS,
    }),
    DIRECT_ROUTE_CONFIG,
    [...(jwt ? [jwt] : []), ...rbacFilters(policies, trustDomain, notes)],
  );
  const tcp = tcpChain(
    DIRECT_TCP_CHAIN,
    create(FilterChainMatchSchema, { prefixRanges: ranges }),
    cluster,
    networkRbacFilters(policies, trustDomain, notes),
  );
  // Istio's inbound default: no route timeout.
  const route = routeConfiguration(DIRECT_ROUTE_CONFIG, [
    create(RouteSchema, {
      name: 'default',
      match: create(RouteMatchSchema, { pathSpecifier: { case: 'prefix', value: '/' } }),
      action: {
        case: 'route',
        value: create(RouteActionSchema, {
          clusterSpecifier: { case: 'cluster', value: cluster },
          timeout: durationFromMs(0),
        }),
      },
    }),
  ]);
  return {
    chains: [http, tcp],
    route,
    cluster: originalDstCluster(cluster, workloads),
    notes: notes.notes,
  };
}

/**
 * ORIGINAL_DST, the downstream's HTTP protocol upstream, and per bound IP how to reach it:
 * `{tunnel: hbone, identity}` for HBONE workloads, the Istio workload string for telemetry.
 */
function originalDstCluster(name: string, workloads: readonly WorkloadInfo[]): Cluster {
  const table: Record<string, Record<string, string>> = {};
  for (const w of workloads)
    for (const ip of w.addresses)
      table[ip] = {
        ...(w.tunnel === 'HBONE' ? { tunnel: 'hbone' } : {}),
        ...(w.identity ? { identity: w.identity } : {}),
        workload: istioWorkload(w),
      };
  return create(ClusterSchema, {
    name,
    clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.ORIGINAL_DST },
    lbPolicy: Cluster_LbPolicy.CLUSTER_PROVIDED,
    connectTimeout: durationFromMs(CONNECT_TIMEOUT_MS),
    typedExtensionProtocolOptions: {
      [UPSTREAM_HTTP]: packAny(
        HttpProtocolOptionsSchema,
        create(HttpProtocolOptionsSchema, {
          upstreamProtocolOptions: {
            case: 'useDownstreamProtocolConfig',
            value: create(HttpProtocolOptions_UseDownstreamHttpConfigSchema),
          },
        }),
      ),
    },
    metadata: create(MetadataSchema, { filterMetadata: { trellis: { original_dst: table } } }),
  });
}
