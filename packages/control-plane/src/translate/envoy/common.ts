// Small Envoy v3 building blocks shared by the translators.
import { create } from '@bufbuild/protobuf';
import {
  AddressSchema,
  CidrRangeSchema,
  SocketAddressSchema,
  type Address,
  type CidrRange,
} from '@trellis/api/gen/envoy/config/core/v3/address_pb.js';
import {
  AggregatedConfigSourceSchema,
  ApiVersion,
  ConfigSourceSchema,
  type ConfigSource,
} from '@trellis/api/gen/envoy/config/core/v3/config_source_pb.js';
import { isIP } from '../../collections/ip-text.js';

/** Fetch over the same ADS stream. */
export function adsConfigSource(): ConfigSource {
  return create(ConfigSourceSchema, {
    configSourceSpecifier: { case: 'ads', value: create(AggregatedConfigSourceSchema) },
    resourceApiVersion: ApiVersion.V3,
  });
}

export function socketAddress(ip: string, port: number): Address {
  return create(AddressSchema, {
    address: {
      case: 'socketAddress',
      value: create(SocketAddressSchema, {
        address: ip,
        portSpecifier: { case: 'portValue', value: port },
      }),
    },
  });
}

/** `10.0.0.0/8`, or a bare address as a host range; undefined when it does not parse. */
export function cidrRange(text: string): CidrRange | undefined {
  const [ip, len, ...rest] = text.trim().split('/');
  if (!ip || rest.length > 0) return undefined;
  if (!isIP(ip)) return undefined;
  const max = ip.includes(':') ? 128 : 32;
  const prefixLen = len === undefined ? max : /^\d{1,3}$/.test(len) ? Number(len) : NaN;
  if (!(prefixLen >= 0 && prefixLen <= max)) return undefined;
  return create(CidrRangeSchema, { addressPrefix: ip, prefixLen });
}
