// Lookups the status functions share, built once per snapshot. Pure.
import type { MeshState } from '../collections/mesh-state.js';
import type { Gateway } from '../model/gateway-api.js';
import type { ClusterSnapshot, Service } from '../model/kube.js';

export interface StatusContext {
  /** Service objects by `<namespace>/<name>` (a waypoint's cluster IP). */
  readonly services: ReadonlyMap<string, Service>;
  readonly state: MeshState;
  /** Gateway classes this controller deploys and reports on. */
  readonly waypointClasses: readonly string[];
  /** RFC 3339 time for new transitions. */
  readonly now: string;
}

const key = (o: { metadata?: { namespace?: string; name?: string } }) =>
  `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

export function statusContext(
  cluster: ClusterSnapshot,
  state: MeshState,
  now: Date,
): StatusContext {
  return {
    services: new Map(cluster.services.map((s) => [key(s), s])),
    state,
    waypointClasses: state.options.waypointClasses,
    now: now.toISOString(),
  };
}

export function isWaypointClass(
  gw: Gateway | undefined,
  ctx: Pick<StatusContext, 'waypointClasses'>,
): boolean {
  return gw !== undefined && ctx.waypointClasses.includes(gw.spec.gatewayClassName);
}
