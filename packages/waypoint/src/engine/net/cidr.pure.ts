// CIDR ranges compiled to predicates over IP strings (RBAC ip matchers, filter chain prefix
// ranges), on core's one IP parser: IPv4 (and IPv4-mapped IPv6) is matched in its own family.
// Pure.
import { cidrContains, parseCidr } from '@trellis/core';

export type IpPredicate = (ip: string) => boolean;

/** A predicate for `address/prefixLen`; throws an Error saying what is wrong. */
export function cidrPredicate(address: string, prefixLen: number | undefined): IpPredicate {
  const parsed = parseCidr(prefixLen === undefined ? address : `${address}/${prefixLen}`);
  if (!parsed.ok) throw new Error(parsed.reason);
  const cidr = parsed.value;
  return (ip) => cidrContains(cidr, ip);
}
