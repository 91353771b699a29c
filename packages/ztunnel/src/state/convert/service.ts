// istio.workload.Service -> Service, or the reason it is refused. Pure.
import type { Service as XdsService } from '@trellis/api/gen/istio/workload/workload_pb.js';
import { ipToBytes, maxPrefix } from '../../net/ip.js';
import type {
  AppProtocol,
  LoadBalancing,
  LoadBalancingMode,
  LoadBalancingScope,
  NetworkAddress,
  NetworkCidr,
  Service,
  ServicePort,
} from '../model.js';
import {
  cidrField,
  convert,
  enumField,
  gatewayAddress,
  invalid,
  portMappings,
  requiredString,
  type Converted,
} from './common.js';

const APP_PROTOCOLS: Record<number, AppProtocol> = {
  0: 'UNKNOWN',
  1: 'HTTP11',
  2: 'HTTP2',
  3: 'GRPC',
  4: 'TCP',
  5: 'TLS',
};
const SCOPES: Record<number, LoadBalancingScope> = {
  1: 'REGION',
  2: 'ZONE',
  3: 'SUBZONE',
  4: 'NODE',
  5: 'CLUSTER',
  6: 'NETWORK',
};
const MODES: Record<number, LoadBalancingMode> = {
  0: 'Standard',
  1: 'Strict',
  2: 'Failover',
  3: 'Passthrough',
};
const HEALTH_POLICIES: Record<number, LoadBalancing['healthPolicy']> = {
  0: 'OnlyHealthy',
  1: 'AllowAll',
};
const IP_FAMILIES: Record<number, Service['ipFamilies']> = {
  0: 'Automatic',
  1: 'IPv4Only',
  2: 'IPv6Only',
  3: 'Dual',
};

export function convertService(msg: XdsService): Converted<Service> {
  return convert(() => {
    const namespace = requiredString(msg.namespace, 'namespace');
    const hostname = requiredString(msg.hostname, 'hostname');
    const where = (field: string) => `service "${namespace}/${hostname}": ${field}`;

    const vips: NetworkAddress[] = [];
    const cidrVips: NetworkCidr[] = [];
    msg.addresses.forEach((a, i) => {
      const range = cidrField(a.address, a.length, where(`addresses[${i}]`));
      if (range.prefixLength === maxPrefix(ipToBytes(range.address)!)) {
        vips.push({ network: a.network, address: range.address });
      } else {
        cidrVips.push({ network: a.network, ...range });
      }
    });

    const ports: ServicePort[] = portMappings(msg.ports, where('ports'), (p, i) => ({
      appProtocol: enumField(p.appProtocol, APP_PROTOCOLS, where(`ports[${i}].app_protocol`)),
    }));

    const lb = msg.loadBalancing;
    const service: Service = {
      name: msg.name,
      namespace,
      hostname,
      vips,
      cidrVips,
      ports,
      subjectAltNames: [...msg.subjectAltNames],
      ...(msg.waypoint ? { waypoint: gatewayAddress(msg.waypoint, where('waypoint')) } : {}),
      weightedWaypoints: msg.weightedWaypoints.map((w, i) => {
        if (!w.destination) invalid(where(`weighted_waypoints[${i}].destination`), 'is required');
        return {
          destination: gatewayAddress(w.destination, where(`weighted_waypoints[${i}].destination`)),
          weight: w.weight,
        };
      }),
      ...(lb
        ? {
            loadBalancing: {
              routingPreference: lb.routingPreference.map((s, i) =>
                enumField(s, SCOPES, where(`load_balancing.routing_preference[${i}]`)),
              ),
              mode: enumField(lb.mode, MODES, where('load_balancing.mode')),
              healthPolicy: enumField(
                lb.healthPolicy,
                HEALTH_POLICIES,
                where('load_balancing.health_policy'),
              ),
            },
          }
        : {}),
      ipFamilies: enumField(msg.ipFamilies, IP_FAMILIES, where('ip_families')),
      canonical: msg.canonical,
      ingressUseWaypoint: msg.ingressUseWaypoint,
      // An unknown visibility falls back to PUBLIC (as upstream ztunnel does) instead of refusing
      // the whole service.
      visibility: msg.visibility === 1 ? 'Namespace' : 'Public',
    };
    return service;
  });
}
