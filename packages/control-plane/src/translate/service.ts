// ServiceInfo -> istio.workload.Address{service}, named `<namespace>/<hostname>`.
import { create } from '@bufbuild/protobuf';
import {
  AddressSchema,
  AppProtocol,
  IPFamilies,
  LoadBalancing_HealthPolicy,
  LoadBalancing_Mode,
  LoadBalancing_Scope,
  LoadBalancingSchema,
  NetworkAddressSchema,
  PortSchema,
  ServiceSchema,
  type Address,
  type LoadBalancing,
} from '@trellis/api/gen/istio/workload/workload_pb.js';
import type { LoadBalancingInfo, ServiceInfo } from '../model/service-info.js';
import { gatewayAddress, requireIp } from './gateway-address.js';

export function serviceAddress(s: ServiceInfo): Address {
  const service = create(ServiceSchema, {
    name: s.name,
    namespace: s.namespace,
    hostname: s.hostname,
    addresses: s.vips.map((v) =>
      create(NetworkAddressSchema, { network: v.network, address: requireIp(v.ip) }),
    ),
    ports: s.ports.map((p) =>
      create(PortSchema, {
        servicePort: p.port,
        targetPort: p.targetPort,
        appProtocol: AppProtocol[p.appProtocol],
      }),
    ),
    waypoint: s.waypoint ? gatewayAddress(s.waypoint.address) : undefined,
    loadBalancing: s.loadBalancing ? loadBalancing(s.loadBalancing) : undefined,
    ipFamilies: IPFamilies[s.ipFamilies],
    // A Kubernetes Service owns its hostname; other definitions of it are namespace-local overrides.
    canonical: true,
    ingressUseWaypoint: s.ingressUseWaypoint,
  });
  return create(AddressSchema, { type: { case: 'service', value: service } });
}

function loadBalancing(lb: LoadBalancingInfo): LoadBalancing {
  return create(LoadBalancingSchema, {
    routingPreference: lb.routingPreference.map((s) => LoadBalancing_Scope[s]),
    mode:
      lb.mode === 'UNSPECIFIED' ? LoadBalancing_Mode.UNSPECIFIED_MODE : LoadBalancing_Mode[lb.mode],
    healthPolicy: LoadBalancing_HealthPolicy[lb.healthPolicy],
  });
}
