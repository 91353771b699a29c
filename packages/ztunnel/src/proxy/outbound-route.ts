// Where an outbound connection goes, decided from the state store alone (no I/O): HBONE to the
// destination workload, HBONE to a waypoint with the original target as :authority (the
// service's waypoint for a service VIP, the workload's for its own IP), plain TCP
// passthrough for destinations outside the mesh, or a refusal with a reason.
import type { StateStore } from '../state/store.js';
import { workloadSpiffeId, type Service, type Workload } from '../state/model.js';

export interface Endpoint {
  readonly address: string;
  readonly port: number;
}

export type OutboundRoute =
  | {
      readonly kind: 'hbone';
      /** The HBONE server to dial: the destination pod, or a waypoint. */
      readonly hbone: Endpoint;
      /** The SPIFFE ID that server must present. */
      readonly identity: string;
      /** The :authority: where the last hop delivers. */
      readonly target: Endpoint;
      readonly destination?: Workload;
      readonly service?: Service;
      /** Set when the HBONE server is a waypoint. */
      readonly waypoint?: Workload;
    }
  | {
      readonly kind: 'passthrough';
      readonly target: Endpoint;
      readonly destination?: Workload;
      readonly service?: Service;
    }
  | { readonly kind: 'refuse'; readonly reason: string; readonly service?: Service };

export function routeOutbound(
  store: StateStore,
  dst: Endpoint,
  opts: { readonly source?: Workload; readonly hbonePort: number; readonly network?: string },
): OutboundRoute {
  const lookup = opts.network !== undefined ? { network: opts.network } : {};
  const service = store.serviceByVip(dst.address, lookup);
  if (service) {
    const viaWaypoint = toWaypoint(store, service, dst, opts.source);
    if (viaWaypoint) return { ...viaWaypoint, service };
    const pick = store.pickEndpoint(service, dst.port, opts.source ? { source: opts.source } : {});
    if (pick.kind === 'passthrough') return { kind: 'passthrough', target: dst, service };
    if (pick.kind === 'none') return { kind: 'refuse', reason: pick.reason, service };
    const target = { address: pick.address, port: pick.port };
    // The endpoint's own (workload) waypoint is for traffic addressed to the workload, not to
    // its service (upstream ztunnel: a `waypoint-for: workload` waypoint sees pod IPs only).
    const route = toWorkload(store, pick.workload, target, { ...opts, serviceAddressed: true });
    return route.kind === 'refuse' ? route : { ...route, service };
  }
  const workload = store.workloadByAddr(dst.address, lookup);
  if (!workload) return { kind: 'passthrough', target: dst };
  return toWorkload(store, workload, dst, opts);
}

function toWorkload(
  store: StateStore,
  workload: Workload,
  target: Endpoint,
  opts: {
    readonly source?: Workload;
    readonly hbonePort: number;
    readonly serviceAddressed?: boolean;
  },
): OutboundRoute {
  const viaWaypoint = opts.serviceAddressed
    ? undefined
    : toWaypoint(store, workload, target, opts.source);
  if (viaWaypoint?.kind === 'hbone') return { ...viaWaypoint, destination: workload };
  if (viaWaypoint) return viaWaypoint;
  if (workload.protocol === 'TCP') return { kind: 'passthrough', target, destination: workload };
  return {
    kind: 'hbone',
    hbone: { address: target.address, port: opts.hbonePort },
    identity: workloadSpiffeId(workload),
    target,
    destination: workload,
  };
}

/** The HBONE hop to the waypoint of `of`, when it has one. */
function toWaypoint(
  store: StateStore,
  of: Workload | Service,
  target: Endpoint,
  source: Workload | undefined,
): OutboundRoute | undefined {
  const wp = store.waypointFor(of);
  if (!wp) return undefined;
  // A waypoint's own traffic to its destinations must not loop back into it.
  if (source && wp.workload?.uid === source.uid) return undefined;
  if (source && wp.service && source.services[`${wp.service.namespace}/${wp.service.hostname}`])
    return undefined;
  let waypoint: Workload;
  let hbone: Endpoint;
  if (wp.workload) {
    const address = wp.workload.addresses[0];
    if (address === undefined)
      return { kind: 'refuse', reason: 'waypoint workload has no address' };
    waypoint = wp.workload;
    hbone = { address, port: wp.gateway.hbonePort };
  } else if (wp.service) {
    const pick = store.pickEndpoint(wp.service, wp.gateway.hbonePort, {
      waypoint: true,
      ...(source ? { source } : {}),
    });
    if (pick.kind !== 'endpoint')
      return {
        kind: 'refuse',
        reason: `waypoint ${wp.service.namespace}/${wp.service.hostname} has no endpoint${pick.kind === 'none' ? `: ${pick.reason}` : ''}`,
      };
    waypoint = pick.workload;
    hbone = { address: pick.address, port: pick.port };
  } else {
    return { kind: 'refuse', reason: 'waypoint not found in the state store' };
  }
  return { kind: 'hbone', hbone, identity: workloadSpiffeId(waypoint), target, waypoint };
}
