// WorkloadInfo -> istio.workload.Address{workload}, named by its uid.
import { create } from '@bufbuild/protobuf';
import {
  AddressSchema,
  LocalitySchema,
  NetworkMode,
  PortListSchema,
  PortSchema,
  TunnelProtocol,
  WorkloadSchema,
  WorkloadStatus,
  WorkloadType,
  type Address,
  type PortList,
} from '@trellis/api/gen/istio/workload/workload_pb.js';
import type { WorkloadInfo } from '../model/workload-info.js';
import { gatewayAddress, requireIp } from './gateway-address.js';

/** ztunnel assumes this trust domain when the field is empty, so Istio leaves it out. */
const DEFAULT_TRUST_DOMAIN = 'cluster.local';

export function workloadAddress(w: WorkloadInfo): Address {
  const services: Record<string, PortList> = {};
  for (const [key, ports] of Object.entries(w.services)) {
    services[key] = create(PortListSchema, { ports: ports.map((p) => create(PortSchema, p)) });
  }
  const workload = create(WorkloadSchema, {
    uid: w.uid,
    name: w.name,
    namespace: w.namespace,
    addresses: w.addresses.map(requireIp),
    network: w.network,
    tunnelProtocol: w.tunnel === 'HBONE' ? TunnelProtocol.HBONE : TunnelProtocol.NONE,
    trustDomain: w.trustDomain === DEFAULT_TRUST_DOMAIN ? '' : w.trustDomain,
    serviceAccount: w.serviceAccount,
    waypoint: w.waypoint ? gatewayAddress(w.waypoint.address) : undefined,
    node: w.node,
    canonicalName: w.canonicalName,
    canonicalRevision: w.canonicalRevision,
    // Istio reports every pod as POD for compatibility with older ztunnels.
    workloadType: w.source === 'Pod' ? WorkloadType.POD : WorkloadType.DEPLOYMENT,
    workloadName: w.workloadName,
    nativeTunnel: w.nativeTunnel,
    services,
    authorizationPolicies: w.authorizationPolicies,
    status: w.healthy ? WorkloadStatus.HEALTHY : WorkloadStatus.UNHEALTHY,
    clusterId: w.clusterId,
    locality: w.locality ? create(LocalitySchema, w.locality) : undefined,
    networkMode: w.hostNetwork ? NetworkMode.HOST_NETWORK : NetworkMode.STANDARD,
  });
  return create(AddressSchema, { type: { case: 'workload', value: workload } });
}
