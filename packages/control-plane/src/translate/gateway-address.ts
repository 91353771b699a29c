// GatewayAddressInfo -> istio.workload.GatewayAddress.
import { create } from '@bufbuild/protobuf';
import {
  GatewayAddressSchema,
  NamespacedHostnameSchema,
  NetworkAddressSchema,
  type GatewayAddress,
} from '@trellis/api/gen/istio/workload/workload_pb.js';
import { ipBytes } from '../collections/ip-text.js';
import type { GatewayAddressInfo } from '../model/waypoint-info.js';

export function gatewayAddress(a: GatewayAddressInfo): GatewayAddress {
  if (a.kind === 'hostname') {
    return create(GatewayAddressSchema, {
      destination: {
        case: 'hostname',
        value: create(NamespacedHostnameSchema, { namespace: a.namespace, hostname: a.hostname }),
      },
      hboneMtlsPort: a.hbonePort,
    });
  }
  return create(GatewayAddressSchema, {
    destination: {
      case: 'address',
      value: create(NetworkAddressSchema, { network: a.network, address: requireIp(a.ip) }),
    },
    hboneMtlsPort: a.hbonePort,
  });
}

/** IPs reaching the translators were validated by the collections; anything else is a bug. */
export function requireIp(ip: string): Uint8Array {
  const bytes = ipBytes(ip);
  if (!bytes) throw new Error(`not an IP address: "${ip}"`);
  return bytes;
}
