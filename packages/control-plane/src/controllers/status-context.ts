// Lookups the status functions share, built once per snapshot. Pure.
import type { MeshState } from '../collections/mesh-state.js';
import type { ClusterSnapshot, Gateway, Namespace, Service } from '../model/kube.js';

export interface StatusContext {
  readonly gateways: ReadonlyMap<string, Gateway>;
  readonly services: ReadonlyMap<string, Service>;
  readonly namespaces: ReadonlyMap<string, Namespace>;
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
    gateways: new Map(cluster.gateways.map((g) => [key(g), g])),
    services: new Map(cluster.services.map((s) => [key(s), s])),
    namespaces: new Map(cluster.namespaces.map((n) => [n.metadata?.name ?? '', n])),
    state,
    waypointClasses: state.options.waypointClasses,
    now: now.toISOString(),
  };
}

export function isWaypointClass(
  gw: Gateway | undefined,
  ctx: Pick<StatusContext, 'waypointClasses'>,
): boolean {
  return gw !== undefined && ctx.waypointClasses.includes(gw.spec?.gatewayClassName ?? '');
}
