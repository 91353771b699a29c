// Picks the endpoint of a service a new connection goes to, as ztunnel does: healthy endpoints
// only (unless the service allows all), routing preferences ranked against the source workload,
// a weighted random choice by capacity, and the target port from the endpoint's own mapping,
// else the service's. Pure: the random source is passed in.
import type { PortMapping, Service, ServicePort, Workload } from './model.js';

/** A workload backing a service, with the port mappings it declared for that service. */
export interface Endpoint {
  readonly workload: Workload;
  readonly ports: readonly PortMapping[];
}

export type EndpointPick =
  | {
      readonly kind: 'endpoint';
      readonly workload: Workload;
      readonly address: string;
      readonly port: number;
    }
  /** The service's load-balancing mode is PASSTHROUGH: connect to the original destination. */
  | { readonly kind: 'passthrough' }
  | { readonly kind: 'none'; readonly reason: string };

export interface PickOptions {
  /** The connecting workload; routing preferences (STRICT/FAILOVER) are ranked against it. */
  readonly source?: Workload;
  /**
   * Picking a waypoint's endpoint: the port need not be a service port when the endpoint has an
   * application tunnel (as upstream's waypoint resolution mode).
   */
  readonly waypoint?: boolean;
  /** Returns a number in [0, 1); default Math.random. */
  readonly random?: () => number;
}

/**
 * What is known about picking an endpoint of one service for one port before the connection's
 * source is: the answer when it does not depend on the endpoints (passthrough, no such port), else
 * the usable endpoints and their running capacity totals. The state store keeps one per (service,
 * port) until the service or one of its endpoints changes, so a pick is a binary search.
 */
export interface PickPlan {
  readonly service: Service;
  readonly servicePort: number;
  /** Set when every pick for this port has this answer. */
  readonly fixed?: EndpointPick;
  readonly svcPort?: ServicePort;
  /** Usable endpoints (healthy unless the service allows all, with a target port), in order. */
  readonly candidates: readonly Endpoint[];
  /** cumulative[i] = capacity of candidates[0..i]. */
  readonly cumulative: readonly number[];
}

export function planPick(
  service: Service,
  servicePort: number,
  endpoints: readonly Endpoint[],
  waypoint: boolean,
): PickPlan {
  const base = { service, servicePort, candidates: [], cumulative: [] };
  const lb = service.loadBalancing;
  if (lb?.mode === 'Passthrough') return { ...base, fixed: { kind: 'passthrough' } };
  const svcPort = service.ports.find((p) => p.servicePort === servicePort);
  if (!svcPort && !waypoint) {
    const name = `${service.namespace}/${service.hostname}`;
    return {
      ...base,
      fixed: { kind: 'none', reason: `service ${name} has no port ${servicePort}` },
    };
  }
  const candidates = endpoints.filter(({ workload, ports }) => {
    if (workload.addresses.length === 0) return false;
    if (workload.status !== 'Healthy' && lb?.healthPolicy !== 'AllowAll') return false;
    if (waypoint) return svcPort !== undefined || workload.applicationTunnel !== undefined;
    return svcPort!.targetPort !== 0 || mappedPort(ports, servicePort) !== undefined;
  });
  const cumulative: number[] = [];
  let total = 0;
  for (const ep of candidates) cumulative.push((total += ep.workload.capacity));
  return { ...base, ...(svcPort ? { svcPort } : {}), candidates, cumulative };
}

