// The address range LoadBalancer Services of one local cluster get their addresses from: parsing
// the `--lb-range` option, the per-cluster default, and the checks that keep a range clear of the
// host's networks and of every local cluster's own blocks. IPv4 only, like the local cluster.

/** An inclusive range of IPv4 addresses, as 32-bit unsigned integers, and how it was written. */
export interface LbRange {
  readonly text: string;
  readonly first: number;
  readonly last: number;
}

/** A route of the host's routing tables, as `ip -j route show table all` reports it. */
export interface HostRoute {
  readonly dst: string;
  readonly dev?: string;
}

/** Blocks every local cluster derives from its slot (see layout.pure.ts): nodes, services, pods. */
const CLUSTER_BLOCKS: ReadonlyArray<readonly [string, string]> = [
  ['172.28.0.0/20', 'the local clusters’ node networks'],
  ['10.96.0.0/12', 'the local clusters’ service ranges'],
  ['10.240.0.0/12', 'the local clusters’ pod ranges'],
];

/** Not unicast, or not meant for hosts. */
const SPECIAL_BLOCKS: ReadonlyArray<readonly [string, string]> = [
  ['0.0.0.0/8', '"this network"'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local'],
  ['224.0.0.0/4', 'multicast'],
  ['240.0.0.0/4', 'reserved (and broadcast)'],
];

/** Within its own node network a cluster keeps .0-.63 for the host (.1) and its nodes (.11-.60). */
const NODE_ADDRESSES_PREFIX = 26;

export function ipv4ToInt(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const parts = m.slice(1).map((p) => (p.length > 1 && p.startsWith('0') ? 256 : Number(p)));
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!;
}

export function intToIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** Parses "A.B.C.D/N" (host bits zero) into its first and last address, or says what is wrong. */
function parseCidrBlock(text: string): { first: number; last: number } | string {
  const [addr, len, ...rest] = text.split('/');
  const base = ipv4ToInt(addr ?? '');
  if (base === undefined || rest.length) return `"${addr}" is not an IPv4 address`;
  if (len === undefined) return { first: base, last: base };
  if (!/^\d{1,2}$/.test(len) || Number(len) > 32) return `prefix length "${len}" must be 0 to 32`;
  const size = 2 ** (32 - Number(len));
  if (base % size !== 0)
    return `${text} has host bits set; the block is ${intToIpv4(base - (base % size))}/${len}`;
  return { first: base, last: base + size - 1 };
}

function block(text: string): { first: number; last: number } {
  const b = parseCidrBlock(text);
  if (typeof b === 'string') throw new Error(b);
  return b;
}

const overlaps = (a: { first: number; last: number }, b: { first: number; last: number }) =>
  a.first <= b.last && b.first <= a.last;

/** The most addresses a range may hold (a /16): one host route each. */
export const MAX_RANGE_SIZE = 65536;

/**
 * Parses the `--lb-range` option: an IPv4 CIDR ("10.200.0.0/28") or an inclusive range
 * ("10.200.0.10-10.200.0.20"). Throws an error saying what is wrong.
 */
export function parseLbRange(text: string): LbRange {
  const bad = (why: string) =>
    new Error(
      `invalid --lb-range "${text}": ${why} (give an IPv4 CIDR such as 10.200.0.0/28 or a range such as 10.200.0.10-10.200.0.20)`,
    );
  const trimmed = text.trim();
  let first: number;
  let last: number;
  if (trimmed.includes('-')) {
    const [a, b, ...rest] = trimmed.split('-').map((s) => s.trim());
    const fa = ipv4ToInt(a ?? '');
    const fb = ipv4ToInt(b ?? '');
    if (rest.length || fa === undefined || fb === undefined)
      throw bad('a range is two IPv4 addresses joined by "-"');
    if (fb < fa) throw bad(`${b} comes before ${a}`);
    [first, last] = [fa, fb];
  } else {
    if (!trimmed.includes('/'))
      throw bad(
        ipv4ToInt(trimmed) === undefined
          ? 'not an IPv4 CIDR or range'
          : 'a single address is not a range; write it as A.B.C.D/32',
      );
    const b = parseCidrBlock(trimmed);
    if (typeof b === 'string') throw bad(b);
    ({ first, last } = b);
    // The network and broadcast addresses of a block are left out, as on any subnet.
    if (last - first >= 3) [first, last] = [first + 1, last - 1];
  }
  if (last - first + 1 > MAX_RANGE_SIZE)
    throw bad(`${last - first + 1} addresses is more than ${MAX_RANGE_SIZE} (a /16)`);
  for (const [cidr, what] of SPECIAL_BLOCKS)
    if (overlaps({ first, last }, block(cidr))) throw bad(`it overlaps ${cidr}, ${what}`);
  return { text: trimmed, first, last };
}

export function rangeSize(r: LbRange): number {
  return r.last - r.first + 1;
}

export function inRange(r: LbRange, ip: string): boolean {
  const n = ipv4ToInt(ip);
  return n !== undefined && n >= r.first && n <= r.last;
}

/** True when every address of the range lies in the IPv4 CIDR `cidr`. */
export function rangeWithin(r: LbRange, cidr: string): boolean {
  const b = block(cidr);
  return r.first >= b.first && r.last <= b.last;
}

/** The fewest CIDR blocks that together hold exactly the range (for routes in the nodes). */
export function coveringCidrs(r: LbRange): string[] {
  const out: string[] = [];
  let start = r.first;
  while (start <= r.last) {
    let size = 1;
    while (start % (size * 2) === 0 && start + size * 2 - 1 <= r.last) size *= 2;
    out.push(`${intToIpv4(start)}/${32 - Math.log2(size)}`);
    start += size;
  }
  return out;
}

export interface RangeContext {
  /** The cluster's node network, e.g. 172.28.3.0/24: its upper part is the cluster's to use. */
  readonly nodeSubnet: string;
  /** The cluster's bridge: routes on it are the cluster's own. */
  readonly bridge: string;
  /** The ranges other local clusters on this host use. */
  readonly otherClusters: ReadonlyArray<{ name: string; range: LbRange }>;
  /** The host's routes in every table. */
  readonly hostRoutes: readonly HostRoute[];
}

/**
 * Says why `r` cannot serve a cluster, or undefined when it can: it must stay off the blocks of
 * every local cluster (except the upper part of this cluster's own node network), off the ranges
 * of other clusters, and off every network the host routes elsewhere.
 */
export function rangeConflict(r: LbRange, ctx: RangeContext): string | undefined {
  const where = `--lb-range ${r.text} (${intToIpv4(r.first)}-${intToIpv4(r.last)})`;
  const own = block(ctx.nodeSubnet);
  const nodeAddrs = block(`${ctx.nodeSubnet.split('/')[0]}/${NODE_ADDRESSES_PREFIX}`);
  if (r.first >= own.first && r.last <= own.last) {
    if (overlaps(r, nodeAddrs))
      return `${where} overlaps ${intToIpv4(nodeAddrs.first)}/${NODE_ADDRESSES_PREFIX}, the host and node addresses of this cluster; use addresses above ${intToIpv4(nodeAddrs.last)}`;
  } else {
    for (const [cidr, what] of CLUSTER_BLOCKS)
      if (overlaps(r, block(cidr))) return `${where} overlaps ${cidr}, ${what}`;
  }
  for (const o of ctx.otherClusters)
    if (overlaps(r, o.range))
      return `${where} overlaps the range ${o.range.text} of local cluster "${o.name}"`;
  for (const route of ctx.hostRoutes) {
    if (route.dst === 'default' || route.dev === ctx.bridge) continue;
    const b = parseCidrBlock(route.dst);
    if (typeof b === 'string') continue;
    if (overlaps(r, b))
      return `${where} overlaps the host's route to ${route.dst}${route.dev ? ` on ${route.dev}` : ''}`;
  }
  return undefined;
}

/**
 * Two addresses to test requested addresses with (the conformance runner passes them to the
 * Gateway API suite): `usable`, the highest of the range that does not end in .0 or .255 (the
 * controller gives addresses out from the bottom, so it is the last to be taken), and `unusable`,
 * the address just below the range (or above it), which the controller refuses.
 */
export function requestableAddresses(r: LbRange): { usable: string; unusable: string } {
  let n = r.last;
  while (n > r.first && (n % 256 === 0 || n % 256 === 255)) n--;
  return { usable: intToIpv4(n), unusable: intToIpv4(r.first > 0 ? r.first - 1 : r.last + 1) };
}
