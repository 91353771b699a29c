// The host routes of load-balancer addresses: one /32 per address on the cluster's bridge, via
// the node(s) that should receive its traffic (several nodes: an equal-cost multipath route).
// The kernel drops them with the bridge, so `cluster delete` leaves none behind.
import { run } from '../exec.js';
import { inRange, ipv4ToInt, type HostRoute, type LbRange } from './range.pure.js';

interface JsonRoute {
  dst: string;
  dev?: string;
  gateway?: string;
  protocol?: string;
  nexthops?: Array<{ gateway?: string; dev?: string }>;
}

async function routes(args: string[]): Promise<JsonRoute[]> {
  const r = await run('ip', ['-4', '-j', 'route', 'show', ...args]);
  return r.stdout.trim() ? (JSON.parse(r.stdout) as JsonRoute[]) : [];
}

/** Every route of every table of the host (for the range checks of `cluster create`). */
export async function hostRoutes(): Promise<HostRoute[]> {
  return (await routes(['table', 'all'])).map((r) => ({
    dst: r.dst,
    dev: r.dev ?? r.nexthops?.[0]?.dev,
  }));
}

/** The host routes of the range's addresses on `bridge`: address -> next hops, sorted. */
export async function lbRoutes(bridge: string, range: LbRange): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const r of await routes([])) {
    const devs = r.nexthops ? r.nexthops.map((h) => h.dev) : [r.dev];
    if (r.dst.includes('/') || !inRange(range, r.dst) || !devs.every((d) => d === bridge)) continue;
    const hops = r.nexthops ? r.nexthops.map((h) => h.gateway ?? '') : [r.gateway ?? ''];
    out.set(
      r.dst,
      hops.sort((a, b) => (ipv4ToInt(a) ?? 0) - (ipv4ToInt(b) ?? 0)),
    );
  }
  return out;
}

export async function setLbRoute(bridge: string, ip: string, via: string[]): Promise<void> {
  const hops =
    via.length === 1
      ? ['via', via[0]!, 'dev', bridge]
      : via.flatMap((v) => ['nexthop', 'via', v, 'dev', bridge]);
  await run('ip', ['route', 'replace', `${ip}/32`, ...hops]);
}

/** Deletes the route of an address lbRoutes found on the bridge. */
export async function deleteLbRoute(ip: string): Promise<void> {
  await run('ip', ['route', 'del', `${ip}/32`], { allowFailure: true });
}