/** Picks for one connection from a plan: routing preferences against the source, then by weight. */
export function pickFrom(
  plan: PickPlan,
  opts: { readonly source?: Workload; readonly random?: () => number } = {},
): EndpointPick {
  if (plan.fixed) return plan.fixed;
  const { service, servicePort, svcPort } = plan;
  const name = () => `${service.namespace}/${service.hostname}`;
  const lb = service.loadBalancing;
  const random = opts.random ?? Math.random;
  const ranked = lb && opts.source && (lb.mode === 'Strict' || lb.mode === 'Failover');
  const chosen = ranked
    ? weightedChoice(bestRanked(plan.candidates, lb, opts.source!), random)
    : cumulativeChoice(plan.candidates, plan.cumulative, random);
  if (!chosen) {
    return {
      kind: 'none',
      reason: `service ${name()} has no healthy endpoint for port ${servicePort}`,
    };
  }

  const port =
    mappedPort(chosen.ports, servicePort) ??
    (svcPort && svcPort.targetPort !== 0 ? svcPort.targetPort : undefined) ??
    (chosen.workload.applicationTunnel?.port !== undefined ? servicePort : undefined);
  if (port === undefined) {
    return {
      kind: 'none',
      reason: `service ${name()}: no target port known for port ${servicePort}`,
    };
  }
  return {
    kind: 'endpoint',
    workload: chosen.workload,
    address: chosen.workload.addresses[0],
    port,
  };
}

export function pickEndpoint(
  service: Service,
  servicePort: number,
  endpoints: readonly Endpoint[],
  opts: PickOptions = {},
): EndpointPick {
  return pickFrom(planPick(service, servicePort, endpoints, opts.waypoint === true), opts);
}

function mappedPort(ports: readonly PortMapping[], servicePort: number): number | undefined {
  const m = ports.find((p) => p.servicePort === servicePort);
  return m && m.targetPort !== 0 ? m.targetPort : undefined;
}

/**
 * Ranks endpoints by how many routing preferences, in order, they share with the source; keeps the
 * best rank. STRICT drops endpoints that do not match them all. A leading NETWORK preference
 * outranks every other match when the networks are equal and is skipped when they differ.
 */
function bestRanked(
  endpoints: readonly Endpoint[],
  lb: NonNullable<Service['loadBalancing']>,
  src: Workload,
): Endpoint[] {
  if (lb.mode !== 'Strict' && lb.mode !== 'Failover') return [...endpoints];
  const prefs = lb.routingPreference;
  const networkFirst = prefs[0] === 'NETWORK';
  const ranks: { rank: number; ep: Endpoint }[] = [];
  for (const ep of endpoints) {
    const wl = ep.workload;
    let rank = 0;
    let bonus = 0;
    for (const scope of prefs) {
      let same: boolean;
      switch (scope) {
        case 'REGION':
          same = src.locality.region === wl.locality.region;
          break;
        case 'ZONE':
          same = src.locality.zone === wl.locality.zone;
          break;
        case 'SUBZONE':
          same = src.locality.subzone === wl.locality.subzone;
          break;
        case 'NODE':
          same = src.node === wl.node;
          break;
        case 'CLUSTER':
          same = src.clusterId === wl.clusterId;
          break;
        case 'NETWORK':
          same = src.network === wl.network;
          if (networkFirst) {
            if (!same) continue;
            bonus = prefs.length - 1;
          }
          break;
      }
      if (!same) break;
      rank++;
    }
    if (lb.mode === 'Strict' && rank !== prefs.length) continue;
    ranks.push({ rank: rank + bonus, ep });
  }
  const best = Math.max(...ranks.map((r) => r.rank));
  return ranks.filter((r) => r.rank === best).map((r) => r.ep);
}

/** The weighted choice of weightedChoice, by binary search over running totals. */
function cumulativeChoice(
  endpoints: readonly Endpoint[],
  cumulative: readonly number[],
  random: () => number,
): Endpoint | undefined {
  const total = cumulative.at(-1) ?? 0;
  if (total <= 0) return undefined;
  const point = random() * total;
  let lo = 0;
  let hi = cumulative.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cumulative[mid]! > point) hi = mid;
    else lo = mid + 1;
  }
  return lo < endpoints.length
    ? endpoints[lo]
    : endpoints.findLast((ep) => ep.workload.capacity > 0);
}

function weightedChoice(
  endpoints: readonly Endpoint[],
  random: () => number,
): Endpoint | undefined {
  const total = endpoints.reduce((sum, ep) => sum + ep.workload.capacity, 0);
  if (total <= 0) return undefined;
  let point = random() * total;
  for (const ep of endpoints) {
    point -= ep.workload.capacity;
    if (point < 0) return ep;
  }
  return endpoints.findLast((ep) => ep.workload.capacity > 0);
}
