// istio.workload.Workload -> Workload, or the reason it is refused. Pure.
import type { Result } from '@trellis/core';
import {
  TunnelProtocol,
  type Workload as XdsWorkload,
} from '@trellis/api/gen/istio/workload/workload_pb.js';
import type {
  ApplicationTunnel,
  HealthStatus,
  InboundProtocol,
  NetworkMode,
  PortMapping,
  Workload,
  WorkloadType,
} from '../model.js';
import {
  convert,
  enumField,
  gatewayAddress,
  invalid,
  ipField,
  portField,
  portMappings,
  requiredString,
} from './common.js';

const PROTOCOLS: Record<number, InboundProtocol> = {
  [TunnelProtocol.NONE]: 'TCP',
  [TunnelProtocol.HBONE]: 'HBONE',
};
const STATUSES: Record<number, HealthStatus> = { 0: 'Healthy', 1: 'Unhealthy' };
const NETWORK_MODES: Record<number, NetworkMode> = { 0: 'Standard', 1: 'HostNetwork' };
const WORKLOAD_TYPES: Record<number, WorkloadType> = {
  0: 'deployment',
  1: 'cronjob',
  2: 'pod',
  3: 'job',
};
const APP_TUNNEL_PROTOCOLS: Record<number, ApplicationTunnel['protocol']> = {
  0: 'NONE',
  1: 'PROXY',
};

export function convertWorkload(msg: XdsWorkload): Result<Workload> {
  return convert(() => {
    const uid = requiredString(msg.uid, 'uid');
    const where = (field: string) => `workload ${JSON.stringify(uid)}: ${field}`;
    if (msg.tunnelProtocol === TunnelProtocol.LEGACY_ISTIO_MTLS) {
      invalid(where('tunnel_protocol'), 'LEGACY_ISTIO_MTLS is not supported');
    }
    const services: Record<string, PortMapping[]> = {};
    for (const [key, list] of Object.entries(msg.services)) {
      const slash = key.indexOf('/');
      if (slash <= 0 || slash === key.length - 1) {
        invalid(where(`services[${JSON.stringify(key)}]`), 'key must be "<namespace>/<hostname>"');
      }
      services[key] = portMappings(list.ports, where(`services[${JSON.stringify(key)}].ports`));
    }
    const tunnel = msg.applicationTunnel;
    const workload: Workload = {
      uid,
      name: msg.name,
      namespace: requiredString(msg.namespace, where('namespace')),
      addresses: msg.addresses.map((a, i) => ipField(a, where(`addresses[${i}]`))),
      hostname: msg.hostname,
      network: msg.network,
      protocol: enumField(msg.tunnelProtocol, PROTOCOLS, where('tunnel_protocol')),
      trustDomain: msg.trustDomain || 'cluster.local',
      serviceAccount: msg.serviceAccount || 'default',
      ...(msg.waypoint ? { waypoint: gatewayAddress(msg.waypoint, where('waypoint')) } : {}),
      ...(msg.networkGateway
        ? { networkGateway: gatewayAddress(msg.networkGateway, where('network_gateway')) }
        : {}),
      node: msg.node,
      canonicalName: msg.canonicalName,
      canonicalRevision: msg.canonicalRevision,
      workloadType: enumField(msg.workloadType, WORKLOAD_TYPES, where('workload_type')),
      workloadName: msg.workloadName,
      nativeTunnel: msg.nativeTunnel,
      ...(tunnel
        ? {
            applicationTunnel: {
              protocol: enumField(
                tunnel.protocol,
                APP_TUNNEL_PROTOCOLS,
                where('application_tunnel.protocol'),
              ),
              ...(tunnel.port !== 0
                ? {
                    port: portField(tunnel.port, where('application_tunnel.port'), {
                      allowZero: false,
                    }),
                  }
                : {}),
            },
          }
        : {}),
      services,
      authorizationPolicies: [...msg.authorizationPolicies],
      status: enumField(msg.status, STATUSES, where('status')),
      clusterId: msg.clusterId || 'Kubernetes',
      locality: {
        region: msg.locality?.region ?? '',
        zone: msg.locality?.zone ?? '',
        subzone: msg.locality?.subzone ?? '',
      },
      networkMode: enumField(msg.networkMode, NETWORK_MODES, where('network_mode')),
      capacity: msg.capacity ?? 1,
    };
    return workload;
  });
}
