// CIDR ranges compiled to predicates over IP strings (RBAC ip matchers, filter chain prefix
// ranges). Addresses become eight 16-bit groups; IPv4 (and IPv4-mapped IPv6) is matched in its
// own family. Pure.
import { canonicalIp } from '@trellis/hbone';

/** Eight 16-bit groups of an address, IPv4 as ::ffff:a.b.c.d; undefined when not an IP. */
export function ipGroups(ip: string): { v4: boolean; groups: number[] } | undefined {
  const c = canonicalIp(ip);
  if (c === undefined) return undefined;
  if (!c.includes(':')) {
    const o = c.split('.').map(Number);
    return {
      v4: true,
      groups: [0, 0, 0, 0, 0, 0xffff, (o[0]! << 8) | o[1]!, (o[2]! << 8) | o[3]!],
    };
  }
  const [head = '', tail] = c.split('::');
  const h = head === '' ? [] : head.split(':').map((g) => parseInt(g, 16));
  const t = tail === undefined || tail === '' ? [] : tail.split(':').map((g) => parseInt(g, 16));
  const groups =
    tail === undefined ? h : [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  return { v4: false, groups };
}

export interface CidrRange {
  readonly address: string;
  readonly prefixLen: number;
}

export type IpPredicate = (ip: string) => boolean;

/** A predicate for `address/prefixLen`; throws an Error saying what is wrong. */
export function cidrPredicate(address: string, prefixLen: number | undefined): IpPredicate {
  const net = ipGroups(address);
  if (!net) throw new Error(`"${address}" is not an IP address`);
  const bits = net.v4 ? 32 : 128;
  const len = prefixLen ?? bits;
  if (len < 0 || len > bits) throw new Error(`prefix length ${len} must be 0 to ${bits}`);
  const total = net.v4 ? 96 + len : len;
  const want = net.groups;
  return (ip) => {
    const g = ipGroups(ip);
    if (!g || g.v4 !== net.v4) return false;
    let left = total;
    for (let i = 0; i < 8 && left > 0; i++, left -= 16) {
      const mask = left >= 16 ? 0xffff : (0xffff << (16 - left)) & 0xffff;
      if ((g.groups[i]! & mask) !== (want[i]! & mask)) return false;
    }
    return true;
  };
}
