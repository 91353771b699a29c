// Shared pieces of the validating converters: the result type, and field checks that say which
// field is wrong and why (the reason becomes a NACK's error_detail). Pure.
import type {
  GatewayAddress as XdsGatewayAddress,
  NetworkAddress as XdsNetworkAddress,
  Port as XdsPort,
} from '@trellis/api/gen/istio/workload/workload_pb.js';
import { ipFromBytes, maxPrefix, type Cidr } from '../../net/ip.js';
import type { GatewayAddress, NetworkAddress, PortMapping } from '../model.js';

/** A converted value, or the reason the message was refused. */
export type Converted<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

/** Thrown inside a converter; `convert` turns it into `{ ok: false, reason }`. */
export class Invalid extends Error {}

/** Runs a converter body, turning an `Invalid` into a reason. Other errors are bugs and propagate. */
export function convert<T>(body: () => T): Converted<T> {
  try {
    return { ok: true, value: body() };
  } catch (err) {
    if (err instanceof Invalid) return { ok: false, reason: err.message };
    throw err;
  }
}

export function invalid(field: string, problem: string): never {
  throw new Invalid(`${field}: ${problem}`);
}

/** 4 or 16 bytes -> canonical IP string. */
export function ipField(bytes: Uint8Array, field: string): string {
  const ip = ipFromBytes(bytes);
  if (ip === undefined) {
    invalid(field, `${bytes.length} bytes; an IP address has 4 (IPv4) or 16 (IPv6)`);
  }
  return ip;
}

/**
 * Address bytes plus prefix length -> Cidr. IPv4-mapped IPv6 becomes IPv4, its prefix counted
 * within the 32 IPv4 bits. `length` undefined means a single host.
 */
export function cidrField(bytes: Uint8Array, length: number | undefined, field: string): Cidr {
  const address = ipField(bytes, `${field}.address`);
  const bits = bytes.length * 8;
  const full = length ?? bits;
  if (full > bits) invalid(`${field}.length`, `prefix length ${full} is above ${bits}`);
  const offset = bits - maxPrefix(bytes);
  if (full < offset)
    invalid(
      `${field}.length`,
      `prefix length ${full} of an IPv4-mapped address is below ${offset}`,
    );
  return { address, prefixLength: full - offset };
}

export function portField(value: number, field: string, opts: { allowZero: boolean }): number {
  const min = opts.allowZero ? 0 : 1;
  if (!Number.isInteger(value) || value < min || value > 65535) {
    invalid(field, `port ${value} is outside ${min}-65535`);
  }
  return value;
}

/** Maps a protobuf enum number to our name; numbers the table lacks are refused. */
export function enumField<T>(value: number, table: Readonly<Record<number, T>>, field: string): T {
  const name = table[value];
  if (name === undefined) {
    invalid(field, `unknown value ${value}; known: ${Object.keys(table).join(', ')}`);
  }
  return name;
}

export function requiredString(value: string, field: string): string {
  if (value === '') invalid(field, 'is required');
  return value;
}

export function networkAddress(msg: XdsNetworkAddress, field: string): NetworkAddress {
  return { network: msg.network, address: ipField(msg.address, `${field}.address`) };
}

const DEFAULT_HBONE_PORT = 15008;

export function gatewayAddress(msg: XdsGatewayAddress, field: string): GatewayAddress {
  const hbonePort =
    msg.hboneMtlsPort === 0
      ? DEFAULT_HBONE_PORT
      : portField(msg.hboneMtlsPort, `${field}.hbone_mtls_port`, { allowZero: false });
  const dest = msg.destination;
  switch (dest.case) {
    case 'hostname':
      return {
        destination: {
          kind: 'hostname',
          namespace: requiredString(dest.value.namespace, `${field}.hostname.namespace`),
          hostname: requiredString(dest.value.hostname, `${field}.hostname.hostname`),
        },
        hbonePort,
      };
    case 'address':
      return {
        destination: { kind: 'address', ...networkAddress(dest.value, `${field}.address`) },
        hbonePort,
      };
    default:
      return invalid(field, 'destination is missing (neither hostname nor address is set)');
  }
}

/**
 * Port mappings. A Kubernetes Service lists a port once per protocol (kube-dns: 53/UDP and 53/TCP)
 * and WDS carries no protocol, so a repeat with the same target is one mapping; a repeat with
 * another target is ambiguous and refused.
 */
export function portMappings<T extends object = object>(
  ports: readonly XdsPort[],
  field: string,
  extra: (port: XdsPort, index: number) => T = () => ({}) as T,
): (PortMapping & T)[] {
  const seen = new Map<number, number>();
  const out: (PortMapping & T)[] = [];
  ports.forEach((p, i) => {
    const servicePort = portField(p.servicePort, `${field}[${i}].service_port`, {
      allowZero: false,
    });
    const targetPort = portField(p.targetPort, `${field}[${i}].target_port`, { allowZero: true });
    const earlier = seen.get(servicePort);
    if (earlier === targetPort) return;
    if (earlier !== undefined)
      invalid(
        `${field}[${i}].service_port`,
        `port ${servicePort} is listed twice with different target ports (${earlier} and ${targetPort})`,
      );
    seen.set(servicePort, targetPort);
    out.push({ servicePort, targetPort, ...extra(p, i) });
  });
  return out;
}
