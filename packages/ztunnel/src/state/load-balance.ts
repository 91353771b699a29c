// Picks the endpoint of a service a new connection goes to, as ztunnel does: healthy endpoints
// only (unless the service allows all), routing preferences ranked against the source workload,
// a weighted random choice by capacity, and the target port from the endpoint's own mapping,
// else the service's. Pure: the random source is passed in.
import type { PortMapping, Service, Workload } from './model.js';

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

export function pickEndpoint(
  service: Service,
  servicePort: number,
  endpoints: readonly Endpoint[],
  opts: PickOptions = {},
): EndpointPick {
  const name = `${service.namespace}/${service.hostname}`;
  const lb = service.loadBalancing;
  if (lb?.mode === 'Passthrough') return { kind: 'passthrough' };
  const svcPort = service.ports.find((p) => p.servicePort === servicePort);
  if (!svcPort && !opts.waypoint) {
    return { kind: 'none', reason: `service ${name} has no port ${servicePort}` };
  }

  const usable = endpoints.filter(({ workload, ports }) => {
    if (workload.addresses.length === 0) return false;
    if (workload.status !== 'Healthy' && lb?.healthPolicy !== 'AllowAll') return false;
    if (opts.waypoint) return svcPort !== undefined || workload.applicationTunnel !== undefined;
    return svcPort!.targetPort !== 0 || mappedPort(ports, servicePort) !== undefined;
  });
  const ranked = lb && opts.source ? bestRanked(usable, lb, opts.source) : usable;
  const chosen = weightedChoice(ranked, opts.random ?? Math.random);
  if (!chosen) {
    return {
      kind: 'none',
      reason: `service ${name} has no healthy endpoint for port ${servicePort}`,
    };
  }

  const port =
    mappedPort(chosen.ports, servicePort) ??
    (svcPort && svcPort.targetPort !== 0 ? svcPort.targetPort : undefined) ??
    (chosen.workload.applicationTunnel?.port !== undefined ? servicePort : undefined);
  if (port === undefined) {
    return {
      kind: 'none',
      reason: `service ${name}: no target port known for port ${servicePort}`,
    };
  }
  return {
    kind: 'endpoint',
    workload: chosen.workload,
    address: chosen.workload.addresses[0],
    port,
  };
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
