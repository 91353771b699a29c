// EDS: the endpoints of one service port as a ClusterLoadAssignment, grouped by locality.
import { create } from '@bufbuild/protobuf';
import { LocalitySchema, MetadataSchema } from '@trellis/api/gen/envoy/config/core/v3/base_pb.js';
import { HealthStatus } from '@trellis/api/gen/envoy/config/core/v3/health_check_pb.js';
import {
  ClusterLoadAssignmentSchema,
  type ClusterLoadAssignment,
} from '@trellis/api/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import {
  EndpointSchema,
  LbEndpointSchema,
  LocalityLbEndpointsSchema,
  type LbEndpoint,
} from '@trellis/api/gen/envoy/config/endpoint/v3/endpoint_components_pb.js';
import type { ServiceInfo, ServicePortInfo } from '../../model/service-info.js';
import type { WorkloadInfo } from '../../model/workload-info.js';
import { socketAddress } from './common.js';

export interface EndpointOptions {
  /**
   * Add endpoint metadata for a waypoint: `envoy.transport_socket_match: {tunnel: hbone}` when the
   * workload takes HBONE, `trellis: {identity, workload}` for the peer certificate check, and
   * Istio's `istio: {workload: "name;ns;canonical-service;revision;cluster"}` for telemetry.
   */
  readonly meshMetadata: boolean;
}

/**
 * Endpoints that serve: Ready workloads (every workload when the service publishes not-ready
 * addresses), at workload IP and the resolved target port; duplicates of an ip:port are dropped.
 */
export function clusterLoadAssignment(
  clusterName: string,
  service: ServiceInfo,
  port: ServicePortInfo,
  workloads: readonly WorkloadInfo[],
  options: EndpointOptions,
): ClusterLoadAssignment {
  const allowAll = service.loadBalancing?.healthPolicy === 'ALLOW_ALL';
  const byLocality = new Map<
    string,
    { locality: WorkloadInfo['locality']; endpoints: LbEndpoint[] }
  >();
  const seen = new Set<string>();
  for (const w of workloads) {
    if (!w.healthy && !allowAll) continue;
    const target = w.services[service.key]?.find((p) => p.servicePort === port.port)?.targetPort;
    const ip = w.addresses[0];
    if (!target || ip === undefined) continue;
    const key = `${ip}|${target}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const l = w.locality;
    const localityKey = l ? `${l.region}/${l.zone}/${l.subzone}` : '';
    let group = byLocality.get(localityKey);
    if (!group) byLocality.set(localityKey, (group = { locality: l, endpoints: [] }));
    group.endpoints.push(lbEndpoint(w, ip, target, options));
  }
  const localities = [...byLocality.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return create(ClusterLoadAssignmentSchema, {
    clusterName,
    endpoints: localities.map(([, g]) =>
      create(LocalityLbEndpointsSchema, {
        locality: create(LocalitySchema, {
          region: g.locality?.region ?? '',
          zone: g.locality?.zone ?? '',
          subZone: g.locality?.subzone ?? '',
        }),
        lbEndpoints: g.endpoints,
        // Weighted by size so that every endpoint gets an equal share across localities.
        loadBalancingWeight: g.endpoints.length,
      }),
    ),
  });
}

function lbEndpoint(
  w: WorkloadInfo,
  ip: string,
  port: number,
  options: EndpointOptions,
): LbEndpoint {
  const endpoint = create(LbEndpointSchema, {
    hostIdentifier: {
      case: 'endpoint',
      value: create(EndpointSchema, { address: socketAddress(ip, port) }),
    },
    healthStatus: HealthStatus.HEALTHY,
  });
  if (options.meshMetadata) {
    const filterMetadata: Record<string, { [k: string]: string }> = {
      trellis: { workload: w.uid, ...(w.identity ? { identity: w.identity } : {}) },
      // Istio's telemetry labels of the workload: name;namespace;canonical service;revision;cluster.
      istio: { workload: istioWorkload(w) },
    };
    if (w.tunnel === 'HBONE') filterMetadata['envoy.transport_socket_match'] = { tunnel: 'hbone' };
    endpoint.metadata = create(MetadataSchema, { filterMetadata });
  }
  return endpoint;
}

/** Istio's telemetry labels of a workload: `name;namespace;canonical service;revision;cluster`. */
export function istioWorkload(w: WorkloadInfo): string {
  return [
    w.workloadName || w.name,
    w.namespace,
    w.canonicalName,
    w.canonicalRevision,
    w.clusterId,
  ].join(';');
}
